"""The econnector area of the UI: its controllers behind one Router."""

from __future__ import annotations

from litestar import Router

from webapp.web.econnector import map_files, maps, sync, views, wizard

router = Router(
    path="/",
    route_handlers=[*sync.ROUTES, *maps.ROUTES, *map_files.ROUTES, *views.ROUTES, *wizard.ROUTES],
)
