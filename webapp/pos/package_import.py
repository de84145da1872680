"""Importing the office's packages on a register (POS-3, process ``import_caisseauto``).

:func:`import_packages` fetches the packages after the last one applied, checks each (checksum,
protocol, number), applies it in its own transaction (:func:`webapp.pos.mirror.apply_package`) and
only then acknowledges it; an acknowledgement lost on the way is sent again first next round.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp.clock import now_iso
from webapp.i18n import N_
from webapp.pos import protocol
from webapp.pos.mirror import apply_package
from webapp.pos.register_client import OfficeClient, OfficeError
from webapp.store import Store

log = logging.getLogger(__name__)

IMPORT_JOB = "import_caisseauto"


class PackageRefused(OfficeError):
    """A package this register cannot apply (rolled back; the round stops there)."""


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
