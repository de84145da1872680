"""The e-connecteur's settings (ECN-2): the list of connectors, their deletion and copy. The
three-step wizard that creates and edits one is in wizard.py."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.econnector import connectors as connector_store
from webapp.econnector.connectors import Connector, ConnectorError
from webapp.i18n import N_, gettext
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, first, page

ARTICLE_LABELS = {
    "export": N_("Available for export"),
    "filter": N_("Filter: {tags}"),
    "none": N_("Not concerned"),
}
CUSTOMER_LABELS = {
    "all": N_("All the customers"),
    "filter": N_("Filter: {family}"),
    "none": N_("Not concerned"),
}
DOC_LABELS = {"order": N_("Orders"), "delivery": N_("Deliveries")}


def articles_sent(connector: Connector) -> str:
    return gettext(ARTICLE_LABELS[connector.send_articles], tags=connector.article_filter)


def customers_sent(connector: Connector) -> str:
    text = gettext(CUSTOMER_LABELS[connector.send_customers], family=connector.customer_filter)
    if connector.send_customers != "none" and connector.send_contacts:
        text += " + " + gettext("Contacts")
    return text


def summary_helpers() -> dict[str, Any]:
    return {
        "articles_sent": articles_sent,
        "customers_sent": customers_sent,
        "doc_labels": DOC_LABELS,
    }


# The list -----------------------------------------------------------------------------------


def _list_context(services: Services, **extra: Any) -> dict[str, Any]:
    return {
        "active": "connectors",
        "section": "settings",
        "connectors": connector_store.list_all(services.store),
        **summary_helpers(),
        **extra,
    }


@get("/connectors", name="connectors", sync_to_thread=False)
def connectors_page(request: HTMXRequest, services: ServicesDep) -> Template:
    context = _list_context(services, saved=request.query_params.get("saved"))
    return page(request, "econnector/connectors.html", context, partial="econnector/_list.html")


def _list_response(
    request: HTMXRequest, services: Services, status: int = 200, **extra: Any
) -> Template:
    name = "econnector/_list.html" if request.htmx else "econnector/connectors.html"
    return Template(name, context=_list_context(services, **extra), status_code=status)


@post("/connectors/{code:str}/delete", name="connector_delete", sync_to_thread=True)
def connector_delete(request: HTMXRequest, services: ServicesDep, code: FromPath[str]) -> Template:
    try:
        connector_store.delete(services.store, code, vault=services.vault)
    except ConnectorError as exc:
        return _list_response(request, services, 422, error=exc.translated(), error_code=code)
    return _list_response(request, services, deleted=code)


@post("/connectors/{code:str}/duplicate", name="connector_duplicate", sync_to_thread=True)
def connector_duplicate(
    request: HTMXRequest, services: ServicesDep, code: FromPath[str], data: FormData
) -> Template:
    new_code = first(data.get("new_code"))
    try:
        copy = connector_store.duplicate(services.store, code, new_code, vault=services.vault)
    except ConnectorError as exc:
        return _list_response(
            request, services, 422, error=exc.translated(), error_code=code, new_code=new_code
        )
    # A shop's copy has no cursor: it would receive every order again (docs/prestashop.md).
    shop = copy.mode == "webservice"
    return _list_response(request, services, duplicated=copy.code, duplicated_shop=shop)


ROUTES = [connectors_page, connector_delete, connector_duplicate]
