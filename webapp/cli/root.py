"""The `relais` group and the explicit list of its commands (nothing is added by an import)."""

from __future__ import annotations

import click

from webapp import buildinfo
from webapp.cli.admin import backup, history_group, jobs, settings_group
from webapp.cli.backoffice import backoffice
from webapp.cli.common import CliState
from webapp.cli.econnector import connector
from webapp.cli.pos import pos
from webapp.cli.pos import update_group as pos_update_group
from webapp.cli.pos_register import COMMANDS as POS_REGISTER_COMMANDS
from webapp.cli.pos_register import UPDATE_COMMANDS as POS_REGISTER_UPDATE_COMMANDS
from webapp.cli.scrada import scrada
from webapp.cli.scrada_redeliver import scrada_redeliver
from webapp.cli.serve import serve, tray
from webapp.cli.update import update
from webapp.cli.vault import vault
from webapp.config import is_frozen


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    invoke_without_command=True,
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=str),
    envvar="RELAIS_DATA_DIR",
    help="Data folder (default: the user data folder, or data/ beside the program in portable mode).",
)
@click.version_option(buildinfo.current().version, prog_name="relais")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """Relais: moves a shop's business data where it must go, on a schedule."""
    ctx.obj = CliState(data_dir)
    if ctx.invoked_subcommand is None:
        if not is_frozen():
            click.echo(ctx.get_help())
            return
        # A double-click on the built program: the tray, and the browser opened on the interface.
        ctx.invoke(tray)


def _add_commands() -> None:
    groups = (serve, tray, backup, jobs, history_group, settings_group, vault, update)
    areas = (backoffice, connector, pos, scrada)
    for command in (*groups, *areas):
        main.add_command(command)
    for command in POS_REGISTER_COMMANDS:  # the register's side of `relais pos`
        pos.add_command(command)
    for command in POS_REGISTER_UPDATE_COMMANDS:
        pos_update_group.add_command(command)
    scrada.add_command(scrada_redeliver)


_add_commands()
