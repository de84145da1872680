"""Which handler checks and writes each kind of import row (see handler_base.py)."""

from __future__ import annotations

import sqlite3

from webapp.backoffice.handler_articles import ArticleHandler
from webapp.backoffice.handler_base import Handler
from webapp.backoffice.handler_parties import ContactHandler, PartyHandler
from webapp.backoffice.handler_references import UnitHandler, VatRateHandler
from webapp.backoffice.handler_registers import RegisterHandler, UserHandler
from webapp.csvio import CsvFormat


def make(kind: str, conn: sqlite3.Connection, fmt: CsvFormat) -> Handler:
    if kind in ("customers", "suppliers"):
        return PartyHandler(conn, fmt, kind[:-1])
    simple: dict[str, type[Handler]] = {
        "articles": ArticleHandler,
        "contacts": ContactHandler,
        "users": UserHandler,
        "registers": RegisterHandler,
        "vat_rates": VatRateHandler,
        "units": UnitHandler,
    }
    return simple[kind](conn, fmt)


def is_bulk(kind: str) -> bool:
    """Whether the kind is staged off the write lock, then written in chunks (import_apply.py)."""
    return kind in ("articles", "customers", "suppliers")
