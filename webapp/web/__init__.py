"""Controllers per area of the UI (web/<area>/, one Router each); thin: they call the
platform and job modules."""

from __future__ import annotations

from litestar import Router

from webapp.web import backoffice, econnector, platform, pos, scrada


def routes() -> list[Router]:
    return [platform.router, backoffice.router, scrada.router, econnector.router, pos.router]
