"""The register role (POS-1, POS-3, POS-4): join an office, import its packages, push the outbox.

- :func:`join` checks the token with ``/hello`` and stores the office address, the register number
  and the pinned update key in the settings, the token in the vault.
- :func:`import_packages` (``import_caisseauto``) applies each package in its own transaction,
  records it in ``pos_packages_applied`` in that same transaction, and only then acknowledges it.
- :func:`push_outbox` sends the queued ``MICPTRACK`` records in their order, in batches; a rejected
  record is set aside with its reason and never blocks the ones after it.
- :class:`Synchroniser` runs :func:`sync_once` in a background thread, with an exponential backoff
  (with jitter, capped at 5 minutes) while the office does not answer.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp import history, settings
from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import protocol
from webapp.pos.register_client import (
    OfficeClient,
    OfficeError,
    OfficeRefused,
    OfficeUnreachable,
    RetryPolicy,
)
from webapp.secrets import Vault, VaultError
from webapp.store import Store

log = logging.getLogger(__name__)

SERVER_URL = "pos.server_url"
REGISTER_NUMBER = "pos.register_number"
UPDATE_KEY = "pos.update_key"
OFFICE_ID = "pos.office_id"
COMPANY = "pos.company"
SYNC_INTERVAL = "pos.sync_interval_seconds"
LAST_CONTACT = "pos.last_contact"
LAST_ERROR = "pos.last_error"
TOKEN_SECRET = "pos.token"
IMPORT_JOB = "import_caisseauto"
DEFAULT_INTERVAL = 30.0
BACKOFF_CAP = 300.0

_SYNC_LOCK = threading.Lock()  # one import/push round at a time in this process


class RegisterError(UserError):
    """A register operation refused with a reason the user can act on."""


class PackageRefused(OfficeError):
    """A package this register cannot apply (rolled back; the round stops there)."""


# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterConfig:
    server_url: str
    number: int
    update_key: str


def load_config(store: Store) -> RegisterConfig | None:
    """This folder's register settings; None when it has not joined an office."""
    with store.read() as db:
        return config_from(db)


def config_from(db: Any) -> RegisterConfig | None:
    """The same, read on a connection the caller holds (one query)."""
    values = {
        str(row[0]): json.loads(row[1])
        for row in db.execute(
            "SELECT key, value FROM settings WHERE key IN (?, ?, ?)",
            [SERVER_URL, REGISTER_NUMBER, UPDATE_KEY],
        )
    }
    url, number = values.get(SERVER_URL), values.get(REGISTER_NUMBER)
    if not url or not number:
        return None
    return RegisterConfig(str(url), int(number), str(values.get(UPDATE_KEY) or ""))


def role(store: Store) -> str:
    return str(settings.read_value(store, protocol.ROLE_SETTING, "office"))


def require_config(store: Store, db: Any = None) -> RegisterConfig:
    config = load_config(store) if db is None else config_from(db)
    if config is None:
        raise RegisterError(
            N_("This data folder has not joined an office: run `relais pos join` first.")
        )
    return config


def write_settings(db: Any, values: Mapping[str, Any]) -> None:
    """Several settings in the caller's transaction."""
    for key, value in values.items():
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            [key, json.dumps(value)],
        )


def token(vault: Vault) -> str:
    if not vault.is_unlocked:
        raise RegisterError(
            N_("The vault is locked: unlock it to reach the office (the token is kept there).")
        )
    value = vault.get(TOKEN_SECRET)
    if not value:
        raise RegisterError(N_("No register token in the vault: run `relais pos join` again."))
    return value


ClientFactory = Callable[[str, str], OfficeClient]


def default_client(url: str, secret: str) -> OfficeClient:
    return OfficeClient(url, secret)


def open_client(
    store: Store, vault: Vault, factory: ClientFactory = default_client
) -> OfficeClient:
    config = require_config(store)
    return factory(config.server_url, token(vault))


# -- join ----------------------------------------------------------------------------------------


def join(
    store: Store,
    vault: Vault,
    server_url: str,
    number: int,
    secret: str,
    factory: ClientFactory = default_client,
) -> dict[str, Any]:
    """Check the token with the office, then remember it: raises OfficeRefused/Unreachable."""
    url = server_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise RegisterError(N_("Give the office address as http://HOST:PORT or https://HOST:PORT."))
    if number < 1:
        raise RegisterError(N_("The register number must be a positive whole number."))
    with factory(url, secret) as client:
        hello = client.hello()
    if int(hello.get("register") or 0) != number:
        raise RegisterError(
            N_("This token belongs to register {other}, not to register {number}."),
            other=hello.get("register"),
            number=number,
        )
    if not isinstance(hello.get("update_key"), str):
        raise OfficeError(
            N_("The office sent an answer in an unexpected shape ({what})."), what="hello"
        )
    vault.set(TOKEN_SECRET, secret)
    with store.write() as db:
        write_settings(
            db,
            {
                SERVER_URL: url,
                REGISTER_NUMBER: number,
                UPDATE_KEY: hello["update_key"],
                OFFICE_ID: hello.get("office"),
                COMPANY: hello.get("company"),
                LAST_CONTACT: now_iso(),
                protocol.ROLE_SETTING: "register",
            },
        )
    return hello


# -- import (import_caisseauto) --------------------------------------------------------------------


@dataclass
class ImportResult:
    applied: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)


def last_applied(store: Store) -> int:
    with store.read() as db:
        row = db.execute("SELECT max(number) FROM pos_packages_applied").fetchone()
    return int(row[0] or 0)


def import_packages(store: Store, client: OfficeClient, number: int) -> ImportResult:
    """Fetch and apply the packages after the last one applied, in order; ack each after commit."""
    result = ImportResult()
    for pending in _unacknowledged(store):
        _acknowledge(store, client, pending, result)
    listing = sorted(client.packages(last_applied(store)), key=lambda row: int(row["number"]))
    for entry in listing:
        package_number = int(entry["number"])
        package, raw = client.package(package_number)
        _check_package(package, raw, entry, number, package_number)
        if _apply_checked(store, package, number):
            result.applied.append(package_number)
        else:
            result.skipped.append(package_number)
        _acknowledge(store, client, package_number, result)
    return result


def _apply_checked(store: Store, package: dict[str, Any], register: int) -> bool:
    """Apply, turning a package that does not fit this register's tables into a clear refusal
    (nothing of it is kept: its transaction is rolled back, and it is asked for again next round)."""
    try:
        return apply_package(store, package, register)
    except (sqlite3.Error, KeyError, TypeError, ValueError, ArithmeticError) as exc:
        log.exception("package %s could not be applied", package.get("number"))
        raise PackageRefused(
            N_("Package {number} could not be applied: {error}"),
            number=package.get("number"),
            error=f"{type(exc).__name__}: {exc}",
        ) from exc


def _unacknowledged(store: Store) -> list[int]:
    with store.read() as db:
        rows = db.execute(
            "SELECT number FROM pos_packages_applied WHERE acked_at IS NULL ORDER BY number"
        ).fetchall()
    return [int(row[0]) for row in rows]


def _acknowledge(store: Store, client: OfficeClient, number: int, result: ImportResult) -> None:
    client.ack(number)
    with store.write() as db:
        db.execute(
            "UPDATE pos_packages_applied SET acked_at = ? WHERE number = ? AND acked_at IS NULL",
            [now_iso(), number],
        )
    result.acknowledged.append(number)


def _check_package(
    package: dict[str, Any], raw: bytes, entry: Mapping[str, Any], register: int, number: int
) -> None:
    expected = entry.get("sha256")
    if expected and protocol.sha256(raw) != expected:
        raise OfficeError(
            N_("Package {number} arrived damaged (its checksum differs)."), number=number
        )
    if package.get("protocol") != protocol.PROTOCOL:
        raise OfficeError(
            N_("Package {number} uses protocol {version}, which this program does not know."),
            number=number,
            version=package.get("protocol"),
        )
    if int(package.get("register") or 0) != register or int(package.get("number") or 0) != number:
        raise OfficeError(N_("Package {number} is not the one asked for."), number=number)


def apply_package(store: Store, package: Mapping[str, Any], register: int) -> bool:
    """Apply one package in one transaction, recorded in the same one; False if already applied."""
    number = int(package["number"])
    with store.write() as db:
        if db.execute("SELECT 1 FROM pos_packages_applied WHERE number = ?", [number]).fetchone():
            return False
        apply_rows(db, package, register)
        db.execute(
            "INSERT INTO pos_packages_applied (number, full, to_seq, applied_at) VALUES (?, ?, ?, ?)",
            [number, int(bool(package.get("full"))), int(package.get("to_seq") or 0), now_iso()],
        )
    return True


def apply_rows(db: Any, package: Mapping[str, Any], register: int) -> None:
    """Upserts by code, deletes by code, then keep only this register's users. Idempotent."""
    upserts: Mapping[str, list[dict[str, Any]]] = package.get("upserts") or {}
    deletes: Mapping[str, list[str]] = package.get("deletes") or {}
    context = _Context(db, upserts)
    for row in upserts.get("vat_rates", []):
        _upsert_vat_rate(db, row)
    for row in upserts.get("units", []):
        _upsert_unit(db, row)
    for row in upserts.get("registers", []):
        _upsert_register(db, row)
    for row in upserts.get("payment_methods", []):
        _upsert_payment_method(db, row)
    for row in upserts.get("articles", []):
        _upsert_article(context, row)
    for row in upserts.get("customers", []):
        _upsert_customer(db, row)
    for row in upserts.get("users", []):
        _upsert_user(context, row)
    if package.get("full"):
        _mirror(db, upserts)
    for entity in protocol.DELETABLE:
        for code in deletes.get(entity, []):
            _DELETERS[entity](db, str(code))
    keep_register_users(db, register)
    # The change log is the office's: on a register it would only grow with every import.
    db.execute("DELETE FROM change_log")


@dataclass
class _Context:
    db: Any
    upserts: Mapping[str, list[dict[str, Any]]]

    def row_of(self, entity: str, key: str, value: Any) -> dict[str, Any] | None:
        for row in self.upserts.get(entity, []):
            if str(row.get(key)).casefold() == str(value).casefold():
                return row
        return None


def _differs(table: str, columns: Iterable[str]) -> str:
    return " OR ".join(f"{table}.{name} IS NOT excluded.{name}" for name in columns)


def _upsert(db: Any, table: str, key: str, values: Mapping[str, Any], conflict: str = "") -> None:
    names = list(values)
    updated = [name for name in names if name not in (key, "kind", "created_at", "company_id")]
    assignments = ", ".join(f"{name} = excluded.{name}" for name in updated)
    db.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        f" ON CONFLICT ({conflict or key}) DO UPDATE SET {assignments}"
        f" WHERE {_differs(table, [n for n in updated if n != 'updated_at'])}",
        list(values.values()),
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float:
    return float(protocol.amount(value))


def _upsert_vat_rate(db: Any, row: Mapping[str, Any]) -> None:
    values = {
        "code": str(row["code"]),
        "label": _text(row.get("label")) or str(row["code"]),
        "rate": _number(row.get("rate") or 0),
        "country": row.get("country") or None,
    }
    _upsert(db, "vat_rates", "code", values)


def _upsert_unit(db: Any, row: Mapping[str, Any]) -> None:
    values = {
        "code": str(row["code"]),
        "label": _text(row.get("label")) or str(row["code"]),
        "decimals": int(row.get("decimals") or 0),
    }
    _upsert(db, "units", "code", values)


def _default_company(db: Any) -> int:
    row = db.execute("SELECT id FROM companies ORDER BY is_default DESC, id LIMIT 1").fetchone()
    if row is None:
        raise RegisterError(N_("This data folder has no company."))
    return int(row[0])


def _upsert_register(db: Any, row: Mapping[str, Any]) -> None:
    number = int(row["number"])
    values = {
        "number": number,
        "label": _text(row.get("label")) or f"Caisse {number}",
        "company_id": _default_company(db),
        "ticket_prefix": _text(row.get("ticket_prefix")) or f"C{number}-",
        "active": int(bool(row.get("active", True))),
    }
    _upsert(db, "pos_registers", "number", values)


def _upsert_payment_method(db: Any, row: Mapping[str, Any]) -> None:
    values = {
        "code": str(row["code"]),
        "label": _text(row.get("label")) or str(row["code"]),
        "is_cash": int(bool(row.get("is_cash"))),
        "active": int(bool(row.get("active", True))),
    }
    _upsert(db, "payment_methods", "code", values)


def _id_by_code(db: Any, table: str, code: str) -> int | None:
    row = db.execute(f"SELECT id FROM {table} WHERE code = ?", [code]).fetchone()
    return int(row[0]) if row else None


def _unit_id(context: _Context, code: str) -> int:
    found = _id_by_code(context.db, "units", code)
    if found is None:
        _upsert_unit(context.db, context.row_of("units", "code", code) or {"code": code})
        found = _id_by_code(context.db, "units", code)
    assert found is not None
    return found


def _vat_id(context: _Context, code: str, rate: Any) -> int:
    found = _id_by_code(context.db, "vat_rates", code)
    if found is None:
        row = context.row_of("vat_rates", "code", code) or {"code": code, "rate": rate or 0}
        _upsert_vat_rate(context.db, row)
        found = _id_by_code(context.db, "vat_rates", code)
    assert found is not None
    return found


def _family_id(db: Any, code: Any) -> int | None:
    if not code:
        return None
    found = _id_by_code(db, "article_families", str(code))
    if found is None:
        cursor = db.execute(
            "INSERT INTO article_families (code, label) VALUES (?, ?)", [str(code), str(code)]
        )
        found = int(cursor.lastrowid)
    return found


def _default_price_category(db: Any) -> int:
    row = db.execute(
        "SELECT id FROM price_categories ORDER BY is_default DESC, id LIMIT 1"
    ).fetchone()
    if row is None:
        cursor = db.execute(
            "INSERT INTO price_categories (code, label, is_default) VALUES ('STD', 'STD', 1)"
        )
        return int(cursor.lastrowid)
    return int(row[0])


def _upsert_article(context: _Context, row: Mapping[str, Any]) -> None:
    db = context.db
    code = str(row["code"])
    moment = now_iso()
    values = {
        "code": code,
        "label": _text(row.get("label")) or code,
        "family_id": _family_id(db, row.get("family")),
        "unit_id": _unit_id(context, str(row.get("unit") or "U")),
        "vat_rate_id": _vat_id(context, str(row.get("vat_code") or "0"), row.get("vat_rate")),
        "barcode": row.get("barcode") or None,
        "active": int(bool(row.get("active", True))),
        "created_at": moment,
        "updated_at": moment,
    }
    _upsert(db, "articles", "code", values)
    article_id = _id_by_code(db, "articles", code)
    category = _default_price_category(db)
    price = row.get("price_excl_vat")
    if price is None or price == "":
        db.execute(
            "DELETE FROM article_prices WHERE article_id = ? AND price_category_id = ?",
            [article_id, category],
        )
        return
    db.execute(
        "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
        " VALUES (?, ?, ?) ON CONFLICT (article_id, price_category_id) DO UPDATE"
        " SET price_excl_vat = excluded.price_excl_vat"
        " WHERE article_prices.price_excl_vat IS NOT excluded.price_excl_vat",
        [article_id, category, _number(price)],
    )


CUSTOMER_FIELDS = protocol.CUSTOMER_FIELDS


def _country(db: Any, value: Any) -> str | None:
    if not value:
        return None
    row = db.execute("SELECT code FROM countries WHERE code = ?", [str(value)]).fetchone()
    return str(row[0]) if row else None


def upsert_customer(db: Any, row: Mapping[str, Any]) -> None:
    moment = now_iso()
    values: dict[str, Any] = {"kind": "customer", "code": str(row["code"])}
    for name in CUSTOMER_FIELDS:
        values[name] = _text(row.get(name))
    values["country"] = _country(db, row.get("country"))
    values.update(created_at=moment, updated_at=moment)
    _upsert(db, "parties", "code", values, conflict="kind, code")


_upsert_customer = upsert_customer


def _register_id(context: _Context, number: int) -> int:
    db = context.db
    row = db.execute("SELECT id FROM pos_registers WHERE number = ?", [number]).fetchone()
    if row is None:
        _upsert_register(db, context.row_of("registers", "number", number) or {"number": number})
        row = db.execute("SELECT id FROM pos_registers WHERE number = ?", [number]).fetchone()
    return int(row[0])


def _upsert_user(context: _Context, row: Mapping[str, Any]) -> None:
    db = context.db
    code = str(row["code"])
    values: dict[str, Any] = {"code": code, "name": _text(row.get("name")) or code}
    values["active"] = int(bool(row.get("active", True)))
    _upsert(db, "pos_users", "code", values)
    user_id = _id_by_code(db, "pos_users", code)
    wanted = {_register_id(context, int(number)) for number in row.get("registers") or []}
    present = {
        int(link[0])
        for link in db.execute(
            "SELECT register_id FROM pos_user_registers WHERE user_id = ?", [user_id]
        )
    }
    for register_id in sorted(present - wanted):
        db.execute(
            "DELETE FROM pos_user_registers WHERE user_id = ? AND register_id = ?",
            [user_id, register_id],
        )
    for register_id in sorted(wanted - present):
        db.execute(
            "INSERT INTO pos_user_registers (user_id, register_id) VALUES (?, ?)",
            [user_id, register_id],
        )


def keep_register_users(db: Any, register: int) -> int:
    """POS-3: only the users attached to this register number remain; returns how many went."""
    cursor = db.execute(
        "DELETE FROM pos_users WHERE id NOT IN (SELECT l.user_id FROM pos_user_registers l"
        " JOIN pos_registers r ON r.id = l.register_id WHERE r.number = ?)",
        [register],
    )
    return int(cursor.rowcount or 0)


def _delete_article(db: Any, code: str) -> None:
    article_id = _id_by_code(db, "articles", code)
    if article_id is not None:
        db.execute("UPDATE document_lines SET article_id = NULL WHERE article_id = ?", [article_id])
        db.execute("DELETE FROM articles WHERE id = ?", [article_id])


def _delete_customer(db: Any, code: str) -> None:
    row = db.execute(
        "SELECT id FROM parties WHERE kind = 'customer' AND code = ?", [code]
    ).fetchone()
    if row is not None:
        db.execute("UPDATE documents SET party_id = NULL WHERE party_id = ?", [row[0]])
        db.execute("DELETE FROM parties WHERE id = ?", [row[0]])


def _delete_user(db: Any, code: str) -> None:
    db.execute("DELETE FROM pos_users WHERE code = ?", [code])


def _delete_payment_method(db: Any, code: str) -> None:
    method_id = _id_by_code(db, "payment_methods", code)
    if method_id is None:
        return
    used = db.execute(
        "SELECT 1 FROM document_payments WHERE payment_method_id = ? LIMIT 1", [method_id]
    ).fetchone()
    if used:  # kept for the documents that name it, but no longer offered
        db.execute("UPDATE payment_methods SET active = 0 WHERE id = ? AND active = 1", [method_id])
    else:
        db.execute("DELETE FROM payment_methods WHERE id = ?", [method_id])


_DELETERS: dict[str, Callable[[Any, str], None]] = {
    "articles": _delete_article,
    "customers": _delete_customer,
    "users": _delete_user,
    "payment_methods": _delete_payment_method,
}


def _mirror(db: Any, upserts: Mapping[str, list[dict[str, Any]]]) -> None:
    """A full package holds everything: what it does not name is gone from the office.

    Customers still waiting in the outbox (made here, not yet at the office) are kept.
    """
    waiting = set()
    for (payload,) in db.execute(
        "SELECT payload FROM MICPTRACK WHERE kind = 'customer' AND state = 'queued'"
    ):
        waiting.add(str(json.loads(payload).get("code", "")).casefold())
    queries = {
        "articles": "SELECT code FROM articles",
        "customers": "SELECT code FROM parties WHERE kind = 'customer'",
        "users": "SELECT code FROM pos_users",
        "payment_methods": "SELECT code FROM payment_methods",
    }
    for entity, sql in queries.items():
        named = {str(row["code"]).casefold() for row in upserts.get(entity, [])}
        for (code,) in db.execute(sql).fetchall():
            folded = str(code).casefold()
            if folded not in named and not (entity == "customers" and folded in waiting):
                _DELETERS[entity](db, str(code))


# -- outbox (MICPTRACK) ---------------------------------------------------------------------------


def enqueue(db: Any, register: int, kind: str, payload: Mapping[str, Any], record: str = "") -> str:
    """Write one outbox record in the caller's transaction; its id is made here, before any send."""
    if kind not in protocol.RECORD_KINDS:
        raise ValueError(kind)
    record = record or protocol.record_id(register)
    db.execute(
        "INSERT INTO MICPTRACK (id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        [record, kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), now_iso()],
    )
    return record


def queued(store: Store, limit: int, after_seq: int = 0) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT seq, id, kind, payload, created_at FROM MICPTRACK"
            " WHERE state = 'queued' AND seq > ? ORDER BY seq LIMIT ?",
            [after_seq, limit],
        ).fetchall()
    return [dict(row) for row in rows]


def wire_record(row: Mapping[str, Any], register: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "register": register,
        "seq": int(row["seq"]),
        "kind": row["kind"],
        "created_at": row["created_at"],
        "payload": json.loads(row["payload"]),
    }


@dataclass
class PushResult:
    sent: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    batches: int = 0


def push_outbox(
    store: Store, client: OfficeClient, register: int, batch_size: int = protocol.MAX_BATCH
) -> PushResult:
    """Send the queued records in order, batch by batch, until none is left."""
    result = PushResult()
    size = max(1, min(batch_size, protocol.MAX_BATCH))
    after = 0
    while True:
        rows = queued(store, size, after)
        if not rows:
            return result
        answers = client.push([wire_record(row, register) for row in rows])
        result.batches += 1
        _record_answers(store, rows, answers, result)
        after = int(rows[-1]["seq"])


def _record_answers(
    store: Store,
    rows: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    result: PushResult,
) -> None:
    by_id = {str(answer.get("id")): answer for answer in answers}
    moment = now_iso()
    with store.write() as db:
        for row in rows:
            answer = by_id.get(row["id"])
            status = answer.get("status") if answer else None
            if status in ("applied", "already_applied"):
                db.execute(
                    "UPDATE MICPTRACK SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
                    " last_error = NULL WHERE id = ? AND state = 'queued'",
                    [moment, row["id"]],
                )
                result.sent += 1
            elif status == "rejected":
                reason = str((answer or {}).get("reason") or "rejected")
                db.execute(
                    "UPDATE MICPTRACK SET state = 'rejected', last_error = ?,"
                    " attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
                    [reason, row["id"]],
                )
                result.rejected.append({"id": row["id"], "kind": row["kind"], "reason": reason})
            else:  # no answer for it: it stays queued and goes again next round
                db.execute(
                    "UPDATE MICPTRACK SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                    ["no answer from the office for this record", row["id"]],
                )


# -- one round and the synchroniser ---------------------------------------------------------------


@dataclass
class SyncResult:
    imported: ImportResult
    pushed: PushResult
    updates: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "packages_applied": self.imported.applied,
            "packages_acknowledged": self.imported.acknowledged,
            "records_sent": self.pushed.sent,
            "records_rejected": self.pushed.rejected,
            "updates": self.updates,
        }


UpdatesHook = Callable[[Store, OfficeClient], dict[str, int]]


def sync_once(
    store: Store,
    vault: Vault,
    factory: ClientFactory = default_client,
    *,
    with_updates: bool = True,
) -> SyncResult:
    """One import, one push (and the update packages): raises OfficeRefused/Unreachable."""
    config = require_config(store)
    with _SYNC_LOCK:
        try:
            with open_client(store, vault, factory) as client:
                imported = import_packages(store, client, config.number)
                pushed = push_outbox(store, client, config.number)
                updates: dict[str, int] = {}
                if with_updates:
                    from webapp.pos import updates_register

                    updates = updates_register.fetch_updates(store, client, config)
        except (OfficeError, RegisterError) as exc:
            error = {"at": now_iso(), "message": exc.message, "params": exc.params}
            settings.write_value(store, LAST_ERROR, error)
            raise
    with store.write() as db:
        write_settings(db, {LAST_CONTACT: now_iso(), LAST_ERROR: None})
    result = SyncResult(imported, pushed, updates)
    record_history(store, result)
    return result


def record_history(store: Store, result: SyncResult) -> int | None:
    """A history run (process ``import_caisseauto``) when a round applied packages or had records
    refused; the quiet rounds every 30 seconds leave no trace."""
    if not (result.imported.applied or result.pushed.rejected):
        return None
    run_id = history.start_run(store, IMPORT_JOB, "synchroniser")
    with store.write() as db:
        for number in result.imported.applied:
            history.insert_item(
                db,
                run_id,
                IMPORT_JOB,
                kind="package",
                status="received",
                reference=str(number),
                message=N_("Package {number} applied."),
                params={"number": number},
            )
        for row in result.pushed.rejected:
            history.insert_item(
                db,
                run_id,
                IMPORT_JOB,
                kind=row["kind"],
                status="error",
                reference=row["id"],
                message=N_("Refused by the office: {reason}"),
                params={"reason": row["reason"]},
            )
    status = "warning" if result.pushed.rejected else "success"
    message = N_("Packages applied: {applied}; records sent: {sent}; rejected: {rejected}.")
    counts = {
        "applied": len(result.imported.applied),
        "sent": result.pushed.sent,
        "rejected": len(result.pushed.rejected),
    }
    history.finish_run(store, run_id, status, message, counts)
    return run_id


class Synchroniser:
    """The background thread of the register role: sync now, then every interval or backoff."""

    def __init__(
        self,
        store: Store,
        vault: Vault,
        *,
        interval: float | None = None,
        cap: float = BACKOFF_CAP,
        factory: ClientFactory = default_client,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self._fixed_interval = interval is not None
        self.interval = float(interval) if interval is not None else self._configured_interval()
        self.cap = cap
        self.factory = factory
        self.failures = 0
        self.rounds = 0
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def next_delay(self, ok: bool) -> float:
        """The interval after a success; after failures, exponential with jitter, capped."""
        if ok:
            self.failures = 0
            return self.interval
        self.failures += 1
        ceiling = min(self.cap, self.interval * 2.0 ** min(self.failures - 1, 16))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def run_round(self) -> bool:
        try:
            result = sync_once(self.store, self.vault, self.factory)
        except OfficeRefused:
            log.warning("the office refused this register's token")
            return False
        except (OfficeError, RegisterError, VaultError) as exc:
            log.info("synchroniser: %s", exc.translated())
            return False
        except Exception:
            log.exception("synchroniser round failed")
            return False
        finally:
            self.rounds += 1
        if result.pushed.sent or result.imported.applied or result.pushed.rejected:
            log.info("synchroniser: %s", result.as_dict())
        return True

    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._wake.wait(delay)
            if self._stop.is_set():
                return
            self._wake.clear()
            ok = self.run_round()
            if ok and not self._fixed_interval:  # an update package may have changed it
                self.interval = self._configured_interval()
            delay = self.next_delay(ok)

    def _configured_interval(self) -> float:
        try:
            return float(settings.read_value(self.store, SYNC_INTERVAL, DEFAULT_INTERVAL))
        except (TypeError, ValueError):
            return DEFAULT_INTERVAL

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pos-synchroniser", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


def start_synchroniser(services: Any, interval: float | None = None) -> Callable[[], None]:
    """Started by `relais serve` in the register role; returns the stop function for shutdown."""
    global RUNNING
    synchroniser = Synchroniser(services.store, services.vault, interval=interval)
    synchroniser.start()
    RUNNING = synchroniser

    def stop() -> None:
        global RUNNING
        synchroniser.stop()
        RUNNING = None

    return stop


RUNNING: Synchroniser | None = None  # the server's synchroniser, for the "sync now" button


__all__ = [
    "OfficeError",
    "OfficeRefused",
    "OfficeUnreachable",
    "RetryPolicy",
]
