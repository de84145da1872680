"""The pos area of the UI: its controllers behind one Router."""

from __future__ import annotations

from litestar import Router

from webapp.web.pos import breaks, closures, join, journal, office, register

router = Router(
    path="/",
    route_handlers=[
        *office.ROUTES,
        *join.ROUTES,
        *register.ROUTES,
        *closures.ROUTES,
        *journal.ROUTES,
        *breaks.ROUTES,
    ],
)
