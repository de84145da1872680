"""The Scrada page's state in words: cash-book continuity problems (and the dashboard's summary
of them), and the route that delivers each book with what to set up for the books without one."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Template

from webapp.i18n import N_
from webapp.scrada import config as scrada_config
from webapp.scrada import continuity, overview, routes
from webapp.services import Services
from webapp.web.common import ServicesDep

STATE_WORDS = {
    routes.DELIVERING: N_("delivering"),
    routes.OFFERED: N_("offered, nothing new"),
    routes.NOT_OFFERED: N_("not offered by this Scrada account"),
    routes.ERROR: N_("error"),
    routes.NOT_ASKED: N_("not asked yet"),
    routes.SET_UP: N_("set up, nothing arrived yet"),
    routes.NOT_SET_UP: N_("not set up"),
}


def overview_context(services: Services) -> dict[str, Any]:
    config = scrada_config.load(services.store)
    setup = routes.setup_of(config, services.vault, services.data_dir)
    url = overview.webhook_url(services.data_dir)
    book_routes = routes.routes_by_book(services.store, setup)
    return {
        "problems": overview.problems(services.store),
        "book_routes": book_routes,
        "routes_missing": any(book.advice == routes.NO_ROUTE for book in book_routes),
        "route_setup": setup,
        "state_words": STATE_WORDS,
        "webhook_url": url,
    }


@post("/scrada/continuity/{problem_id:int}/resolve", name="scrada_resolve", sync_to_thread=True)
def resolve(services: ServicesDep, problem_id: FromPath[int]) -> Template:
    continuity.resolve_problem(services.store, problem_id)
    context = {"problems": overview.problems(services.store)}
    return Template("scrada/_continuity.html", context=context)


@get("/scrada/continuity/summary", name="scrada_continuity_summary", sync_to_thread=False)
def summary(services: ServicesDep) -> Template:
    context = {"problems": overview.problems(services.store)}
    return Template("scrada/_continuity_summary.html", context=context)


ROUTES = [resolve, summary]
