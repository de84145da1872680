"""The mailbox and drop folder options of `relais scrada set` (the values are checked by
webapp.scrada.source_settings, as for the Scrada page)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from webapp.scrada.mail_settings import DONE_ACTIONS, SECURITIES
from webapp.scrada.source_settings import SourcesChange

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option("--mailbox-host", help="Mail server (IMAP) where Scrada sends the files."),
    click.option("--mailbox-port", help="Its port (993 with ssl, 143 with starttls)."),
    click.option(
        "--mailbox-security",
        type=click.Choice(SECURITIES),
        help="ssl, starttls, or none (only for this computer: 127.0.0.1, localhost).",
    ),
    click.option("--mailbox-user", help="The mailbox user name."),
    click.option(
        "--mailbox-password", help="The mailbox password (stored in the vault); '-' reads stdin."
    ),
    click.option("--mailbox-folder", help="The folder read (INBOX by default)."),
    click.option(
        "--mailbox-done",
        type=click.Choice(DONE_ACTIONS),
        help="What to do with a message once delivered: mark it (keyword) or move it.",
    ),
    click.option("--mailbox-done-folder", help="Where done messages go with --mailbox-done move."),
    click.option("--no-mailbox", is_flag=True, help="Stop reading the mailbox (forgets it)."),
    click.option("--drop-folder", help="Folder where Scrada's files are dropped (full path)."),
    click.option("--create-drop-folder", is_flag=True, help="Create the drop folder if missing."),
    click.option("--no-drop-folder", is_flag=True, help="Stop reading the drop folder."),
]


def source_options(function: F) -> F:
    for option in reversed(_OPTIONS):
        function = option(function)
    return function


class StdinTwice(click.UsageError):
    """Two values asked from standard input: it can give only one."""


def sources_change(values: dict[str, Any], stdin_taken: bool) -> SourcesChange:
    """The change the options ask for; `stdin_taken` when another option already read stdin."""
    password = values.pop("mailbox_password")
    if password == "-":
        if stdin_taken:
            raise StdinTwice("only one option can read standard input ('-') at a time")
        password = sys.stdin.read().rstrip("\r\n")
    mailbox = {
        "host": values.pop("mailbox_host"),
        "port": values.pop("mailbox_port"),
        "security": values.pop("mailbox_security"),
        "user": values.pop("mailbox_user"),
        "folder": values.pop("mailbox_folder"),
        "done_action": values.pop("mailbox_done"),
        "done_folder": values.pop("mailbox_done_folder"),
    }
    drop_folder = values.pop("drop_folder")
    if values.pop("no_drop_folder"):
        drop_folder = ""
    return SourcesChange(
        mailbox=mailbox if any(value is not None for value in mailbox.values()) else None,
        no_mailbox=bool(values.pop("no_mailbox")),
        mailbox_password=password or None,
        drop_folder=drop_folder,
        create_drop_folder=bool(values.pop("create_drop_folder")),
    )
