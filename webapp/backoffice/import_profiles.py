"""Named column mappings of the back-office import, one set per kind: "Export caisse Lightspeed".

Saved from the mapping step of the browser import, chosen again for the next file (the profile
whose headings are the file's is pre-selected), and named on the command line with --profile.
A profile always holds a mapping the importer can read (webapp/backoffice/import_mapping.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp import clock, store
from webapp.backoffice import import_mapping
from webapp.backoffice.columns import KINDS
from webapp.i18n import N_, UserError
from webapp.store import Store

MAX_NAME = 80


class ProfileProblem(UserError):
    """A profile cannot be saved or found: no name, an unknown one, a mapping that does not fit."""


@dataclass(frozen=True)
class Profile:
    id: int
    kind: str
    name: str
    columns: dict[str, str]  # normalised heading → field, or IGNORE
    updated_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Profile:
        columns = json.loads(row["columns_json"])
        return cls(row["id"], row["kind"], row["name"], columns, row["updated_at"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "columns": self.columns,
            "updated_at": self.updated_at,
        }


_SELECT = "SELECT id, kind, name, columns_json, updated_at FROM import_profiles"


def profiles(db_store: Store, kind: str | None = None) -> list[Profile]:
    """The profiles of a kind (or all), by kind then name."""
    where, params = (" WHERE kind = ?", [kind]) if kind else ("", [])
    with db_store.read() as db:
        found = store.rows(db, f"{_SELECT}{where} ORDER BY kind, name COLLATE NOCASE", params)
    return [Profile.from_row(row) for row in found]


def get(db_store: Store, profile_id: int) -> Profile | None:
    with db_store.read() as db:
        row = store.one(db, f"{_SELECT} WHERE id = ?", [profile_id])
    return Profile.from_row(row) if row else None


def named(db_store: Store, kind: str, name: str) -> Profile:
    """The kind's profile of that name; ProfileProblem listing the existing ones if none."""
    with db_store.read() as db:
        row = store.one(db, f"{_SELECT} WHERE kind = ? AND name = ?", [kind, name.strip()])
    if row is not None:
        return Profile.from_row(row)
    existing = ", ".join(profile.name for profile in profiles(db_store, kind)) or "-"
    raise ProfileProblem(
        N_("No profile named {name} for {kind}. The profiles: {names}."),
        name=name,
        kind=kind,
        names=existing,
    )


def save(db_store: Store, kind: str, name: str, columns: Mapping[str, str]) -> int:
    """Create or replace the kind's profile of that name; its id. ProfileProblem (or the
    mapping's MappingProblem) when it cannot be saved: nothing is written then."""
    name = " ".join(name.split())
    if kind not in KINDS:
        raise ProfileProblem(N_("Choose what the file holds."))
    if not name:
        raise ProfileProblem(N_("Give the profile a name."))
    if len(name) > MAX_NAME:
        raise ProfileProblem(N_("A profile name is at most {limit} characters."), limit=MAX_NAME)
    import_mapping.check(KINDS[kind], columns)
    now = clock.now_iso()
    text = json.dumps(dict(columns), ensure_ascii=False, sort_keys=True)
    with db_store.write() as db:
        db.execute(
            "INSERT INTO import_profiles (kind, name, columns_json, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, name)"
            " DO UPDATE SET columns_json = excluded.columns_json, updated_at = excluded.updated_at",
            [kind, name, text, now, now],
        )
        row = db.execute(
            "SELECT id FROM import_profiles WHERE kind = ? AND name = ?", [kind, name]
        ).fetchone()
    return int(row[0])


def delete(db_store: Store, profile_id: int) -> bool:
    """Remove a profile; False if there was none."""
    with db_store.write() as db:
        cursor: sqlite3.Cursor = db.execute(
            "DELETE FROM import_profiles WHERE id = ?", [profile_id]
        )
        return cursor.rowcount > 0


def matching(found: Iterable[Profile], headings: Iterable[str]) -> Profile | None:
    """The profile made for these headings (normalised; the same set), the latest saved first."""
    wanted = set(headings)
    fits = [profile for profile in found if set(profile.columns) == wanted]
    return max(fits, key=lambda profile: profile.updated_at, default=None)
