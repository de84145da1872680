"""Reference lookups of the document checks, which a batch may have remembered.

Reference lookups (articles, VAT rates, units, payment methods) may be remembered for the length of
a batch that does not change them: a reception of 30,000 documents asks the same few hundred
questions over and over.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any

from sqlite_utils import Database

from webapp.store import one

_LOOKUPS: contextvars.ContextVar[dict[tuple[str, tuple[Any, ...]], Any] | None] = (
    contextvars.ContextVar("document_lookups", default=None)
)
_CACHEABLE = (
    "SELECT a.label, u.code AS unit_code, v.rate FROM articles a",
    "SELECT id FROM vat_rates",
    "SELECT code FROM units",
    "SELECT id, active FROM payment_methods",
)


@contextlib.contextmanager
def remembered_lookups() -> Iterator[None]:
    """Within this block, reference lookups are asked once each (the caller changes none)."""
    token = _LOOKUPS.set({})
    try:
        yield
    finally:
        _LOOKUPS.reset(token)


def lookup(db: Database, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """:func:`webapp.store.one`, remembered within :func:`remembered_lookups` for reference
    tables."""
    cache = _LOOKUPS.get()
    if cache is None or not sql.startswith(_CACHEABLE):
        return one(db, sql, params)
    key = (sql, tuple(params))
    if key not in cache:
        cache[key] = one(db, sql, params)
    found: dict[str, Any] | None = cache[key]
    return found
