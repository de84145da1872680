"""Office: the packages as the POS API serves them to a register (POS-2).

A register lists the packages after the last one it applied, downloads each as stored (zlib, as
built by :mod:`webapp.pos.packages`) and acknowledges it; the acknowledgement is what the next
package starts from, and the older packages are dropped then.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from webapp.clock import now_iso
from webapp.pos import packages
from webapp.pos.office import Register
from webapp.store import Store, rows


def _package_info(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": int(row["number"]),
        "from_seq": int(row["from_seq"]),
        "to_seq": int(row["to_seq"]),
        "full": bool(row["full"]),
        "size": int(row["size"]),
        "sha256": str(row["sha256"]),
    }


_PACKAGE_COLUMNS = "number, from_seq, to_seq, full, size, sha256, acked_at"


def list_packages(store: Store, register: Register, after: int) -> list[dict[str, Any]]:
    """The register's packages numbered above ``after``, in order.

    ``after`` 0 is a register starting from nothing (a new one, or one that lost its data): it
    gets the latest full package, built now if the register had acknowledged any before."""
    if after <= 0:
        return _from_scratch(store, register)
    with store.read() as db:
        found = rows(
            db,
            f"SELECT {_PACKAGE_COLUMNS} FROM pos_packages WHERE register_id = ? AND number > ?"
            " ORDER BY number",
            [register.id, after],
        )
    return [_package_info(row) for row in found]


def _from_scratch(store: Store, register: Register) -> list[dict[str, Any]]:
    for _attempt in range(2):
        with store.read() as db:
            found = rows(
                db,
                f"SELECT {_PACKAGE_COLUMNS} FROM pos_packages WHERE register_id = ?"
                " ORDER BY number",
                [register.id],
            )
        acked = max((row["number"] for row in found if row["acked_at"]), default=0)
        full = max((row["number"] for row in found if row["full"]), default=0)
        if full > acked:  # a full package it has not taken yet: start there
            return [_package_info(row) for row in found if row["number"] >= full]
        packages.build_package(store, register.id, force_full=True)
    return []


def package_body(store: Store, register: Register, number: int) -> bytes | None:
    """The stored package, zlib-compressed (``Content-Encoding: deflate`` as it is), or None."""
    with store.read() as db:
        row = db.execute(
            "SELECT body FROM pos_packages WHERE register_id = ? AND number = ?",
            [register.id, number],
        ).fetchone()
    return None if row is None else bytes(row[0])


def package_json(store: Store, register: Register, number: int) -> dict[str, Any] | None:
    body = package_body(store, register, number)
    return None if body is None else dict(json.loads(zlib.decompress(body)))


def acknowledge(store: Store, register: Register, number: int) -> bool:
    """The register committed package ``number``: the next one starts from its ``to_seq``.

    The older packages of the register are dropped then: it will never need them again."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE pos_packages SET acked_at = coalesce(acked_at, ?) WHERE register_id = ?"
            " AND number = ?",
            [now_iso(), register.id, number],
        )
        if cursor.rowcount == 0:
            return False
        db.execute(
            "DELETE FROM pos_packages WHERE register_id = ? AND number < ?", [register.id, number]
        )
    return True
