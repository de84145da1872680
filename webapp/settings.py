"""Application settings kept in the ``settings`` table, each with a default and a validator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.i18n import LANGUAGES, N_, UserError
from webapp.store import Store


class SettingError(UserError):
    """A value refused by a setting's validator."""


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise SettingError(N_("Enter a whole number.")) from exc
        if not low <= number <= high:
            raise SettingError(N_("Enter a number between {low} and {high}."), low=low, high=high)
        return number

    return check


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes", "oui"):
        return True
    if text in ("0", "false", "off", "no", "non", ""):
        return False
    raise SettingError(N_("Enter on or off."))


def _feed_url(value: Any) -> str:
    from urllib.parse import urlsplit

    text = str(value or "").strip()
    if text and (urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).netloc):
        raise SettingError(N_("Enter a web address starting with https:// (or leave it empty)."))
    return text


def _ip_address(value: Any) -> str:
    import ipaddress

    text = str(value or "").strip().strip("[]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise SettingError(
            N_("Enter an address of this computer, such as 0.0.0.0 (every network).")
        ) from None


def _file_path(value: Any) -> str:
    from pathlib import Path

    text = str(value or "").strip()
    if text and not Path(text).is_file():
        raise SettingError(N_("No file at this path."))
    return text


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise SettingError(N_("Unknown language."))
    return str(value)


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    validate: Callable[[Any], Any]
    label: str
    help: str = ""


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("language", "fr", _language, N_("Language"), N_("Language of the interface.")),
        Setting(
            "history_retention_months",
            2,
            _int_between(1, 36),
            N_("History retention (months)"),
            N_("Older history entries are purged by the history purge process."),
        ),
        Setting(
            "scrada_archive_retention_months",
            24,
            _int_between(1, 120),
            N_("Scrada archive retention (months)"),
            N_(
                "Copies of the delivered Scrada documents are kept this long, so a file moved"
                " away from its folder can be delivered again."
            ),
        ),
        Setting(
            "backups_kept",
            7,
            _int_between(1, 365),
            N_("Backups kept"),
            N_("Number of automatic database backups kept in the data folder."),
        ),
        Setting(
            "auto_update",
            True,
            _boolean,
            N_("Allow automatic updates"),
            N_(
                "New versions are downloaded from the update feed, checked against the Relais"
                " signature, and installed at the next start."
            ),
        ),
        Setting(
            "update_feed_url",
            "",
            _feed_url,
            N_("Update feed"),
            N_("Address of the signed update manifest (manifest.json)."),
        ),
        # The office's register API (webapp/pos/listener.py): off until chosen, this computer only.
        Setting(
            "pos_api_enabled",
            False,
            _boolean,
            N_("Let the cash registers connect"),
            N_("The registers of the shop reach this computer at the address below."),
        ),
        Setting(
            "pos_api_host",
            "127.0.0.1",
            _ip_address,
            N_("Listen on"),
            N_("0.0.0.0 lets the registers of the local network in; 127.0.0.1 only this computer."),
        ),
        Setting("pos_api_port", 8770, _int_between(1, 65535), N_("Port")),
        Setting(
            "pos_api_cert",
            "",
            _file_path,
            N_("HTTPS certificate (optional)"),
            N_("Path of a PEM file; empty: plain HTTP, for a trusted local network."),
        ),
        Setting("pos_api_key", "", _file_path, N_("Its private key"), N_("Path of a PEM file.")),
    )
}


def get(store: Store, key: str) -> Any:
    return read_value(store, key, SETTINGS[key].default)


def read_value(store: Store, key: str, default: Any = None) -> Any:
    """A stored value, user-facing or internal (such as the scheduler's paused state)."""
    with store.read() as db:
        row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return default if row is None else json.loads(row[0])


def get_all(store: Store) -> dict[str, Any]:
    values = {key: setting.default for key, setting in SETTINGS.items()}
    with store.read() as db:
        for row in db.execute("SELECT key, value FROM settings"):
            if row[0] in values:
                values[row[0]] = json.loads(row[1])
    return values


def put(store: Store, key: str, raw: Any) -> Any:
    value = SETTINGS[key].validate(raw)
    write_value(store, key, value)
    return value


def validate_many(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, SettingError]]:
    """Each value checked by its setting: the accepted values, and the refusals by key."""
    values: dict[str, Any] = {}
    errors: dict[str, SettingError] = {}
    for key, text in raw.items():
        try:
            values[key] = SETTINGS[key].validate(text)
        except SettingError as exc:
            errors[key] = exc
    return values, errors


def write_value(store: Store, key: str, value: Any) -> None:
    write_values(store, {key: value})


def write_values(store: Store, values: dict[str, Any]) -> None:
    """Several values in one transaction: all saved, or none."""
    with store.write() as db:
        for key, value in values.items():
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                " SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                [key, json.dumps(value)],
            )


def install_id(store: Store) -> str:
    """A random id for this data folder: names its keyring entries and cookies apart from a copy's."""
    with store.read() as db:
        row = db.execute("SELECT value FROM settings WHERE key = 'install_id'").fetchone()
    if row:
        return str(json.loads(row[0]))
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO settings (key, value) VALUES ('install_id', ?)",
            [json.dumps(uuid.uuid4().hex)],
        )
        return str(
            json.loads(
                db.execute("SELECT value FROM settings WHERE key = 'install_id'").fetchone()[0]
            )
        )
