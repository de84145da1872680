"""Moving the delivered files after the subfolder template changed.

A new template only decides where the next files go; the files already delivered stay where they
are until the user asks to move them. `plan` compares each delivery record's path with the one the
current template gives it; `move_files` moves them one by one, each in two steps:

1. the file: `os.replace` on the same volume, or a copy (fsync) then a rename then the removal of
   the old one across volumes. An existing file at the new place is never overwritten: the same
   bytes there only update the record; different bytes are a conflict, reported and left alone;
2. its record and its history item, in one transaction.

A crash between the two leaves the file at its new place and its record at the old one; the next
plan sees that file (the same bytes as recorded) and the next move only updates the record, so
nothing is lost and no file is written twice.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from webapp import history
from webapp.files import atomic_open, fsync_dir
from webapp.i18n import N_, UserError
from webapp.scrada import config as scrada_config
from webapp.scrada.delivery import same_bytes
from webapp.scrada.paths import PathValues, TemplateError, target_path
from webapp.store import Store, rows

log = logging.getLogger(__name__)

JOB_NAME = "scrada_move"
MOVED, SAME, CONFLICT, MISSING, FAILED = "moved", "same", "conflict", "missing", "failed"
ITEM_STATUS = {MOVED: "done", SAME: "done", CONFLICT: "error", MISSING: "skipped", FAILED: "error"}
ITEM_MESSAGES = {
    MOVED: N_("Moved from {old} to {new}."),
    SAME: N_("Already at {new}: only its record changed (it was at {old})."),
    CONFLICT: N_("Not moved: another file is already at {new}. It stays at {old}."),
    MISSING: N_("Not moved: the file is no longer at {old}."),
    FAILED: N_("Not moved from {old} to {new}: {reason}"),
}


BUSY = N_("A synchronisation or another move is under way: try again when it has finished.")


class MoveRefused(UserError):
    """The move cannot start (no root folder, a pull writing at the same time)."""


@dataclass(frozen=True)
class Move:
    delivery_id: int
    old: str  # relative to the root, as recorded
    new: str
    sha256: str


@dataclass
class MoveReport:
    run_id: int
    outcomes: dict[str, int]

    def count(self, outcome: str) -> int:
        return self.outcomes.get(outcome, 0)


_DELIVERED = (
    "SELECT d.id, d.path, d.sha256, d.document_date, d.document_id, d.book_kind, d.book_id,"
    " coalesce(c.company_number, '') AS company_number, coalesce(c.name, '') AS company_name,"
    " d.company_id, coalesce(b.name, d.book_id) AS book_name"
    " FROM scrada_deliveries d"
    " LEFT JOIN scrada_companies c ON c.id = d.company_id"
    " LEFT JOIN scrada_books b ON b.company_id = d.company_id AND b.kind = d.book_kind"
    "  AND b.id = d.book_id"
    " WHERE d.state = 'delivered' AND d.document_date IS NOT NULL ORDER BY d.id"
)


def plan(store: Store, root: Path, template: str) -> list[Move]:
    """Every delivered file whose recorded place is not where `template` puts it now."""
    base = root.resolve()
    with store.read() as db:
        found = rows(db, _DELIVERED, [])
    moves: list[Move] = []
    for row in found:
        new = _new_path(base, template, row)
        if new is not None and new != row["path"]:
            moves.append(Move(int(row["id"]), str(row["path"]), new, str(row["sha256"])))
    return moves


def _new_path(base: Path, template: str, row: dict[str, Any]) -> str | None:
    values = PathValues(
        company_number=row["company_number"],
        company_name=row["company_name"],
        company_id=row["company_id"],
        book=row["book_name"],
        book_kind=row["book_kind"],
        day=date.fromisoformat(str(row["document_date"])[:10]),
    )
    try:
        target = target_path(base, template, values, str(row["document_id"]))
    except TemplateError:
        return None  # a path that cannot fit: the file stays where it is
    if str(row["path"]).lower().endswith(".pdf"):  # delivery.named_for kept a PDF's extension
        target = target.with_suffix(".pdf")
    return target.relative_to(base).as_posix()


def configured(store: Store, data_dir: Any) -> tuple[Path, str]:
    """The root folder and the template the files should follow; MoveRefused without a root."""
    config = scrada_config.load(store)
    root = config.root_in(data_dir)
    if root is None:
        raise MoveRefused(N_("Choose the root folder first."))
    return root, config.template


def move_files(
    store: Store, root: Path, template: str, *, mover: Callable[[Path, Path], None] | None = None
) -> MoveReport:
    """Move every planned file, each recorded in the history run "Moving the Scrada files"."""
    moves = plan(store, root, template)
    run_id = history.start_run(store, JOB_NAME, "manual")
    outcomes: dict[str, int] = {}
    base = root.resolve()
    try:
        for move in moves:
            outcome, reason = _move_one(base, move, mover or move_file)
            _record(store, run_id, move, outcome, reason)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    except BaseException:
        history.finish_run(store, run_id, "failed", N_("The move stopped before its end."))
        raise
    _finish(store, run_id, len(moves), outcomes)
    return MoveReport(run_id, outcomes)


def _move_one(base: Path, move: Move, mover: Callable[[Path, Path], None]) -> tuple[str, str]:
    old, new = base / move.old, base / move.new
    if not new.resolve().is_relative_to(base) or not old.resolve().is_relative_to(base):
        return FAILED, "outside the root folder"
    try:
        if new.exists():
            if not same_bytes(new, move.sha256):
                return CONFLICT, ""
            if old.exists() and same_bytes(old, move.sha256):
                old.unlink()  # the copy left by a crash between the copy and the removal
            return SAME, ""
        if not old.is_file():
            return MISSING, ""
        mover(old, new)
    except OSError as exc:
        log.warning("scrada move of %s to %s failed: %s", old, new, exc)
        return FAILED, exc.strerror or str(exc)
    return MOVED, ""


def move_file(old: Path, new: Path) -> None:
    """`old` to `new`, atomically: a rename on one volume, else copy, fsync, rename, remove."""
    new.parent.mkdir(parents=True, exist_ok=True)
    if os.stat(old).st_dev == os.stat(new.parent).st_dev:
        if new.exists():  # checked again at the last moment: never overwrite
            raise FileExistsError(17, "a file is already there", str(new))
        os.replace(old, new)
        fsync_dir(new.parent)
        return
    with old.open("rb") as source, atomic_open(new) as target:
        shutil.copyfileobj(source, target)
    old.unlink()


def _record(store: Store, run_id: int, move: Move, outcome: str, reason: str) -> None:
    changed = outcome in (MOVED, SAME)
    with store.write() as db:
        if changed:
            db.execute(
                "UPDATE scrada_deliveries SET path = ? WHERE id = ?", [move.new, move.delivery_id]
            )
        history.insert_item(
            db,
            run_id,
            JOB_NAME,
            kind="file",
            status=ITEM_STATUS[outcome],
            reference=move.new if changed else move.old,
            message=ITEM_MESSAGES[outcome],
            params={"old": move.old, "new": move.new, "reason": reason},
        )


def _finish(store: Store, run_id: int, total: int, outcomes: dict[str, int]) -> None:
    moved = outcomes.get(MOVED, 0) + outcomes.get(SAME, 0)
    problems = outcomes.get(CONFLICT, 0) + outcomes.get(FAILED, 0)
    status = "warning" if problems else "success"
    message = N_("{moved} of {total} files moved, {problems} not moved.")
    history.finish_run(
        store, run_id, status, message, {"moved": moved, "total": total, "problems": problems}
    )
