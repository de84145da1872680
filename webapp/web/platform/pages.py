"""Dashboard, the areas still to come, language switch, health and favicon."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response, get, post
from litestar.datastructures import Cookie
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp import history_queries
from webapp.scrada import alerts
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import LanguageForm
from webapp.web.pos.join import offered as join_offered


@get("/", name="dashboard", sync_to_thread=False)
def dashboard(request: HTMXRequest, services: ServicesDep) -> Template:
    context = {
        "active": "dashboard",
        "processes": services.runner.definitions(),
        "recent_runs": history_queries.recent_runs(services.store, limit=8),
        "unresolved": history_queries.count_unresolved(services.store),
        "vault": services.vault,
        "paused": services.runner.paused,
        "scrada_alerts": alerts.open_alerts(services.store),
        "join_offer": join_offered(services),  # a fresh install may be a cash register
    }
    return page(
        request, "platform/dashboard.html", context, partial="platform/_dashboard_body.html"
    )


@post("/language", name="language", sync_to_thread=False, status_code=303)
def switch_language(request: HTMXRequest, services: ServicesDep, data: FormData) -> Redirect:
    form = LanguageForm.parse(data)
    cookie = Cookie(
        key=services.language_cookie,
        value=form.language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
    )
    return Redirect(form.target, cookies=[cookie], status_code=303)


@get("/healthz", name="health", sync_to_thread=False, media_type=MediaType.JSON)
def health(services: ServicesDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "schema_version": services.store.schema_version,
        "vault": services.vault.backend_name,
        "vault_unlocked": services.vault.is_unlocked,
    }


@get("/favicon.ico", name="favicon", sync_to_thread=False, include_in_schema=False)
def favicon() -> Response[bytes]:
    from webapp.config import resource_root

    data = (resource_root() / "static" / "favicon.ico").read_bytes()
    return Response(data, media_type="image/x-icon", headers={"cache-control": "max-age=86400"})


ROUTES = [
    dashboard,
    switch_language,
    health,
    favicon,
]
