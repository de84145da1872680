"""Settings: general values, the registers' access, the secrets vault, the data folder."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp import settings
from webapp.i18n import _
from webapp.pos import listener, protocol
from webapp.secrets import VaultError
from webapp.services import Services
from webapp.settings import SettingError
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import (
    FormError,
    PassphraseForm,
    SettingsForm,
    VaultCreateForm,
    first_error,
)


def _context(services: Services, **extra: Any) -> dict[str, Any]:
    return {
        "active": "settings",
        "values": settings.get_all(services.store),
        "definitions": settings.SETTINGS,
        "vault": services.vault,
        "data_dir": services.data_dir,
        "errors": {},
        "pos_api": _pos_api(services),
        **extra,
    }


def _pos_api(services: Services, **extra: Any) -> dict[str, Any]:
    """The registers' access card: what is saved, what runs, and the address to give."""
    running = listener.running(services)
    lan = listener.lan_address()
    return {
        "values": {key: settings.get(services.store, key) for key in listener.SETTING_KEYS},
        "errors": {},
        "running": running,
        "public_url": running.public_url() if running else None,
        "pinned": listener.is_pinned(services),
        "is_register": settings.read_value(services.store, protocol.ROLE_SETTING) == "register",
        "hosts": [("127.0.0.1", _("This computer only")), ("0.0.0.0", _("The local network"))]
        + ([(lan, _("This network address only"))] if lan else []),
        **extra,
    }


@get("/settings", name="settings_page", sync_to_thread=False)
def settings_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return page(request, "platform/settings.html", _context(services))


@post("/settings/general", name="settings_save", sync_to_thread=True)
def settings_save(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    general = [key for key in settings.SETTINGS if key not in listener.SETTING_KEYS]
    form = SettingsForm.parse(data, general)
    errors: dict[str, str] = {}
    for key, text in form.values.items():
        try:
            value = settings.put(services.store, key, text)
        except SettingError as exc:
            errors[key] = exc.translated()
            continue
        if key == "language":
            services.default_language = value
    context = _context(services, errors=errors, saved=not errors)
    if errors:
        context["values"].update({key: form.values[key] for key in errors})
    return page(
        request,
        "platform/settings.html",
        context,
        partial="platform/_settings_form.html",
        status_code=422 if errors else 200,
    )


@post("/settings/pos-api", name="pos_api_save", sync_to_thread=True)
def pos_api_save(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    """Checked, then started (or stopped), then saved: a refusal leaves both as they were."""
    form = SettingsForm.parse(data, listener.SETTING_KEYS)
    raw = {key: settings.get(services.store, key) for key in listener.SETTING_KEYS}
    raw.update(form.values)  # the fields sent change, the others stay as saved
    values, refused = settings.validate_many(raw)
    errors = {key: exc.translated() for key, exc in refused.items()}
    problem = None
    if not errors:
        try:
            listener.apply(services, listener.config_from(values))
        except listener.ListenerError as exc:
            problem = exc.translated()
    saved = not errors and problem is None
    if saved:
        settings.write_values(services.store, values)
    card = _pos_api(services, errors=errors, problem=problem, saved=saved)
    if not saved:
        card["values"].update(raw, pos_api_enabled=values.get("pos_api_enabled", False))
    return page(
        request,
        "platform/settings.html",
        _context(services, pos_api=card),
        partial="pos/_listener_settings.html",
        status_code=200 if saved else 422,
    )


def _vault_result(
    request: HTMXRequest, services: ServicesDep, error: str | None, notice: str | None
) -> Template:
    context = _context(services, vault_error=error, vault_notice=notice)
    return page(
        request,
        "platform/settings.html",
        context,
        partial="platform/_vault.html",
        status_code=422 if error else 200,
    )


@post("/settings/vault/create", name="vault_create", sync_to_thread=True)
def vault_create(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    try:
        form = VaultCreateForm.parse(data)
    except FormError as exc:
        return _vault_result(request, services, first_error(exc), None)
    try:
        services.vault.create(form.passphrase)
    except VaultError as exc:
        return _vault_result(request, services, exc.translated(), None)
    return _vault_result(request, services, None, _("The vault is created and unlocked."))


@post("/settings/vault/unlock", name="vault_unlock", sync_to_thread=True)
def vault_unlock(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    try:
        services.vault.unlock(PassphraseForm.parse(data).passphrase)
    except VaultError as exc:
        return _vault_result(request, services, exc.translated(), None)
    return _vault_result(request, services, None, _("The vault is unlocked."))


@post("/settings/vault/lock", name="vault_lock", sync_to_thread=True)
def vault_lock(request: HTMXRequest, services: ServicesDep) -> Template:
    services.vault.lock()
    return _vault_result(request, services, None, _("The vault is locked."))


ROUTES = [settings_page, settings_save, pos_api_save, vault_create, vault_unlock, vault_lock]
