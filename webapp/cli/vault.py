"""`relais vault ...`: the secrets vault; values are read from standard input."""

from __future__ import annotations

import sys
from typing import Any

import click

from webapp.cli.common import EXIT_BAD_INPUT, CliState, emit, fail, json_option, unlocked_services
from webapp.i18n import _


@click.group()
def vault() -> None:
    """Secrets vault: values are read from standard input, never from arguments."""


def _open_vault(state: CliState, as_json: bool) -> Any:
    services = unlocked_services(state, as_json, interactive=True, error_code=EXIT_BAD_INPUT)
    return services.vault


@vault.command("status")
@json_option
@click.pass_obj
def vault_status(state: CliState, as_json: bool) -> None:
    """Which backend holds the secrets, and whether it is set up."""
    box = state.services().vault
    data = {
        "backend": box.backend_name,
        "initialized": box.is_initialized,
        "unlocked": box.is_unlocked,
    }
    emit(as_json, data, " ".join(f"{key}={value}" for key, value in data.items()))


@vault.command("set")
@click.argument("name")
@json_option
@click.pass_obj
def vault_set(state: CliState, name: str, as_json: bool) -> None:
    """Store the secret NAME; its value is read from standard input."""
    from webapp.secrets import VaultError

    box = _open_vault(state, as_json)
    if sys.stdin.isatty():
        value = click.prompt(_("Value"), hide_input=True)
    else:
        value = sys.stdin.read().rstrip("\r\n")
    if not value:
        fail(_("Empty value: nothing stored."), as_json=as_json)
    try:
        box.set(name, value)
    except VaultError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(as_json, {"ok": True, "name": name}, _("Secret stored: {name}", name=name))


@vault.command("delete")
@click.argument("name")
@json_option
@click.pass_obj
def vault_delete(state: CliState, name: str, as_json: bool) -> None:
    """Delete the secret NAME."""
    existed = _open_vault(state, as_json).delete(name)
    emit(
        as_json,
        {"ok": True, "deleted": existed},
        _("Deleted.") if existed else _("No such secret."),
    )


@vault.command("list")
@json_option
@click.pass_obj
def vault_list(state: CliState, as_json: bool) -> None:
    """Names of the stored secrets (never their values)."""
    names = _open_vault(state, as_json).names()
    emit(as_json, names, "\n".join(names))
