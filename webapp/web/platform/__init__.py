"""The platform area of the UI: its controllers behind one Router."""

from __future__ import annotations

from litestar import Router

from webapp.web.platform import history, pages, processes, settings

router = Router(
    path="/", route_handlers=[*pages.ROUTES, *processes.ROUTES, *history.ROUTES, *settings.ROUTES]
)
