"""What a data folder offers by its role. A cash register (``pos_role`` = ``register``) keeps to
its sales screen, its tickets, its status and its settings; the office's pages (Scrada, the
connectors, the back office's forms) answer that this is done at the office.

The role is read once per request (one settings query) by :func:`role_hook`, kept on
``request.state`` for the menu (``templates/_nav.html``), and the office's pages are refused there,
before their handler runs: nothing of theirs is read or written on a register.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

from webapp.pos import protocol
from webapp.services import Services
from webapp.settings import read_value

OFFICE = "office"
REGISTER = "register"
STATE_KEY = "data_role"

# The processes that run on a register (webapp/job_list.py): its own upkeep. Scrada, the
# archive purge and the register packages are the office's.
REGISTER_JOBS = frozenset({"history_purge", "database_backup", "update_check"})

# Pages a register does not offer: they write the office's data or speak to outside systems.
_OFFICE_ONLY = re.compile(
    r"^/(scrada|connectors|suppliers|documents|backoffice)(/|$)"
    r"|^/articles/(new|create|\d+/save|\d+/connectors(/.*)?)$"
    r"|^/customers/(new|create|\d+/save)$"
    r"|^/pos/office(/|$)"
)
_PROCESS = re.compile(r"^/processes/(?P<name>[^/]+)(/run)?$")
# Served without a page: no role needed (static files, the health check, JSON APIs).
_NO_PAGE = ("/static/", "/healthz", "/favicon.ico", "/api/")


def data_role(services: Services) -> str:
    """``register`` once this folder joined an office, else ``office`` (one settings query)."""
    value = read_value(services.store, protocol.ROLE_SETTING, OFFICE)
    return REGISTER if value == REGISTER else OFFICE


def request_role(request: Request[Any, Any, Any]) -> str:
    """The role the hook read for this request (``office`` when it did not run)."""
    return str(request.state.get(STATE_KEY, OFFICE))


def office_only(path: str) -> bool:
    """A page the office offers and a register does not."""
    if _OFFICE_ONLY.match(path):
        return True
    process = _PROCESS.match(path)
    return bool(process and process["name"] != "scheduler" and process["name"] not in REGISTER_JOBS)


def role_hook(
    services: Services,
) -> Callable[[Request[Any, Any, Any]], Template | Redirect | None]:
    """The app's ``before_request``: the role read once, the office's pages refused on a register
    (404 and a page saying where it is done), the dashboard replaced by the sales screen."""

    def before_request(request: Request[Any, Any, Any]) -> Template | Redirect | None:
        path = request.url.path
        if path.startswith(_NO_PAGE):
            return None
        role = data_role(services)
        request.state[STATE_KEY] = role
        if role != REGISTER:
            return None
        if path == "/":
            return Redirect("/pos/sell", status_code=303)
        if office_only(path):
            return Template("pos/office_only.html", context={"path": path}, status_code=404)
        return None

    return before_request
