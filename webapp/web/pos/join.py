"""« Rejoindre un bureau » (/pos/join): a fresh install becomes a register from the browser.

The join code (or the office's address, the register's number and its token typed as the office
page shows them) is checked with the office by :func:`webapp.pos.register_config.join`, as
`relais pos join` does. The token goes to the vault: when it is locked, or not created yet, the
same form asks for its passphrase and opens it with the functions the Settings page uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from litestar import get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp import settings
from webapp.i18n import N_, _
from webapp.pos import join_code, protocol, register
from webapp.pos.register_client import OfficeError, OfficeRefused
from webapp.secrets import VaultError
from webapp.services import Services
from webapp.store import one
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import Fields, FormError, VaultCreateForm, first_error, texts

SHOWN = ("code", "server", "number", "token")


def offered(services: Services) -> bool:
    """A fresh install: no role chosen, and not an office that already has registers."""
    if settings.read_value(services.store, protocol.ROLE_SETTING) is not None:
        return False
    with services.store.read() as db:
        return one(db, "SELECT 1 AS x FROM pos_registers LIMIT 1", []) is None


@dataclass(frozen=True)
class JoinForm:
    """A join code, or the three values it packs; an unreadable code is refused here."""

    server_url: str
    number: int
    token: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        code = fields.text("code")
        if code:
            try:
                packed = join_code.decode(code)
            except join_code.JoinCodeError as exc:
                fields.errors.add("code", exc.message, **exc.params)
                raise FormError(fields.errors.found) from None
            return cls(packed.server_url, packed.number, packed.token)
        server, number, token = fields.text("server"), fields.text("number"), fields.text("token")
        if not (server or number or token):
            fields.errors.add("code", N_("Paste the join code the office gave."))
        elif not number.isdigit() or int(number) < 1:
            fields.errors.add("number", N_("The register number must be a positive whole number."))
        if (server or number or token) and not (server and token):
            fields.errors.add("server", N_("Give the office address, the number and the token."))
        fields.done()
        return cls(server, int(number), token)


def _form(
    services: Services, data: Mapping[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "active": "pos",
        "form": texts(data or {}, SHOWN),
        "vault": services.vault,
        **extra,
    }


def _result(request: HTMXRequest, context: dict[str, Any], status: int) -> Template:
    return page(
        request, "pos/join.html", context, partial="pos/_join_form.html", status_code=status
    )


@get("/pos/join", name="pos_join", sync_to_thread=True)
def join_page(request: HTMXRequest, services: ServicesDep) -> Template | Redirect:
    if register.role(services.store) == "register":
        return Redirect("/pos/register", status_code=303)
    return page(request, "pos/join.html", _form(services))


def _open_vault(services: Services, data: Mapping[str, Any]) -> str | None:
    """The vault opened (or created) with the passphrase typed here; the refusal otherwise."""
    vault = services.vault
    if vault.is_unlocked:
        return None
    passphrase = Fields(data).raw("passphrase")
    try:
        if not vault.is_initialized:
            vault.create(VaultCreateForm.parse(data).passphrase)
        elif passphrase:
            vault.unlock(passphrase)
        else:
            return _("The token is kept in the vault: type its passphrase.")
    except FormError as exc:
        return first_error(exc)
    except VaultError as exc:
        return exc.translated()
    return None


@post("/pos/join", name="pos_join_submit", sync_to_thread=True)
def join_submit(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    try:
        form = JoinForm.parse(data)
    except FormError as exc:
        return _result(request, _form(services, data, errors=exc.translated()), 422)
    problem = _open_vault(services, data)
    if problem is not None:
        return _result(request, _form(services, data, vault_error=problem), 422)
    try:
        hello = register.join(
            services.store, services.vault, form.server_url, form.number, form.token
        )
    except OfficeRefused:
        error = _("The office refused this token: ask the office for a new join code.")
        return _result(request, _form(services, data, error=error), 422)
    except (OfficeError, register.RegisterError) as exc:
        return _result(request, _form(services, data, error=exc.translated()), 422)
    if register.RUNNING is None:
        services.stoppers.append(register.start_synchroniser(services))
    joined = {"number": form.number, "company": hello.get("company"), "server": form.server_url}
    return _result(request, _form(services, joined=joined), 200)


ROUTES = [join_page, join_submit]
