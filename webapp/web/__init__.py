"""Controllers per area of the UI; thin: they call the platform and job modules."""

from __future__ import annotations

from typing import Any

from webapp.web import (
    backoffice_files,
    backoffice_views,
    connector_maps,
    connector_sync,
    connector_views,
    history_views,
    pages,
    pos_office_views,
    pos_register_views,
    processes,
    scrada_views,
    settings_views,
)


def routes() -> list[Any]:
    return [
        *pages.ROUTES,
        *processes.ROUTES,
        *history_views.ROUTES,
        *settings_views.ROUTES,
        *backoffice_views.ROUTES,
        *backoffice_files.ROUTES,
        *scrada_views.ROUTES,
        *connector_sync.ROUTES,
        *connector_maps.ROUTES,
        *connector_views.ROUTES,
        *pos_office_views.ROUTES,
        *pos_register_views.ROUTES,
    ]
