"""The Litestar application: templates, static files, middlewares and the routes of each area."""

from __future__ import annotations

import logging
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request, Response
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from webapp import buildinfo, formatting, history, i18n, updates
from webapp.config import resource_root
from webapp.i18n import _
from webapp.security import (
    add_security_headers,
    allowed_hosts,
    csrf_secret,
    origin_check_middleware,
)
from webapp.services import Services
from webapp.web import roles, routes

log = logging.getLogger(__name__)


def language_middleware_factory(services: Services) -> Any:
    cookie_name = services.language_cookie

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            chosen = services.default_language
            for name, value in scope.get("headers", []):
                if name == b"cookie":
                    morsel = SimpleCookie(value.decode("latin-1")).get(cookie_name)
                    if morsel and morsel.value in i18n.LANGUAGES:
                        chosen = morsel.value
            token = i18n.set_language(chosen)
            try:
                await app(scope, receive, send)
            finally:
                i18n._current.reset(token)

        return middleware

    return factory


def configure_templates(engine: JinjaTemplateEngine, services: Services) -> None:
    env = engine.engine

    env.globals.update(
        _=i18n.gettext,
        gettext=i18n.gettext,
        ngettext=i18n.ngettext,
        current_language=i18n.current_language,
        LANGUAGES=i18n.LANGUAGES,
        stored=i18n.translate_stored,
        status_label=history.status_label,
        job_label=history.job_label,
        kind_label=history.kind_label,
        version=buildinfo.current().version,
        build_date=buildinfo.current().build_date,
        staged_update=updates.StagedVersion(),
        services=services,
    )
    env.filters.update(formatting.FILTERS)


def html_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status >= 500:
        log.error("error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    if "text/html" not in request.headers.get("accept", "") and not request.headers.get(
        "hx-request"
    ):
        return Response({"status_code": status, "detail": detail}, status_code=status)
    messages = {
        403: _(
            "This action was refused: the page was probably open for too long. Reload it and try again."
        ),
        404: _("This page does not exist."),
        400: _("The request could not be understood."),
    }
    message = messages.get(status, _("Something went wrong. The details are in the log file."))
    return Template(
        "error.html",
        context={"status": status, "message": message, "detail": detail},
        status_code=status,
    )


def create_app(
    services: Services, *, host: str, port: int, extra_hosts: list[str] | None = None
) -> Litestar:
    """Build once the port is bound: the Host allow-list names the real port."""
    root = resource_root()
    environment = Environment(
        loader=FileSystemLoader(root / "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        auto_reload=False,
    )
    engine = JinjaTemplateEngine.from_environment(environment)
    configure_templates(engine, services)

    def provide_services() -> Services:
        return services

    hosts = allowed_hosts(host, port, extra_hosts)
    return Litestar(
        route_handlers=[
            *routes(),
            create_static_files_router(
                path="/static", directories=[Path(root / "static")], name="static"
            ),
        ],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        template_config=TemplateConfig(instance=engine),
        plugins=[HTMXPlugin()],
        allowed_hosts=AllowedHostsConfig(allowed_hosts=hosts),
        csrf_config=CSRFConfig(
            secret=csrf_secret(services.data_dir),
            cookie_name=f"relais_csrf_{services.cookie_suffix}",
            cookie_httponly=True,
            cookie_samesite="strict",
        ),
        middleware=[origin_check_middleware(hosts), language_middleware_factory(services)],
        before_send=[add_security_headers],
        before_request=roles.role_hook(services),
        exception_handlers={HTTPException: html_error_handler, 500: html_error_handler},
        on_shutdown=[services.close],
        logging_config=None,
        debug=False,
    )
