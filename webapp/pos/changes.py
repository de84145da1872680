"""Office: packages of reference data for the registers, read from the change log (POS-2).

``change_log`` is filled by triggers in the same transaction as each change (0009_pos.sql). A
register's next package holds the rows changed since the ``to_seq`` of the last package it
**acknowledged**, or everything (``full``) when it never acknowledged one. Whether a changed key
is an upsert or a delete is decided by what exists when the package is built, not by the logged
operation: a row created then deleted travels as a delete, a row deleted then created again as an
upsert, and a renamed code as a delete of the old code plus an upsert of the new one.

A package is read in one snapshot (a read transaction), so its rows are exactly the state at its
``to_seq``. The JSON is written piece by piece into a zlib stream and a SHA-256: even a full
package of 100,000 articles is never held twice in memory, and only the changed keys are read
for a differential one (``DISTINCT key`` over the log range, then the rows in chunks by code).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from webapp.clock import now_iso
from webapp.i18n import N_
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.pos import protocol
from webapp.store import Store

JOB_NAME = "export_caisseauto"
CHUNK = 500
PRICE_STEP = Decimal("0.0001")

# Each entity's rows in their wire shape (docs/pos.md). ``{where}`` is filled with a filter on the
# key; the key column is the first one. Prices are those of the default price category.
_ARTICLES = (
    "SELECT a.code, a.label, a.barcode, u.code AS unit, v.code AS vat_code, v.rate AS vat_rate,"
    " p.price_excl_vat, f.code AS family, a.active FROM articles a"
    " JOIN units u ON u.id = a.unit_id JOIN vat_rates v ON v.id = a.vat_rate_id"
    " LEFT JOIN article_families f ON f.id = a.family_id"
    " LEFT JOIN article_prices p ON p.article_id = a.id AND p.price_category_id ="
    " (SELECT id FROM price_categories ORDER BY is_default DESC, id LIMIT 1)"
    " WHERE {where} ORDER BY a.code"
)
_CUSTOMERS = (
    "SELECT p.code, p.last_name, p.first_name, p.company, p.email, p.phone, p.address,"
    " p.postcode, p.city, p.country, p.vat_number FROM parties p"
    " WHERE p.kind = 'customer' AND {where} ORDER BY p.code"
)
_USERS = (
    "SELECT u.code, u.name, u.active,"
    " (SELECT json_group_array(r.number) FROM (SELECT r.number FROM pos_user_registers ur"
    " JOIN pos_registers r ON r.id = ur.register_id WHERE ur.user_id = u.id ORDER BY r.number) r)"
    " AS registers FROM pos_users u WHERE {where} ORDER BY u.code"
)
_PAYMENT_METHODS = (
    "SELECT m.code, m.label, m.is_cash, m.active FROM payment_methods m"
    " WHERE {where} ORDER BY m.code"
)
_VAT_RATES = (
    "SELECT v.code, v.label, v.rate, v.country FROM vat_rates v WHERE {where} ORDER BY v.code"
)
_UNITS = "SELECT n.code, n.label, n.decimals FROM units n WHERE {where} ORDER BY n.code"
_REGISTERS = (
    "SELECT CAST(r.number AS TEXT) AS number, r.label, r.ticket_prefix, r.active"
    " FROM pos_registers r WHERE r.id = :register_id AND {where}"
)


@dataclass(frozen=True)
class EntitySource:
    name: str
    sql: str
    key_column: str


SOURCES = (
    EntitySource("articles", _ARTICLES, "a.code"),
    EntitySource("customers", _CUSTOMERS, "p.code"),
    EntitySource("users", _USERS, "u.code"),
    EntitySource("payment_methods", _PAYMENT_METHODS, "m.code"),
    EntitySource("vat_rates", _VAT_RATES, "v.code"),
    EntitySource("units", _UNITS, "n.code"),
    EntitySource("registers", _REGISTERS, "CAST(r.number AS TEXT)"),
)


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


# --- Shapes ----------------------------------------------------------------------------------


def _decimal_text(value: Any) -> str:
    """A rate or a count without exponent or trailing zeros: 20, 5.5."""
    number = Decimal(str(value)).normalize()
    return protocol.amount(
        number.quantize(Decimal(1)) if number == number.to_integral() else number
    )


def _price(value: Any) -> str | None:
    if value is None:
        return None
    return protocol.amount(Decimal(str(value)).quantize(PRICE_STEP))


def _shape(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    if entity == "articles":
        row["vat_rate"] = _decimal_text(row["vat_rate"])
        row["price_excl_vat"] = _price(row["price_excl_vat"])
        row["active"] = bool(row["active"])
    elif entity == "users":
        row["active"] = bool(row["active"])
        row["registers"] = json.loads(row["registers"] or "[]")
    elif entity == "payment_methods":
        row["is_cash"] = bool(row["is_cash"])
        row["active"] = bool(row["active"])
    elif entity == "vat_rates":
        row["rate"] = _decimal_text(row["rate"])
    elif entity == "registers":
        row["number"] = int(row["number"])
        row["active"] = bool(row["active"])
    return row


def _rows(db: Database, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    while batch := cursor.fetchmany(CHUNK):
        for row in batch:
            yield dict(zip(names, row, strict=True))


def _all_rows(db: Database, source: EntitySource, register_id: int) -> Iterator[dict[str, Any]]:
    sql = source.sql.format(where="1 = 1")
    for row in _rows(db, sql, {"register_id": register_id}):
        yield _shape(source.name, row)


def _changed_keys(db: Database, entity: str, from_seq: int, to_seq: int) -> list[str]:
    cursor = db.execute(
        "SELECT DISTINCT key FROM change_log WHERE entity = ? AND seq > ? AND seq <= ?",
        [entity, from_seq, to_seq],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def _rows_for_keys(
    db: Database, source: EntitySource, keys: Sequence[str], register_id: int
) -> Iterator[dict[str, Any]]:
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        names = {f"k{index}": key for index, key in enumerate(chunk)}
        where = f"{source.key_column} IN ({', '.join(':' + name for name in names)})"
        params = {"register_id": register_id, **names}
        for row in _rows(db, source.sql.format(where=where), params):
            yield _shape(source.name, row)


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
            rows: Iterable[dict[str, Any]] = _all_rows(db, source, register_id)
        else:
            keys = _changed_keys(db, source.name, *span)
            rows = _present(db, source, keys, register_id, deletes)
        counts.upserts += _write_list(sink, source.name, rows, index == 0)
    sink.write('},"deletes":{')
    for index, name in enumerate(protocol.DELETABLE):
        counts.deletes += _write_list(sink, name, deletes[name], index == 0)
    sink.write("}}")


def _present(
    db: Database,
    source: EntitySource,
    keys: list[str],
    register_id: int,
    deletes: dict[str, list[str]],
) -> Iterator[dict[str, Any]]:
    """The rows of ``keys`` that exist; the others become deletes (of the entities that have them)."""
    missing = {key.casefold(): key for key in keys}
    for row in _rows_for_keys(db, source, keys, register_id):
        key = str(row["number"] if source.name == "registers" else row["code"])
        missing.pop(key.casefold(), None)
        yield row
    if source.name in deletes:
        deletes[source.name].extend(sorted(missing.values()))


# --- Building --------------------------------------------------------------------------------


def _one(db: Database, sql: str, params: Sequence[Any]) -> Any:
    row = db.execute(sql, list(params)).fetchone()
    return None if row is None else row[0]


def last_seq(db: Database) -> int:
    return int(_one(db, "SELECT max(seq) FROM change_log", []) or 0)


def _register_number(db: Database, register_id: int) -> int:
    number = _one(db, "SELECT number FROM pos_registers WHERE id = ?", [register_id])
    if number is None:
        raise ValueError(f"register {register_id} does not exist")
    return int(number)


def _last_acked_seq(db: Database, register_id: int) -> int | None:
    return _one(  # type: ignore[no-any-return]
        db,
        "SELECT to_seq FROM pos_packages WHERE register_id = ? AND acked_at IS NOT NULL"
        " ORDER BY number DESC LIMIT 1",
        [register_id],
    )


def _last_built_seq(db: Database, register_id: int) -> int | None:
    return _one(  # type: ignore[no-any-return]
        db,
        "SELECT to_seq FROM pos_packages WHERE register_id = ? ORDER BY number DESC LIMIT 1",
        [register_id],
    )


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
    return int(
        _one(
            db,
            "SELECT coalesce(max(number), 0) + 1 FROM pos_packages WHERE register_id = ?",
            [register_id],
        )
    )


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
        cursor = db.execute(sql + " ORDER BY c.code, r.number", params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
    from webapp import settings
    from webapp.pos.protocol import ROLE_SETTING

    if settings.read_value(context.store, ROLE_SETTING, "office") == "register":
        # A register holds copies of the office's data: it builds no packages of its own.
        return Summary(N_("This data folder is a cash register: no package to build."))
    built = build_all(context.store, context)
    return Summary(N_("{count} package(s) built."), {"count": len(built)})


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
