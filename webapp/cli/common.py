"""What every `relais` command shares: the state object, output, failure and exit codes.

Exit codes: 0 success, 1 some items failed, 2 bad usage or input, 3 rejected credentials.
Every command takes --json for machine-readable output. This module imports no command module.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from webapp import i18n, logs
from webapp.config import DataDir, resolve_data_dir
from webapp.i18n import _

EXIT_OK, EXIT_ITEMS_FAILED, EXIT_BAD_INPUT, EXIT_CREDENTIALS = 0, 1, 2, 3


@dataclass
class CliState:
    data_dir_option: str | None
    _data_dir: DataDir | None = None

    @property
    def data_dir(self) -> DataDir:
        if self._data_dir is None:
            self._data_dir = resolve_data_dir(self.data_dir_option)
        return self._data_dir

    def services(self) -> Any:
        from webapp.services import open_services

        logs.configure(self.data_dir, console=False)
        services = open_services(self.data_dir)
        i18n.set_language(services.default_language)
        return services


def unlocked_services(
    state: CliState,
    as_json: bool,
    *,
    required: bool = True,
    interactive: bool | None = None,
    error_code: int = EXIT_CREDENTIALS,
) -> Any:
    """The services, their vault unlocked from RELAIS_VAULT_PASSPHRASE (or a prompt when run in a
    terminal). A command that needs its secrets (`required`) stops with EXIT_CREDENTIALS when the
    vault stays locked; the others go on and meet a locked vault only if they reach a secret."""
    from webapp.secrets import VaultError, WrongPassphrase

    services = state.services()
    prompt = sys.stdin.isatty() if interactive is None else interactive
    try:
        unlocked = services.vault.unlock_from_environment(interactive=prompt)
    except WrongPassphrase:
        fail(_("Wrong vault passphrase."), EXIT_CREDENTIALS, as_json=as_json)
    except VaultError as exc:
        fail(exc.translated(), error_code, as_json=as_json)
    if required and not unlocked:
        fail(
            _(
                "The vault is locked: set RELAIS_VAULT_PASSPHRASE or run this command in a terminal."
            ),
            EXIT_CREDENTIALS,
            as_json=as_json,
        )
    return services


def connector_named(state: CliState, code: str, as_json: bool, services: Any = None) -> Any:
    """The e-connecteur's connector `code` (read through `services` when given: opening them
    costs a twentieth of a second), or exit 2 saying none has it."""
    from webapp.econnector.connectors import ConnectorError, get

    try:
        return get((services or state.services()).store, code)
    except ConnectorError as exc:
        fail(exc.translated(), as_json=as_json)


def fail(message: str, code: int = EXIT_BAD_INPUT, *, as_json: bool = False) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    else:
        click.echo(f"{_('Error')}: {message}", err=True)
    sys.exit(code)


def emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
