"""The Scrada page's mailbox section: its settings (saved or removed) and its Verify button."""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.response import Template

from webapp.i18n import _
from webapp.scrada import config as scrada_config
from webapp.scrada import verify
from webapp.scrada.mail_settings import DEFAULT_PORTS
from webapp.scrada.mailbox import VerifyResult
from webapp.scrada.source_settings import MAILBOX_DEFAULTS, SourceSettingsError
from webapp.services import Services
from webapp.web import forms
from webapp.web.common import FormData, ServicesDep


def mailbox_context(services: Services, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """What `_scrada_mailbox.html` shows: the saved settings, or the values just typed."""
    saved = scrada_config.load(services.store).mailbox
    values = {**MAILBOX_DEFAULTS, **(saved or {})}
    shown = {
        name: values[key] if values[key] is not None else ""
        for name, key in forms.MAILBOX_FIELDS.items()
    }
    if values["port"] == DEFAULT_PORTS.get(str(values["security"])):
        shown["mailbox_port"] = ""  # "automatic": a change of security brings its own port
    if form is not None:
        shown.update(forms.texts(form, forms.MAILBOX_FIELDS))
    vault = services.vault
    password_set = bool(vault.get(scrada_config.SECRET_MAILBOX)) if vault.is_unlocked else None
    return {
        "mailbox": saved,
        "mailbox_values": shown,
        "mailbox_password_set": password_set,
        "errors": {},
    }


@post("/scrada/mailbox", name="scrada_mailbox", sync_to_thread=True)
def save_mailbox(services: ServicesDep, data: FormData) -> Template:
    change = scrada_config.ConfigChange(sources=forms.mailbox_change(data))
    try:
        scrada_config.apply(services.store, services.vault, change, services.data_dir)
    except (scrada_config.ConfigError, SourceSettingsError) as exc:
        field = scrada_config.error_field(exc)
        context = mailbox_context(services, form=data)
        context["errors"] = {field: exc.translated()} if field else {}
        context["mailbox_error"] = None if field else exc.translated()
        return Template("scrada/_mailbox.html", context=context, status_code=422)
    context = {**mailbox_context(services), "mailbox_saved": True}
    return Template("scrada/_mailbox.html", context=context)


@post("/scrada/mailbox/verify", name="scrada_mailbox_verify", sync_to_thread=True)
def verify_mailbox(services: ServicesDep) -> Template:
    result = verify.verify_mailbox(services.store, services.vault)
    if result is None:
        result = VerifyResult(False, False, _("Save the mailbox settings first."))
    return Template("scrada/_mailbox_verify.html", context={"result": result})


ROUTES = [save_mailbox, verify_mailbox]
