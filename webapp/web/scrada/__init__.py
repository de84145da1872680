"""The scrada area of the UI: its controllers behind one Router."""

from __future__ import annotations

from litestar import Router

from webapp.web.scrada import views

router = Router(path="/", route_handlers=[*views.ROUTES])
