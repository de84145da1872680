"""`relais connector test` and the webservice parts of `add`, `receive` and `send`: a PrestaShop
shop's key, read without an echo and checked in the unlocked vault before anything runs. The
command group and the other commands are in webapp/cli/econnector.py."""

from __future__ import annotations

import sys
from typing import Any

import click

from webapp.cli.common import (
    EXIT_CREDENTIALS,
    EXIT_ITEMS_FAILED,
    CliState,
    connector_named,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.i18n import _


def read_key(option: str | None) -> str:
    """The key from standard input ('-'), or as given; never echoed."""
    if option != "-":
        return (option or "").strip()
    if sys.stdin.isatty():
        return str(click.prompt(_("PrestaShop key"), hide_input=True, err=True)).strip()
    return sys.stdin.readline().strip()


def _stored_key(services: Any, code: str, as_json: bool) -> str:
    """The shop's key from the unlocked vault (exit 3 when it holds none)."""
    from webapp.econnector.connectors import shop_key

    key = shop_key(services.vault, code)
    if not key:
        fail(
            _("No PrestaShop key is stored for {code}.", code=code),
            EXIT_CREDENTIALS,
            as_json=as_json,
        )
    return key


def shop_services(state: CliState, item: Any, as_json: bool) -> Any:
    """The services, their vault unlocked and holding the shop's key, before a run is started
    (exit 3 if not)."""
    services = unlocked_services(state, as_json)
    _stored_key(services, item.code, as_json)
    return services


@click.command("test")
@click.argument("code")
@json_option
@click.pass_obj
def test_command(state: CliState, code: str, as_json: bool) -> None:
    """Test a webservice connector's shop and key: exit 0 when the key works, 3 when the shop
    refuses it, 1 when the shop cannot be reached or is not PrestaShop."""
    from webapp.econnector.prestashop.connection import check_connection

    services = unlocked_services(state, as_json)
    item = connector_named(state, code, as_json)
    if item.mode != "webservice":
        fail(
            _("The connector {code} exchanges CSV files: nothing to test.", code=code),
            as_json=as_json,
        )
    key = _stored_key(services, item.code, as_json)
    result = check_connection(item.shop_url, key, use_ws_key=item.use_ws_key)
    lines = [result.message]
    if result.ok:
        lines += [
            _("Shop: {name}", name=result.shop_name or "-"),
            _("Readable: {names}", names=", ".join(result.readable) or "-"),
            _("Writable: {names}", names=", ".join(result.writable) or "-"),
        ]
    emit(as_json, result.as_dict(), "\n".join(lines))
    sys.exit(result.exit_code)


def send_to_shop(state: CliState, item: Any, as_json: bool) -> None:
    """The articles' stock and prices to the shop (exit 1 when some were refused or not found,
    3 when the shop refuses the key)."""
    from webapp.econnector.connectors import ConnectorError
    from webapp.econnector.prestashop.send import ShopSendReport
    from webapp.econnector.send import send

    services = unlocked_services(state, as_json)
    try:
        report = send(services.store, item, vault=services.vault)
    except ConnectorError as exc:
        fail(exc.translated(), EXIT_CREDENTIALS, as_json=as_json)
    assert isinstance(report, ShopSendReport)
    emit(as_json, report.as_dict(), "\n".join(report.lines()))
    if report.key_refused:
        sys.exit(EXIT_CREDENTIALS)
    if not report.ok:
        sys.exit(EXIT_ITEMS_FAILED)
