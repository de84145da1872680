"""Controllers per area of the UI; thin: they call the platform and job modules."""

from __future__ import annotations

from typing import Any

from webapp.web import history_views, pages, processes, settings_views


def routes() -> list[Any]:
    return [*pages.ROUTES, *processes.ROUTES, *history_views.ROUTES, *settings_views.ROUTES]
