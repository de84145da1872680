"""Document numbers: "CO000001", "BL000001", … from ``document_sequences``, per company and kind.

A number is taken in the same transaction as its document, so a rolled-back document leaves no
gap; only the latest number of a sequence can be given back (its document deleted).
"""

from __future__ import annotations

from sqlite_utils import Database

from webapp.store import one

DEFAULT_PREFIXES = {"order": "CO", "delivery": "BL", "ticket": "TK"}
NUMBER_DIGITS = 6


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{NUMBER_DIGITS}d}"


def next_number(db: Database, company_id: int, kind: str) -> str:
    """Take the next number of the sequence (created on first use with the default prefix)."""
    row = one(
        db,
        "UPDATE document_sequences SET next_value = next_value + 1"
        " WHERE company_id = ? AND kind = ? RETURNING prefix, next_value - 1 AS value",
        [company_id, kind],
    )
    if row is None:
        prefix = DEFAULT_PREFIXES[kind]
        db.execute(
            "INSERT INTO document_sequences (company_id, kind, prefix, next_value)"
            " VALUES (?, ?, ?, 2)",
            [company_id, kind, prefix],
        )
        return format_number(prefix, 1)
    return format_number(str(row["prefix"]), int(row["value"]))


def latest_number(db: Database, company_id: int, kind: str) -> str | None:
    """The last number the sequence gave, or None when it gave none."""
    sequence = one(
        db,
        "SELECT prefix, next_value FROM document_sequences WHERE company_id = ? AND kind = ?",
        [company_id, kind],
    )
    if sequence is None:
        return None
    return format_number(sequence["prefix"], sequence["next_value"] - 1)


def give_back_latest_number(db: Database, company_id: int, kind: str) -> None:
    """The latest number will be given to the next document again (its own was deleted)."""
    db.execute(
        "UPDATE document_sequences SET next_value = next_value - 1"
        " WHERE company_id = ? AND kind = ?",
        [company_id, kind],
    )


def reserve_numbers(
    db: Database, company_id: int, kind: str, count: int, skip: int = 0
) -> list[str]:
    """`count` numbers taken at once, in order, as `count` calls of next_number would take them;
    `skip` numbers are passed over first (an analysis's earlier chunks took them, then rolled
    back)."""
    if count <= 0:
        return []
    sequence = one(
        db,
        "SELECT prefix, next_value FROM document_sequences WHERE company_id = ? AND kind = ?",
        [company_id, kind],
    )
    prefix = DEFAULT_PREFIXES[kind] if sequence is None else str(sequence["prefix"])
    first = (1 if sequence is None else int(sequence["next_value"])) + skip
    db.execute(
        "INSERT INTO document_sequences (company_id, kind, prefix, next_value) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (company_id, kind) DO UPDATE SET next_value = excluded.next_value",
        [company_id, kind, prefix, first + count],
    )
    return [format_number(prefix, value) for value in range(first, first + count)]
