"""The backoffice area of the UI: its controllers behind one Router."""

from __future__ import annotations

from litestar import Router

from webapp.web.backoffice import files, views

router = Router(path="/", route_handlers=[*views.ROUTES, *files.ROUTES])
