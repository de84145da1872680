"""Settings: general values, the secrets vault (create, unlock, lock), the data folder."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp import settings
from webapp.i18n import _
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
        **extra,
    }


@get("/settings", name="settings_page", sync_to_thread=False)
def settings_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return page(request, "platform/settings.html", _context(services))


@post("/settings/general", name="settings_save", sync_to_thread=True)
def settings_save(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    form = SettingsForm.parse(data, settings.SETTINGS)
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


ROUTES = [settings_page, settings_save, vault_create, vault_unlock, vault_lock]
