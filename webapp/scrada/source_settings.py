"""The settings of the sources Relais reads beside Scrada's API: the mailbox (IMAP) and the drop
folder. One set of checks for `relais scrada set` and the Scrada page; each refusal names the form
field it belongs under (`ConfigError.field`), so the page can show it there (422)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.config import DataDir
from webapp.i18n import N_, UserError
from webapp.scrada.mail_settings import (
    DEFAULT_PORTS,
    MailboxSettingsError,
    check_folder,
    validate_mailbox_settings,
)

MAILBOX_FIELDS = ("host", "port", "security", "user", "folder", "done_action", "done_folder")
MAILBOX_DEFAULTS: dict[str, Any] = {
    "host": "",
    "port": None,
    "security": "ssl",
    "user": "",
    "folder": "INBOX",
    "done_action": "keyword",
    "done_folder": "",
}
# The form field of each refusal of `validate_mailbox_settings` (its msgids); a refusal not
# listed here is shown above the form.
_FIELD_OF_MESSAGE = {
    "The connection security must be ssl, starttls or none, not {value}.": "security",
    "The mail server {host} is not a host name or an IP address.": "host",
    "The port must be a number from 1 to 65535, not {value}.": "port",
    "Enter the mailbox user name (one line).": "user",
    "Done messages are marked with a keyword or moved, not {value}.": "done_action",
    "The folder for done messages must differ from the folder read.": "done_folder",
}
_WITHOUT_TLS = "Without TLS the password would cross the network in clear"


class SourceSettingsError(UserError):
    """A mailbox or drop folder setting refused; `field` is the form field's name."""

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


@dataclass
class SourcesChange:
    """What to change in the mailbox and drop folder settings; None leaves a value alone."""

    mailbox: dict[str, Any] | None = None  # given fields of MAILBOX_FIELDS, merged over the saved
    no_mailbox: bool = False
    mailbox_password: str | None = None
    drop_folder: str | None = None  # "" stops using the drop folder
    create_drop_folder: bool = False

    @property
    def has_secret(self) -> bool:
        return bool(self.mailbox_password)


def checked_mailbox(saved: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """The given fields over the saved ones (or the defaults), checked as a whole."""
    values = {**MAILBOX_DEFAULTS, **(saved or {})}
    if given.get("security") and given.get("port") is None and _default_port(values):
        values["port"] = None  # 993 was ssl's default: starttls gets its own (143)
    values.update({name: value for name, value in given.items() if value is not None})
    values = {name: values[name] for name in MAILBOX_FIELDS}
    if values["host"] in ("", None):
        raise SourceSettingsError(N_("Enter the mail server."), field="mailbox_host")
    _check_one_folder(str(values["folder"]), "mailbox_folder")
    if str(values["done_action"]).strip().lower() == "move":
        _check_one_folder(str(values["done_folder"]), "mailbox_done_folder")
    try:
        return validate_mailbox_settings(**values).as_dict()
    except MailboxSettingsError as exc:
        raise SourceSettingsError(exc.message, field=_field_of(exc.message), **exc.params) from exc


def _default_port(values: dict[str, Any]) -> bool:
    return bool(values["port"] == DEFAULT_PORTS.get(str(values["security"])))


def _check_one_folder(folder: str, field: str) -> None:
    try:
        check_folder(folder)
    except MailboxSettingsError as exc:
        raise SourceSettingsError(exc.message, field=field, **exc.params) from exc


def _field_of(message: str) -> str | None:
    if message.startswith(_WITHOUT_TLS):
        return "mailbox_security"
    name = _FIELD_OF_MESSAGE.get(message)
    return f"mailbox_{name}" if name else None


def checked_drop_folder(text: str, data_dir: DataDir | None, *, create: bool) -> str:
    """The drop folder as stored (relative inside a portable data folder), "" for none. The
    folder must exist, or be created when asked (the page offers it, the CLI has a flag)."""
    value = text.strip()
    if not value:
        return ""
    path = Path(value).expanduser()
    if not path.is_absolute():
        if data_dir is None or not data_dir.portable:
            raise SourceSettingsError(
                N_("The drop folder must be a full path, such as C:\\Scrada\\Depot or /srv/depot."),
                field="drop_folder",
            )
        path = data_dir.path / path
    if not path.is_dir():
        _create_or_refuse(path, create)
    return data_dir.stored_path(path) if data_dir is not None else str(path)


def _create_or_refuse(path: Path, create: bool) -> None:
    if path.exists():
        raise SourceSettingsError(
            N_("{path} is a file, not a folder."), field="drop_folder", path=str(path)
        )
    if not create:
        raise MissingDropFolder(
            N_("The folder {path} does not exist."), field="drop_folder", path=str(path)
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceSettingsError(
            N_("The folder {path} could not be created: {reason}"),
            field="drop_folder",
            path=str(path),
            reason=exc.strerror or str(exc),
        ) from exc


class MissingDropFolder(SourceSettingsError):
    """The drop folder does not exist yet: the page offers to create it."""
