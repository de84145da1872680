"""The register's JET page (issue 17): its technical events, newest first, a page at a time
(keyset: the events numbered below the last one shown), and whether their chain holds. The work is
webapp/pos/journal.py."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.pos import journal, register_config
from webapp.web.common import ServicesDep, page

PAGE_SIZE = 50


def journal_context(services: Any, before: int | None) -> dict[str, Any]:
    with services.store.read() as db:
        events = journal.list_events(db, before, PAGE_SIZE + 1)
        breaks = journal.chain_breaks(db)
    shown = events[:PAGE_SIZE]
    return {
        "active": "pos",
        "section": "journal",
        "events": shown,
        "next_before": shown[-1]["seq"] if len(events) > PAGE_SIZE else None,
        "breaks": [found.translated() for found in breaks],
        "config": register_config.load_config(services.store),
    }


@get("/pos/journal", name="pos_journal", sync_to_thread=False)
def journal_page(
    request: HTMXRequest,
    services: ServicesDep,
    before: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Template:
    """The whole page; an htmx "more" request gets only the next rows."""
    context = journal_context(services, before)
    partial = "pos/_journal_rows.html" if before is not None else None
    return page(request, "pos/journal.html", context, partial=partial)


ROUTES = [journal_page]
