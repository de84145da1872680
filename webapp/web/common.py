"""Small helpers shared by the controllers."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.services import Services

ServicesDep = NamedDependency[Services]
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def page(
    request: HTMXRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status_code: int = 200,
) -> Template:
    """The whole page for a normal visit, only ``partial`` for an htmx request that targets it.

    The Back button asks htmx to restore a page it did not keep (`historyCacheSize` 0): that
    request (`HX-History-Restore-Request`) wants the whole page, not its section.
    """
    htmx = request.htmx
    name = partial if partial and htmx and not htmx.history_restore_request else template
    return Template(name, context=context, status_code=status_code)


def first(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def local_user() -> str:
    """Who is at this computer, for a form's "Your name" left empty."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"
