"""The register's tickets page and the till's live sign (online or not, tickets waiting), which
the sales screen polls every few seconds."""

from __future__ import annotations

from litestar import get
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.pos import register_lists, register_status
from webapp.pos.register_config import RegisterError
from webapp.web.common import ServicesDep, page

TICKETS_SHOWN = 100


@get("/pos/till/status", name="pos_till_status", sync_to_thread=False)
def till_status(services: ServicesDep) -> Template:
    """Read in one short read: the sign costs nothing while the sales screen stays open."""
    context = {"till": register_status.till(services.store)}
    return Template("pos/_till_status.html", context=context)


@get("/pos/tickets", name="pos_tickets", sync_to_thread=False)
def tickets_page(request: HTMXRequest, services: ServicesDep) -> Template:
    try:
        tickets = register_lists.list_tickets(services.store, TICKETS_SHOWN)
    except RegisterError:  # not joined yet: the page says so (_register_nav.html)
        tickets = []
    till = register_status.till(services.store)
    context = {
        "active": "pos",
        "section": "tickets",
        "tickets": tickets,
        "till": till,
        "config": till["joined"],
    }
    return page(request, "pos/tickets.html", context)


ROUTES = [till_status, tickets_page]
