"""The office's page of one register's chain breaks (issue 17): each break in words, and a form
to write down what was found and done about it (webapp/pos/trail_breaks.py). On its own page: the
registers table it is linked from is polled, and would wipe a form being typed."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp.pos import office, trail_breaks
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, local_user, page
from webapp.web.forms import ResolveForm

ERROR_STATUS = {trail_breaks.BreakNotFound: 404, trail_breaks.AcknowledgementRefused: 422}


def _context(services: Services, number: int, **extra: Any) -> dict[str, Any]:
    register = office.get_register(services.store, number)
    if register is None:
        raise NotFoundException()
    breaks = trail_breaks.register_breaks(services.store, number)
    return {"active": "pos", "register": register, "breaks": breaks, **extra}


@get("/pos/office/registers/{number:int}/breaks", name="pos_register_breaks", sync_to_thread=True)
def breaks_page(request: HTMXRequest, services: ServicesDep, number: FromPath[int]) -> Template:
    return page(request, "pos/trail_breaks.html", _context(services, number))


@post(
    "/pos/office/registers/{number:int}/breaks/{chain:str}/acknowledge",
    name="pos_break_acknowledge",
    sync_to_thread=True,
)
def acknowledge(
    request: HTMXRequest,
    services: ServicesDep,
    number: FromPath[int],
    chain: FromPath[str],
    data: FormData,
) -> Template | Redirect:
    """Write down what was found and done about the break of ``chain``; the page again with the
    reason when refused (nothing written)."""
    form = ResolveForm.parse(data, default_who=local_user())
    try:
        trail_breaks.acknowledge(services.store, number, chain, form.justification, form.who)
    except (trail_breaks.BreakNotFound, trail_breaks.AcknowledgementRefused) as exc:
        context = _context(services, number, error=exc.translated(), failed_chain=chain)
        status = ERROR_STATUS[type(exc)]
        return page(request, "pos/trail_breaks.html", context, status_code=status)
    return Redirect(f"/pos/office/registers/{number}/breaks", status_code=303)


ROUTES = [breaks_page, acknowledge]
