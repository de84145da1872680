"""The till's live sign (online or not, tickets waiting), which the sales screen polls every few
seconds."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from webapp.pos import register_status
from webapp.web.common import ServicesDep


@get("/pos/till/status", name="pos_till_status", sync_to_thread=False)
def till_status(services: ServicesDep) -> Template:
    """Read in one short read: the sign costs nothing while the sales screen stays open."""
    context = {"till": register_status.till(services.store)}
    return Template("pos/_till_status.html", context=context)


ROUTES = [till_status]
