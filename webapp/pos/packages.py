"""Office: the packages of reference data built for the registers from the change log (POS-2).

``change_log`` is filled by triggers in the same transaction as each change (0009_pos.sql). A
register's next package holds the rows changed since the ``to_seq`` of the last package it
**acknowledged**, or everything (``full``) when it never acknowledged one. Whether a changed key
is an upsert or a delete is decided by what exists when the package is built, not by the logged
operation: a row created then deleted travels as a delete, a row deleted then created again as an
upsert, and a renamed code as a delete of the old code plus an upsert of the new one.

A package is read in one snapshot (a read transaction), so its rows are exactly the state at its
``to_seq``. The JSON is written piece by piece into a zlib stream and a SHA-256: even a full
package of 100,000 articles is never held twice in memory, and only the changed keys are read
for a differential one (``DISTINCT key`` over the log range, then the rows in chunks by code:
:mod:`webapp.pos.package_rows`).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from webapp import settings
from webapp.clock import now_iso
from webapp.i18n import N_, N_plural
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.pos import protocol
from webapp.pos.package_rows import SOURCES, all_rows, changed_keys, present
from webapp.store import Store, one, rows

JOB_NAME = "export_caisseauto"


@dataclass(frozen=True)
class BuiltPackage:
    register_id: int
    number: int
    full: bool
    from_seq: int
    to_seq: int
    size: int
    sha256: str
    upserts: int
    deletes: int


# --- Writing the JSON ------------------------------------------------------------------------


class _Sink:
    """The package JSON as it is written: compressed, hashed and measured on the way."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(6)
        self._hash = hashlib.sha256()
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.size += len(data)
        self._hash.update(data)
        self._parts.append(self._compressor.compress(data))

    def close(self) -> tuple[bytes, str]:
        self._parts.append(self._compressor.flush())
        return b"".join(self._parts), self._hash.hexdigest()


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write_list(sink: _Sink, name: str, items: Iterable[Any], first: bool) -> int:
    sink.write(("" if first else ",") + _dump(name) + ":[")
    count = 0
    for item in items:
        sink.write(("," if count else "") + _dump(item))
        count += 1
    sink.write("]")
    return count


@dataclass
class _Counts:
    upserts: int = 0
    deletes: int = 0


def _write_body(
    db: Database,
    sink: _Sink,
    register_id: int,
    full: bool,
    span: tuple[int, int],
    counts: _Counts,
) -> None:
    deletes: dict[str, list[str]] = {name: [] for name in protocol.DELETABLE}
    sink.write(',"upserts":{')
    for index, source in enumerate(SOURCES):
        if full:
            found: Iterable[dict[str, Any]] = all_rows(db, source, register_id)
        else:
            keys = changed_keys(db, source.name, *span)
            found = present(db, source, keys, register_id, deletes)
        counts.upserts += _write_list(sink, source.name, found, index == 0)
    sink.write('},"deletes":{')
    for index, name in enumerate(protocol.DELETABLE):
        counts.deletes += _write_list(sink, name, deletes[name], index == 0)
    sink.write("}}")


# --- Building --------------------------------------------------------------------------------


def last_seq(db: Database) -> int:
    row = one(db, "SELECT coalesce(max(seq), 0) AS seq FROM change_log")
    return int(row["seq"]) if row else 0


def _register_number(db: Database, register_id: int) -> int:
    row = one(db, "SELECT number FROM pos_registers WHERE id = ?", [register_id])
    if row is None:
        raise ValueError(f"register {register_id} does not exist")
    return int(row["number"])


def _last_acked_seq(db: Database, register_id: int) -> int | None:
    row = one(
        db,
        "SELECT to_seq FROM pos_packages WHERE register_id = ? AND acked_at IS NOT NULL"
        " ORDER BY number DESC LIMIT 1",
        [register_id],
    )
    return None if row is None else int(row["to_seq"])


def _last_built_seq(db: Database, register_id: int) -> int | None:
    row = one(
        db,
        "SELECT to_seq FROM pos_packages WHERE register_id = ? ORDER BY number DESC LIMIT 1",
        [register_id],
    )
    return None if row is None else int(row["to_seq"])


@dataclass(frozen=True)
class _Draft:
    number: int
    full: bool
    from_seq: int
    to_seq: int
    body: bytes
    size: int
    sha256: str
    created_at: str
    counts: _Counts


def _next_number(db: Database, register_id: int) -> int:
    row = one(
        db,
        "SELECT coalesce(max(number), 0) + 1 AS next FROM pos_packages WHERE register_id = ?",
        [register_id],
    )
    return int(row["next"]) if row else 1


def _draft(db: Database, register_id: int, force_full: bool) -> _Draft:
    """The package's JSON, read in the snapshot the caller's read transaction holds."""
    acked = None if force_full else _last_acked_seq(db, register_id)
    full = acked is None
    from_seq, to_seq = (0 if acked is None else acked), last_seq(db)
    number = _next_number(db, register_id)
    created_at = now_iso()
    header = {
        "protocol": protocol.PROTOCOL,
        "register": _register_number(db, register_id),
        "number": number,
        "full": full,
        "from_seq": from_seq,
        "to_seq": to_seq,
        "created_at": created_at,
    }
    sink = _Sink()
    counts = _Counts()
    sink.write(_dump(header)[:-1])
    _write_body(db, sink, register_id, full, (from_seq, to_seq), counts)
    body, digest = sink.close()
    return _Draft(number, full, from_seq, to_seq, body, sink.size, digest, created_at, counts)


def build_package(
    store: Store, register_id: int, *, force_full: bool = False
) -> BuiltPackage | None:
    """The register's next package, when the log moved past the last one built (or ``force_full``:
    a register that lost its data asks for everything again). None when nothing changed."""
    for _attempt in range(3):
        with store.read() as db:
            db.execute("BEGIN")  # one snapshot: the rows are exactly the state at to_seq
            try:
                built = _last_built_seq(db, register_id)
                if not force_full and built is not None and last_seq(db) <= built:
                    return None
                draft = _draft(db, register_id, force_full)
            finally:
                db.execute("COMMIT")
        if _store_package(store, register_id, draft):
            return BuiltPackage(
                register_id,
                draft.number,
                draft.full,
                draft.from_seq,
                draft.to_seq,
                draft.size,
                draft.sha256,
                draft.counts.upserts,
                draft.counts.deletes,
            )
    return None  # other builds kept taking the number: theirs are as recent as this one


def _store_package(store: Store, register_id: int, draft: _Draft) -> bool:
    """Store the draft under its number, unless a concurrent build took that number first."""
    with store.write() as db:
        if _next_number(db, register_id) != draft.number:
            return False
        db.execute(
            "INSERT INTO pos_packages (register_id, number, full, from_seq, to_seq, body, size,"
            " sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                register_id,
                draft.number,
                int(draft.full),
                draft.from_seq,
                draft.to_seq,
                draft.body,
                draft.size,
                draft.sha256,
                draft.created_at,
            ],
        )
    return True


def active_registers(store: Store, company_id: int | None = None) -> list[dict[str, Any]]:
    """Active registers (of one company, or all), ordered by company then number."""
    sql = (
        "SELECT r.id, r.number, r.label, c.code AS company FROM pos_registers r"
        " JOIN companies c ON c.id = r.company_id WHERE r.active = 1"
    )
    params: list[Any] = []
    if company_id is not None:
        sql += " AND r.company_id = ?"
        params.append(company_id)
    with store.read() as db:
        return rows(db, sql + " ORDER BY c.code, r.number", params)


def build_all(store: Store, context: RunContext | None = None) -> list[BuiltPackage]:
    """A package for each active register of each company whose data moved since its last one."""
    registers = active_registers(store)
    built: list[BuiltPackage] = []
    for done, register in enumerate(registers):
        if context is not None:
            context.check_stop()
            context.progress(done, len(registers), f"{register['company']} #{register['number']}")
        package = build_package(store, int(register["id"]))
        if package is None:
            continue
        built.append(package)
        if context is not None:
            context.item(
                "package",
                "done",
                f"{register['company']}/{register['number']}/{package.number}",
                N_(
                    "Package {number} for register {register}: {upserts} rows, {deletes} deletions"
                    " ({size} bytes)."
                ),
                number=package.number,
                register=register["number"],
                upserts=package.upserts,
                deletes=package.deletes,
                size=package.size,
            )
    if context is not None:
        context.progress(len(registers), len(registers))
    return built


def export_job(context: RunContext) -> Summary:
    if settings.read_value(context.store, protocol.ROLE_SETTING, "office") == "register":
        # A register holds copies of the office's data: it builds no packages of its own.
        return Summary(N_("This data folder is a cash register: no package to build."))
    built = build_all(context.store, context)
    return Summary(
        N_plural("{count} package built.", "{count} packages built."), {"count": len(built)}
    )


PACKAGE_EXPORT = JobSpec(
    name=JOB_NAME,
    title=N_("Cash register packages"),
    description=N_(
        "Builds for each active cash register the package of what changed in the back office"
        " since the last package it acknowledged: articles, prices, customers, users, payment"
        " methods and its settings."
    ),
    func=export_job,
    default_trigger=("interval", "5"),
)
