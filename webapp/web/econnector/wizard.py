"""The e-connecteur's three-step wizard (ECN-2), creating or editing a connector.

The wizard keeps its state in the form itself: the fields of the other steps travel as hidden
inputs, each "Next step" validates the steps done so far on the server (422 with the error under
its field), and "Finish" (or "Save", on any step) saves through `connectors.save`.

A webservice connector's key never travels back to the browser: typed once, it is held here under
a random token (the form carries the token) until the wizard saves it into the vault.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp.csvio import DATE_FORMATS, DECIMAL_MARKS, CsvError, CsvOptions
from webapp.econnector import connectors as connector_store
from webapp.econnector.connectors import Connector, ConnectorError
from webapp.econnector.prestashop.connection import ConnectionResult, check_connection
from webapp.econnector.prestashop.key_drafts import KeyDrafts
from webapp.i18n import N_, gettext
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, first
from webapp.web.econnector import folders

STEPS = {
    1: (
        "code",
        "partner",
        "hidden",
        "mode",
        "shop_url",
        "use_ws_key",
        "order_states",
        "import_dir",
        "export_dir",
        "csv_encoding",
        "csv_delimiter",
        "csv_decimal",
        "csv_date_format",
    ),
    2: connector_store.SEND_SETTINGS,
    3: (
        "doc_type",
        "company_id",
        "site_id",
        "carrier_id",
        "generate_payment",
        "customer_family_id",
        "supplier_family_id",
        "reception_update",
        "shipping_ref",
        "discount_ref",
    ),
}
STEP_TITLES = {
    1: N_("Set the communication mode"),
    2: N_("Set the sends"),
    3: N_("Set the receptions"),
}
FLAGS = ("hidden", "send_contacts", "generate_payment", "use_ws_key")
IDS = tuple(connector_store.REFERENCE_FIELDS)
STEP_OF = {name: step for step, names in STEPS.items() for name in names} | {"key": 1}
CSV_CHOICES = {
    "csv_encoding": (("utf-8", "UTF-8"), ("windows-1252", "Windows-1252"), ("latin-1", "Latin-1")),
    "csv_delimiter": ((";", ";"), (",", ","), ("tab", N_("tab")), ("|", "|")),
    "csv_decimal": tuple((mark, mark) for mark in DECIMAL_MARKS),
    "csv_date_format": tuple((code, shown) for code, shown in DATE_FORMATS.items()),
}


KEY_DRAFTS = KeyDrafts()


def _typed_key(data: dict[str, Any]) -> tuple[str, str]:
    """(the key typed now or held from an earlier step, its token; "" for none)."""
    typed = first(data.get("key")).strip()
    token = first(data.get("key_token"))
    if typed:
        if token:
            KEY_DRAFTS.drop(token)
        return typed, KEY_DRAFTS.hold(typed)
    held = KEY_DRAFTS.get(token) if token else None
    return (held, token) if held else ("", "")


def form_of(connector: Connector) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in dataclass_fields(Connector):
        value = getattr(connector, item.name)
        if item.name == "id":
            continue
        if isinstance(value, bool):
            values[item.name] = "1" if value else ""
        else:
            values[item.name] = "" if value is None else str(value)
    return values


def _form_values(data: dict[str, Any]) -> dict[str, str]:
    values = {name: first(data.get(name)) for name in STEP_OF}
    for name in FLAGS:
        values[name] = "1" if values[name] in ("1", "on", "true") else ""
    return values


def connector_from(form: dict[str, str], upto: int) -> Connector:
    """The connector the form describes, for the steps up to `upto` (defaults after)."""
    values: dict[str, Any] = {}
    for step in range(1, upto + 1):
        for name in STEPS[step]:
            raw = form.get(name, "")
            if name in FLAGS:
                values[name] = raw == "1"
            elif name in IDS:
                try:
                    values[name] = int(raw) if raw else None
                except ValueError:
                    raise ConnectorError(N_("Choose a value from the list."), field=name) from None
            elif name in ("shipping_ref", "discount_ref") and not raw.strip():
                continue  # a form without them (an older page) keeps the defaults
            elif name not in ("import_dir", "export_dir", "article_filter", "customer_filter"):
                values[name] = raw.strip()
            else:
                values[name] = raw
    values["code"] = form.get("code", "").strip()
    return Connector(**values)


def _check_csv(connector: Connector) -> None:
    for name, option in (
        ("csv_encoding", "encoding"),
        ("csv_delimiter", "delimiter"),
        ("csv_decimal", "decimal"),
        ("csv_date_format", "date_format"),
    ):
        value = getattr(connector, name)
        if value:
            try:
                CsvOptions(**{option: value}).checked()
            except CsvError as exc:
                raise ConnectorError(exc.message, field=name, **exc.params) from exc


def check_steps(services: Services, form: dict[str, str], upto: int, original: str) -> Connector:
    existing = connector_store.get(services.store, original) if original else None
    connector = connector_from(form, upto)
    _check_csv(connector)
    checked = connector_store.validate(
        services.store, connector, existing_id=existing.id if existing else None
    )
    return checked


def _wizard_context(
    services: Services,
    form: dict[str, str],
    step: int,
    original: str,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    key_token: str = "",
    connection: ConnectionResult | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        **extra,
        "key_token": key_token,
        "connection": connection,
        "active": "connectors",
        "section": "settings",
        "form": form,
        "step": step,
        "steps": STEPS,
        "step_titles": STEP_TITLES,
        "original": original,
        "errors": errors or {},
        "error": error,
        "ref": connector_store.reference(services.store),
        "csv_choices": CSV_CHOICES,
        "flags": FLAGS,
    }


@get("/connectors/new", name="connector_new", sync_to_thread=False)
def connector_new(services: ServicesDep) -> Template:
    start = connector_store.defaults(services.store)
    blank = Connector(
        code="",
        partner="",
        company_id=start["company_id"],
        site_id=start["site_id"],
        warehouse_id=start["warehouse_id"],
    )
    context = _wizard_context(services, form_of(blank), 1, "")
    return Template("econnector/wizard.html", context=context)


@get("/connectors/{code:str}/edit", name="connector_edit", sync_to_thread=False)
def connector_edit(services: ServicesDep, code: FromPath[str]) -> Template:
    try:
        connector = connector_store.get(services.store, code)
    except ConnectorError:
        raise NotFoundException() from None
    context = _wizard_context(services, form_of(connector), 1, connector.code)
    return Template("econnector/wizard.html", context=context)


@post("/connectors/wizard", name="connector_wizard", sync_to_thread=True)
def connector_wizard(request: HTMXRequest, services: ServicesDep, data: FormData) -> Response[Any]:
    """One path for the wizard's buttons: `action` is previous, next or save."""
    form = _form_values(data)
    original = first(data.get("original"))
    action = first(data.get("action")) or "next"
    try:
        step = min(3, max(1, int(first(data.get("step")) or 1)))
    except ValueError:
        step = 1
    if original:
        try:
            connector_store.get(services.store, original)
        except ConnectorError:
            raise NotFoundException() from None
    template = "econnector/_wizard.html" if request.htmx else "econnector/wizard.html"
    key, token = _typed_key(data)
    if action == "previous":
        context = _wizard_context(services, form, max(1, step - 1), original, key_token=token)
        return Template(template, context=context)
    if action == "refresh":  # the mode changed: the step again with its own fields
        context = _wizard_context(services, form, step, original, key_token=token)
        return Template(template, context=context)
    if action == "test":
        return _connection_test(services, template, form, original, key, token)
    folder_field = first(data.get("create_folder"))
    if folder_field in folders.FOLDER_FIELDS:
        return _create_folder(services, template, form, original, step, folder_field, token)
    upto = 3 if action == "save" else step
    try:
        checked = check_steps(services, form, upto, original)
        if checked.mode == "webservice" and not key and not _has_key(services, original):
            raise ConnectorError(N_("Give the PrestaShop webservice key."), field="key")
    except ConnectorError as exc:
        where = STEP_OF.get(exc.field or "", step)
        return _refused(services, template, form, original, exc, min(where, step), token)
    if action != "save":
        # Folders (and the shop address) are shown as saved: a full path, ~ expanded.
        form.update(
            import_dir=checked.import_dir,
            export_dir=checked.export_dir,
            shop_url=checked.shop_url,
            order_states=checked.order_states,
        )
        context = _wizard_context(services, form, step + 1, original, key_token=token)
        return Template(template, context=context)
    try:
        saved = connector_store.save(
            services.store, checked, code=original or None, vault=services.vault, key=key
        )
    except ConnectorError as exc:
        where = STEP_OF.get(exc.field or "", step)
        return _refused(services, template, form, original, exc, where, token)
    if token:
        KEY_DRAFTS.drop(token)
    target = f"/connectors?saved={saved.code}"
    if request.htmx:
        return Response(content="", status_code=200, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)


def _refused(
    services: Services,
    template: str,
    form: dict[str, str],
    original: str,
    exc: ConnectorError,
    step: int,
    token: str,
) -> Template:
    """The step `step` again, 422, the error under its field (or above the form); a folder that
    is not there comes with the offer to create it."""
    errors = {exc.field: exc.translated()} if exc.field else {}
    offer = exc.field if folders.missing(exc.field, form.get(exc.field or "", "")) else None
    context = _wizard_context(
        services,
        form,
        step,
        original,
        errors=errors,
        error=None if exc.field else exc.translated(),
        key_token=token,
        missing_folder=offer,
    )
    return Template(template, context=context, status_code=422)


def _create_folder(
    services: Services,
    template: str,
    form: dict[str, str],
    original: str,
    step: int,
    field: str,
    token: str,
) -> Template:
    """ "Créer le dossier": the folder and its parents, then the step checked again in place."""
    try:
        folders.create(field, form.get(field, ""))
        checked = check_steps(services, form, step, original)
    except ConnectorError as exc:
        where = STEP_OF.get(exc.field or "", step)
        return _refused(services, template, form, original, exc, min(where, step), token)
    form.update(import_dir=checked.import_dir, export_dir=checked.export_dir)
    context = _wizard_context(
        services, form, step, original, key_token=token, created_folder=form[field]
    )
    return Template(template, context=context)


def _has_key(services: Services, original: str) -> bool:
    """Editing a webservice connector: its stored key stays (the vault checks at save)."""
    if not original:
        return False
    return connector_store.get(services.store, original).mode == "webservice"


def _connection_test(
    services: Services, template: str, form: dict[str, str], original: str, key: str, token: str
) -> Template:
    """ "Test de connexion": the shop and key as typed (the stored key when editing)."""
    errors: dict[str, str] = {}
    try:
        shop = connector_store.checked_shop_url(form.get("shop_url", ""))
    except ConnectorError as exc:
        errors["shop_url"] = exc.translated()
    if not key and original:
        key = connector_store.shop_key(services.vault, original) or ""
    if not key:
        errors["key"] = gettext(N_("Give the PrestaShop webservice key."))
    if errors:
        context = _wizard_context(services, form, 1, original, errors=errors, key_token=token)
        return Template(template, context=context, status_code=422)
    result = check_connection(shop, key, use_ws_key=form.get("use_ws_key") == "1")
    context = _wizard_context(services, form, 1, original, key_token=token, connection=result)
    return Template(template, context=context)


ROUTES = [connector_new, connector_edit, connector_wizard]
