"""The register's tickets page (issue 17): the last tickets, each printed again as a counted
duplicate, refunded, or voided while its day is still open; every one of those signed."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp.pos import (
    refunds,
    register,
    register_lists,
    register_status,
    reprints,
    selling,
    trail_keys,
)
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, first, page

TICKETS_SHOWN = 100


@get("/pos/tickets", name="pos_tickets", sync_to_thread=False)
def tickets_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return _tickets(request, services)


# -- printing a ticket (the first print is the original, the others are counted duplicates) ------


@post("/pos/tickets/{number:str}/print", name="pos_ticket_print", sync_to_thread=True)
def ticket_print(
    request: HTMXRequest, services: ServicesDep, number: FromPath[str], data: FormData
) -> Template:
    """A POST: each print is recorded (signed) before the page is served, never by a prefetch."""
    context: dict[str, Any] = {"active": "pos", "section": "tickets", "vault": services.vault}
    try:
        signer = selling.signer_for(services.store, services.vault)
        printed = reprints.print_ticket(services.store, signer, number, first(data.get("user")))
    except reprints.ReprintError as exc:
        context["error"] = exc.translated()
        return page(request, "pos/ticket_print.html", context, status_code=404)
    except (register.RegisterError, trail_keys.TrailKeyError) as exc:
        context["error"] = exc.translated()
        return page(request, "pos/ticket_print.html", context, status_code=409)
    with services.store.read() as db:
        names = register_lists.method_names(db)
    context.update(printed=printed, ticket=printed.ticket, method_names=names)
    return page(request, "pos/ticket_print.html", context)


# -- giving money back: a refund of what is left, or a void of the whole ticket ------------------


@post("/pos/tickets/{number:str}/refund", name="pos_ticket_refund", sync_to_thread=True)
def ticket_refund(
    request: HTMXRequest, services: ServicesDep, number: FromPath[str], data: FormData
) -> Template | Redirect:
    """Refund what is left of a ticket: the first POST asks for confirmation, the second (with
    `confirm`) records the signed refund ticket; a refusal is shown on the tickets page."""
    return _give_back(request, services, number, data, refunds.record_refund_all, "refund")


@post("/pos/tickets/{number:str}/void", name="pos_ticket_void", sync_to_thread=True)
def ticket_void(
    request: HTMXRequest, services: ServicesDep, number: FromPath[str], data: FormData
) -> Template | Redirect:
    """Void a sale of the open day, as the refund above: confirmed first, then signed."""
    return _give_back(request, services, number, data, refunds.record_void, "void")


def _give_back(
    request: HTMXRequest,
    services: Services,
    number: str,
    data: FormData,
    record: refunds.GiveBack,
    action: str,
) -> Template | Redirect:
    if first(data.get("confirm")) != "yes":
        with services.store.read() as db:
            methods = register_lists.active_methods(db)
        return _tickets(request, services, confirm=number, action=action, methods=methods)
    try:
        signer = selling.signer_for(services.store, services.vault)
        record(services.store, number, signer, first(data.get("user")), first(data.get("method")))
    except (register.RegisterError, trail_keys.TrailKeyError) as exc:
        return _tickets(request, services, 409, error=exc.translated())
    except selling.TicketError as exc:
        return _tickets(request, services, 422, error=exc.translated())
    if register.RUNNING is not None:
        register.RUNNING.wake()
    return Redirect("/pos/tickets", status_code=303)


def _tickets(
    request: HTMXRequest, services: Services, status_code: int = 200, **extra: Any
) -> Template:
    try:
        tickets = register_lists.list_tickets(services.store, TICKETS_SHOWN)
    except register.RegisterError:  # not joined yet: the page says so (_register_nav.html)
        tickets = []
    state = register_status.till(services.store)
    context = {"active": "pos", "section": "tickets", "tickets": tickets, "till": state}
    context.update(config=state["joined"], **extra)
    return page(request, "pos/tickets.html", context, status_code=status_code)


ROUTES = [tickets_page, ticket_print, ticket_refund, ticket_void]
