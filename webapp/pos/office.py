"""Office: the registers and their tokens (POS-1).

A register's token is shown once, when it is made: only its SHA-256 is stored, and making a new
one revokes the register's older tokens (a register has one valid token at a time).

The packages are served by :mod:`webapp.pos.office_packages`; the records a register pushes back
are applied by :mod:`webapp.pos.office_records`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import protocol
from webapp.store import Store, one, rows


class RegisterError(UserError):
    """A refused request about a register (bad number, unknown company...)."""


@dataclass(frozen=True)
class Register:
    id: int
    number: int
    label: str
    company_id: int
    company: str
    warehouse_id: int | None
    ticket_prefix: str
    active: bool

    @property
    def source(self) -> str:
        """The ``source`` of the documents made from this register's tickets."""
        return f"pos:{self.number}"


# --- Registers and tokens --------------------------------------------------------------------

REGISTER_SQL = (
    "SELECT r.id, r.number, r.label, r.company_id, c.code AS company, r.warehouse_id,"
    " r.ticket_prefix, r.active FROM pos_registers r JOIN companies c ON c.id = r.company_id"
)


def register_of(row: dict[str, Any] | None) -> Register | None:
    if row is None:
        return None
    return Register(**{**row, "active": bool(row["active"])})


def get_register(store: Store, number: int) -> Register | None:
    with store.read() as db:
        return register_of(one(db, f"{REGISTER_SQL} WHERE r.number = ?", [number]))


def _company_id(db: Database, code: str | None) -> int:
    if code:
        row = one(db, "SELECT id FROM companies WHERE code = ?", [code.strip()])
        if row is None:
            raise RegisterError(N_("Company {company} does not exist."), company=code)
    else:
        row = one(db, "SELECT id FROM companies ORDER BY is_default DESC, id LIMIT 1")
        if row is None:
            raise RegisterError(N_("No company is defined: create one first."))
    return int(row["id"])


REGISTER_NUMBER_MAX = 999_999
REGISTER_NUMBER_RULE = N_("The register number must be a whole number from 1 to 999999.")
REGISTER_LABEL_MAX = 100
REGISTER_LABEL_RULE = N_("A register's name has at most {max} characters.")


def _default_warehouse(db: Database) -> int | None:
    row = one(db, "SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1")
    return None if row is None else int(row["id"])


def add_register(
    store: Store, number: int, company_code: str | None = None, label: str | None = None
) -> tuple[Register, str]:
    """Create the register (or update its company and label) and give it a new token.

    The token is returned once; only its SHA-256 is kept, and the register's older tokens are
    revoked."""
    if not isinstance(number, int) or not 0 < number <= REGISTER_NUMBER_MAX:
        raise RegisterError(REGISTER_NUMBER_RULE)
    if label is not None and len(label.strip()) > REGISTER_LABEL_MAX:
        raise RegisterError(REGISTER_LABEL_RULE, max=REGISTER_LABEL_MAX)
    token = secrets.token_urlsafe(32)
    with store.write() as db:
        existing = one(
            db, "SELECT id, label, company_id FROM pos_registers WHERE number = ?", [number]
        )
        company_id = (
            _company_id(db, company_code)
            if company_code or existing is None
            else int(existing["company_id"])
        )
        text = (label or "").strip() or (
            str(existing["label"]) if existing else f"Register {number}"
        )
        if existing is None:
            db.execute(
                "INSERT INTO pos_registers (number, label, company_id, warehouse_id,"
                " ticket_prefix) VALUES (?, ?, ?, ?, ?)",
                [number, text, company_id, _default_warehouse(db), f"C{number}-"],
            )
        else:
            db.execute(
                "UPDATE pos_registers SET label = ?, company_id = ?, active = 1 WHERE number = ?",
                [text, company_id, number],
            )
        register = register_of(one(db, f"{REGISTER_SQL} WHERE r.number = ?", [number]))
        assert register is not None
        moment = now_iso()
        db.execute(
            "UPDATE pos_register_tokens SET revoked_at = ? WHERE register_id = ?"
            " AND revoked_at IS NULL",
            [moment, register.id],
        )
        db.execute(
            "INSERT INTO pos_register_tokens (register_id, token_sha256, created_at)"
            " VALUES (?, ?, ?)",
            [register.id, protocol.token_digest(token), moment],
        )
    return register, token


def revoke_tokens(store: Store, number: int) -> int:
    """Revoke every token of the register: it can no longer reach the office until given a new one."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE pos_register_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND"
            " register_id = (SELECT id FROM pos_registers WHERE number = ?)",
            [now_iso(), number],
        )
        return int(cursor.rowcount)


# A token's last_seen_at is written at most once a second: a register draining its outbox calls
# several times a second, and each write would be a commit (an fsync) of its own.
SEEN_EVERY = 1.0
_seen_written: dict[tuple[str, str], float] = {}  # (database, token digest): monotonic time


def register_for_token(store: Store, token: str) -> Register | None:
    """The active register holding this (unrevoked) token, or None; records when it was seen."""
    if not token:
        return None
    digest = protocol.token_digest(token)
    with store.read() as db:
        row = one(
            db,
            f"{REGISTER_SQL} JOIN pos_register_tokens t ON t.register_id = r.id"
            " WHERE t.token_sha256 = ? AND t.revoked_at IS NULL AND r.active = 1",
            [digest],
        )
    register = register_of(row)
    if register is not None and _seen_due(store, digest):
        with store.write() as db:
            db.execute(
                "UPDATE pos_register_tokens SET last_seen_at = ? WHERE token_sha256 = ?",
                [now_iso(), digest],
            )
    return register


def _seen_due(store: Store, digest: str) -> bool:
    key, moment = (str(store.path), digest), time.monotonic()
    if key in _seen_written and moment - _seen_written[key] < SEEN_EVERY:
        return False
    _seen_written[key] = moment
    return True


def list_registers(store: Store) -> list[dict[str, Any]]:
    """Every register with its last contact, last acknowledged package and received counts (its
    chains' state: webapp.pos.trail_breaks.registers_with_chains)."""
    with store.read() as db:
        found = rows(
            db,
            "SELECT r.id, r.number, r.label, c.code AS company, r.ticket_prefix, r.active,"
            " (SELECT max(last_seen_at) FROM pos_register_tokens t WHERE t.register_id = r.id)"
            " AS last_seen_at,"
            " (SELECT max(number) FROM pos_packages p WHERE p.register_id = r.id) AS last_built,"
            " (SELECT max(number) FROM pos_packages p WHERE p.register_id = r.id"
            " AND p.acked_at IS NOT NULL) AS last_acked,"
            " (SELECT count(*) FROM pos_received x WHERE x.register_id = r.id"
            " AND x.status = 'applied') AS applied,"
            " (SELECT count(*) FROM pos_received x WHERE x.register_id = r.id"
            " AND x.status = 'rejected') AS rejected"
            " FROM pos_registers r JOIN companies c ON c.id = r.company_id ORDER BY r.number",
        )
    return found
