"""The e-connecteur's synchronisation (ECN-5 to ECN-7): the sync screen, the reception in two steps
(analysis, then integration, each with live progress) and the send with its summary.

The work is done by `econnector.receive` and `econnector.send`; each step of a reception is a task
(`econnector.reception`), a run whose page, /connectors/reception/{run id}, polls it every second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp.econnector import connectors as connector_store
from webapp.econnector import inbox, mappings, reception
from webapp.econnector import send as sending
from webapp.econnector.connectors import Connector, ConnectorError, replace
from webapp.econnector.mappings import set_mapping
from webapp.i18n import N_, gettext
from webapp.services import Services
from webapp.tasks import TaskBusy
from webapp.web.common import FormData, ServicesDep, first, page
from webapp.web.econnector import reception_screen
from webapp.web.econnector.views import summary_helpers

CODE_KINDS = {"vat": N_("VAT rates"), "unit": N_("Sales units"), "country": N_("Countries")}
STATUS_LABELS = {
    "will_integrate": N_("New document"),
    "integrated": N_("Integrated"),
    "not_integrated": N_("Not integrated"),
    "already": N_("Already integrated"),
}
CUSTOMER_LABELS = {
    "new": N_("New customer"),
    "homonym": N_("Homonym found"),
    "linked": N_("Given to an existing customer"),
    "mapped": N_("Known customer"),
}


def _connector(services: Services, code: str) -> Connector:
    try:
        return connector_store.get(services.store, code)
    except ConnectorError:
        raise NotFoundException() from None


# The sync screen -------------------------------------------------------------------------------


def _sync_context(services: Services, **extra: Any) -> dict[str, Any]:
    items = connector_store.list_all(services.store, include_hidden=False)
    return {
        "active": "connectors",
        "section": "sync",
        "states": [inbox.sync_state(services.store, item) for item in items],
        **summary_helpers(),
        **extra,
    }


# The sync screen reads each waiting file to count its documents: in a thread, not on the loop.
@get("/connectors/sync", name="connector_sync", sync_to_thread=True)
def sync_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return page(request, "econnector/sync.html", _sync_context(services))


@get("/connectors/{code:str}/state", name="connector_state", sync_to_thread=True)
def sync_row(services: ServicesDep, code: FromPath[str]) -> Template:
    """The refresh button: the connector's import folder scanned again."""
    state = inbox.sync_state(services.store, _connector(services, code))
    return Template("econnector/_sync_row.html", context={"state": state, **summary_helpers()})


@get("/connectors/banner", name="connector_banner", sync_to_thread=False)
def banner(services: ServicesDep) -> Template:
    """The dashboard's warning: connectors received at start-up have data waiting."""
    waiting = inbox.startup_waiting(services.store)
    return Template("econnector/_banner.html", context={"waiting": waiting})


# Reception -------------------------------------------------------------------------------------


def _step(services: Services, run_id: int) -> reception.ReceptionStep:
    found = reception.step(services.tasks, run_id)
    if found is None:
        raise NotFoundException()
    return found


def _reception_context(services: Services, run_id: int, **extra: Any) -> dict[str, Any]:
    task = _step(services, run_id)
    return {
        "active": "connectors",
        "section": "sync",
        "task": task,
        **reception_screen.analysed_context(services, task),
        "code_kinds": CODE_KINDS,
        "status_labels": STATUS_LABELS,
        "customer_labels": CUSTOMER_LABELS,
        "ref": connector_store.reference(services.store),
        "code_errors": {},
        **extra,
    }


def _reception(
    request: HTMXRequest, services: Services, run_id: int, status_code: int = 200, **extra: Any
) -> Template:
    """One step of the reception; the address bar follows it, so a reload shows it again."""
    template = "econnector/_reception.html" if request.htmx else "econnector/reception.html"
    return Template(
        template,
        context=_reception_context(services, run_id, **extra),
        status_code=status_code,
        headers={"HX-Push-Url": f"/connectors/reception/{run_id}"},
    )


@post("/connectors/{code:str}/receive", name="connector_receive", sync_to_thread=True)
def receive_start(
    request: HTMXRequest, services: ServicesDep, code: FromPath[str]
) -> Response[Any]:
    """ "Réceptionner": the analysis starts; its page follows it."""
    connector = _connector(services, code)
    run_id = reception.start_analysis(services.tasks, connector.code)
    target = f"/connectors/reception/{run_id}"
    if request.htmx:
        return Response(content="", headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)


@get("/connectors/reception/{run_id:int}", name="connector_reception", sync_to_thread=False)
def reception_page(request: HTMXRequest, services: ServicesDep, run_id: FromPath[int]) -> Template:
    return page(
        request,
        "econnector/reception.html",
        _reception_context(services, run_id),
        partial="econnector/_reception.html",
    )


@post(
    "/connectors/reception/{run_id:int}/codes",
    name="connector_reception_codes",
    sync_to_thread=True,
)
def reception_codes(
    request: HTMXRequest, services: ServicesDep, run_id: FromPath[int], data: FormData
) -> Template:
    """The correspondences asked for by the analysis, saved; then the analysis runs again."""
    task = _step(services, run_id)
    connector = _connector(services, task.connector)
    kinds, externals, internals = (
        _list(data.get(name)) for name in ("kind", "external", "internal")
    )
    entries = [
        (kind, external, internal)
        for kind, external, internal in zip(kinds, externals, internals, strict=False)
        if kind in CODE_KINDS
    ]
    bad = mappings.unknown_codes(
        services.store, [(kind, internal) for kind, _, internal in entries]
    )
    if bad or not entries:
        errors = {
            f"{entries[i][0]}:{entries[i][1]}": gettext(
                "{code} is not a known internal code.", code=entries[i][2] or "—"
            )
            for i in bad
        }
        given = {f"{kind}:{external}": internal for kind, external, internal in entries}
        return _reception(
            request, services, run_id, status_code=422, code_errors=errors, given=given
        )
    for kind, external, internal in entries:
        set_mapping(services.store, connector, kind, external, internal)
    again = reception.start_analysis(services.tasks, connector.code, task.links)
    return _reception(request, services, again)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(item).strip() for item in values]


@post(
    "/connectors/reception/{run_id:int}/analyse",
    name="connector_reception_analyse",
    sync_to_thread=True,
)
def reception_analyse(
    request: HTMXRequest, services: ServicesDep, run_id: FromPath[int]
) -> Template:
    """Analyse again (after giving correspondences elsewhere, or new files)."""
    task = _step(services, run_id)
    if task.running:
        return _reception(request, services, run_id)
    again = reception.start_analysis(services.tasks, task.connector, task.links)
    return _reception(request, services, again)


@post(
    "/connectors/reception/{run_id:int}/integrate",
    name="connector_reception_integrate",
    sync_to_thread=True,
)
def reception_integrate(
    request: HTMXRequest, services: ServicesDep, run_id: FromPath[int], data: FormData
) -> Template:
    """ "Intégrer": the user's choice for each homonym, then the integration."""
    task = _step(services, run_id)
    if task.state != "analysed":  # a second click, or an integration's page: it shows what runs
        return _reception(request, services, run_id)
    links: dict[str, str] = {}
    errors: dict[str, str] = {}
    for entry in task.homonyms():
        choice = first(data.get(f"link:{entry['ref']}")) or "new"
        if choice != "new" and choice not in entry["candidates"]:
            errors[entry["ref"]] = gettext("Choose one of the customers found.")
        links[entry["ref"]] = choice
    if errors:
        return _reception(request, services, run_id, status_code=422, link_errors=errors)
    try:
        started = reception.start_integration(services.tasks, task, links)
    except TaskBusy:
        busy = gettext(
            "A reception of {code} is already running: wait for its end.", code=task.connector
        )
        return _reception(request, services, run_id, status_code=422, busy=busy)
    return _reception(request, services, started)


# Send ------------------------------------------------------------------------------------------

# The send settings a user may change for one send without saving them on the connector.
OVERRIDABLE = connector_store.SEND_SETTINGS
CUSTOMER_SETTINGS = ("send_customers", "customer_filter", "send_contacts")


def _send_context(services: Services, connector: Connector, **extra: Any) -> dict[str, Any]:
    from webapp.web.econnector.wizard import form_of

    return {
        "active": "connectors",
        "section": "sync",
        "connector": connector,
        "form": {**form_of(connector), **extra.pop("form", {})},
        "ref": connector_store.reference(services.store),
        "errors": {},
        "counts": _counts(services, connector),
        **summary_helpers(),
        **extra,
    }


def _counts(services: Services, connector: Connector) -> dict[str, int]:
    counts = {"articles": 0, "customers": 0, "contacts": 0}
    if connector.send_articles != "none":
        counts["articles"] = sum(1 for _ in sending.article_rows(services.store, connector))
    if connector.send_customers != "none" and connector.mode != "webservice":
        counts["customers"] = sum(1 for _ in sending.customer_rows(services.store, connector))
        if connector.send_contacts:
            counts["contacts"] = sum(1 for _ in sending.contact_rows(services.store, connector))
    return counts


@get("/connectors/{code:str}/send", name="connector_send", sync_to_thread=True)
def send_page(services: ServicesDep, code: FromPath[str]) -> Template:
    connector = _connector(services, code)
    return Template("econnector/send.html", context=_send_context(services, connector))


def _overrides(services: Services, connector: Connector, data: dict[str, Any]) -> Connector:
    from webapp.web.econnector.wizard import connector_from, form_of

    form = form_of(connector)
    # A shop is sent articles only: its page has no customer settings to read.
    shop = connector.mode == "webservice"
    for name in OVERRIDABLE:
        if not (shop and name in CUSTOMER_SETTINGS):
            form[name] = first(data.get(name))
    form["send_contacts"] = "1" if form["send_contacts"] in ("1", "on") else ""
    changed = connector_from(form, 2)
    values = {name: getattr(changed, name) for name in OVERRIDABLE}
    candidate = replace(connector, **values)
    # The send's own rules only: the folders are checked by `send` (the import folder is not used).
    for name in ("send_articles", "send_customers"):
        if getattr(candidate, name) not in connector_store.CHOICES[name]:
            raise ConnectorError(N_("Unknown choice for {field}."), field=name)
    if candidate.send_articles == "filter" and not candidate.article_filter.strip():
        raise ConnectorError(N_("Give the tags of the articles to send."), field="article_filter")
    if candidate.send_customers == "filter" and not candidate.customer_filter.strip():
        raise ConnectorError(
            N_("Give the family of the customers to send."), field="customer_filter"
        )
    connector_store.check_references(services.store, candidate)
    return candidate


def _send_errors(exc: ConnectorError) -> dict[str, str]:
    shown = (*OVERRIDABLE, "export_dir")
    return {exc.field if exc.field in shown else "form": exc.translated()}


@post("/connectors/{code:str}/send/preview", name="connector_send_preview", sync_to_thread=True)
def send_preview(
    request: HTMXRequest, services: ServicesDep, code: FromPath[str], data: FormData
) -> Template:
    """The summary again, under the settings changed for this send."""
    connector = _connector(services, code)
    form = {name: first(data.get(name)) for name in (*OVERRIDABLE, "export_dir")}
    try:
        candidate = _overrides(services, connector, data)
    except ConnectorError as exc:
        context = _send_context(services, connector, form=form, errors=_send_errors(exc))
        return Template("econnector/_send.html", context=context, status_code=422)
    context = _send_context(services, connector, form=form)
    context["counts"] = _counts(services, candidate)
    context["preview"] = candidate
    return Template("econnector/_send.html", context=context)


@post("/connectors/{code:str}/send/run", name="connector_send_run", sync_to_thread=True)
def send_run(
    request: HTMXRequest, services: ServicesDep, code: FromPath[str], data: FormData
) -> Template:
    connector = _connector(services, code)
    form = {name: first(data.get(name)) for name in (*OVERRIDABLE, "export_dir")}
    template = "econnector/_send.html" if request.htmx else "econnector/send.html"
    try:
        candidate = _overrides(services, connector, data)
        values = {name: getattr(candidate, name) for name in OVERRIDABLE}
        overrides = {
            name: value for name, value in values.items() if value != getattr(connector, name)
        }
        report = sending.send(
            services.store,
            connector,
            export_dir=form["export_dir"] or None,
            overrides=overrides or None,
            origin="manual",
            vault=services.vault,
        )
    except ConnectorError as exc:
        context = _send_context(services, connector, form=form, errors=_send_errors(exc))
        return Template(template, context=context, status_code=422)
    context = _send_context(services, connector, form=form, report=report)
    context.update(_written(report))
    return Template(template, context=context)


def _written(report: Any) -> dict[str, Any]:
    """The files a CSV send wrote, by name, and their folder (one folder per send)."""
    files = [
        {"kind": entry["kind"], "name": Path(entry["file"]).name, "rows": entry["rows"]}
        for entry in getattr(report, "files", [])
    ]
    folder = str(Path(report.files[0]["file"]).parent) if files else ""
    return {"written": files, "written_folder": folder}


ROUTES = [
    sync_page,
    sync_row,
    banner,
    receive_start,
    reception_page,
    reception_codes,
    reception_analyse,
    reception_integrate,
    send_page,
    send_preview,
    send_run,
]
