"""Scrada settings (SCR-1 to SCR-3): where to connect, what to take, where to write.

Plain values live in the settings table under one key; the API key, password and webhook secret
live only in the vault (PLT-4), under the names below.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from webapp import settings
from webapp.config import DataDir
from webapp.i18n import N_, UserError
from webapp.scrada.mail_settings import MailboxSettings
from webapp.scrada.paths import DEFAULT_TEMPLATE, TemplateError, check_room, check_template
from webapp.scrada.source_settings import SourcesChange, checked_drop_folder, checked_mailbox
from webapp.secrets import Vault
from webapp.store import Store

SETTINGS_KEY = "scrada"
SECRET_API_KEY = "scrada.api_key"
SECRET_PASSWORD = "scrada.password"
SECRET_WEBHOOK = "scrada.webhook_secret"
SECRET_MAILBOX = "scrada.mailbox_password"
PRODUCTION_URL = "https://api.scrada.be/v1/"
TEST_URL = "https://apitest.scrada.be/v1/"
SCOPES = ("all", "selected")
_COMPANY_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


class ConfigError(UserError):
    """A Scrada setting refused; `field` names the form field it belongs under, if one."""

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


def error_field(exc: UserError) -> str | None:
    """The settings form field an error belongs under (a template error: the template's)."""
    return "template" if isinstance(exc, TemplateError) else getattr(exc, "field", None)


@dataclass(frozen=True)
class ScradaConfig:
    api_url: str = PRODUCTION_URL
    company_ids: tuple[str, ...] = ()
    root: str = ""
    template: str = DEFAULT_TEMPLATE
    scope: str = "all"
    new_companies: bool = True
    timeout_seconds: float = 20.0
    # The mailbox source (webapp.scrada.mail_settings.MailboxSettings.as_dict()), None when unused;
    # its password is in the vault under SECRET_MAILBOX.
    mailbox: dict[str, Any] | None = None
    # The drop folder source: where an (S)FTP server or a synced folder leaves Scrada's files
    # (stored like `root`: relative inside a portable data folder); "" when unused.
    drop_folder: str = ""

    def root_in(self, data_dir: DataDir) -> Path | None:
        """The root folder. Kept relative to a portable data folder (so the stick works under
        another drive letter); in portable mode it defaults to `data/scrada` beside the program."""
        if self.root:
            return data_dir.resolve_stored(self.root)
        return data_dir.path / "scrada" if data_dir.portable else None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["company_ids"] = list(self.company_ids)
        return values

    def mailbox_settings(self) -> MailboxSettings | None:
        return MailboxSettings.from_dict(self.mailbox) if self.mailbox else None

    def drop_folder_in(self, data_dir: DataDir) -> Path | None:
        return data_dir.resolve_stored(self.drop_folder) if self.drop_folder else None


@dataclass(frozen=True)
class Credentials:
    api_key: str
    password: str


@dataclass
class ConfigChange:
    """What `relais scrada set` or the settings form asks to change; None leaves a value alone."""

    api_url: str | None = None
    company_ids: list[str] | None = None
    root: str | None = None
    template: str | None = None
    scope: str | None = None
    new_companies: bool | None = None
    api_key: str | None = None
    password: str | None = None
    webhook_secret: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    sources: SourcesChange = field(default_factory=SourcesChange)  # mailbox and drop folder


def load(store: Store) -> ScradaConfig:
    raw = settings.read_value(store, SETTINGS_KEY, {}) or {}
    known = {key: value for key, value in raw.items() if key in ScradaConfig.__dataclass_fields__}
    if "company_ids" in known:
        known["company_ids"] = tuple(known["company_ids"])
    return ScradaConfig(**known)


def _checked_url(url: str) -> str:
    value = url.strip()
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(
            N_("The API address must start with https:// (or http:// for a test server)."),
            field="api_url",
        )
    return value if value.endswith("/") else value + "/"


def _checked_ids(ids: list[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for value in ids:
        for part in re.split(r"[\s,;]+", value.strip()):
            if not part:
                continue
            if not _COMPANY_ID.match(part):
                raise ConfigError(
                    N_("{value} is not a Scrada company id."), field="company_ids", value=part
                )
            if part not in cleaned:
                cleaned.append(part)
    return tuple(cleaned)


def _checked_root(root: str, data_dir: DataDir | None) -> str:
    value = root.strip()
    if not value:
        return ""
    path = Path(value).expanduser()
    if not path.is_absolute():
        if data_dir is not None and data_dir.portable:
            return path.as_posix()  # inside the portable data folder
        raise ConfigError(
            N_("The root folder must be a full path, such as C:\\Comptabilite or /srv/compta."),
            field="root",
        )
    return data_dir.stored_path(path) if data_dir is not None else str(path)


def _check_room(config: ScradaConfig, data_dir: DataDir | None) -> None:
    """The root and the template together must leave room for every path (PATH_LIMIT)."""
    if data_dir is not None:
        root = config.root_in(data_dir)
    else:
        root = Path(config.root) if config.root and Path(config.root).is_absolute() else None
    if root is None:
        return
    try:
        check_room(root, config.template)
    except TemplateError as exc:
        raise ConfigError(exc.message, field="root", **exc.params) from exc


def apply(
    store: Store, vault: Vault | None, change: ConfigChange, data_dir: DataDir | None = None
) -> ScradaConfig:
    """Check every value first, then save: a refused value leaves the old settings whole."""
    config = load(store)
    updates: dict[str, Any] = {}
    if change.api_url is not None:
        updates["api_url"] = _checked_url(change.api_url)
    if change.company_ids is not None:
        updates["company_ids"] = _checked_ids(change.company_ids)
    if change.root is not None:
        updates["root"] = _checked_root(change.root, data_dir)
    if change.template is not None:
        updates["template"] = check_template(change.template)
    if change.scope is not None:
        if change.scope not in SCOPES:
            raise ConfigError(N_("The scope is all or selected."), field="scope")
        updates["scope"] = change.scope
    if change.new_companies is not None:
        updates["new_companies"] = change.new_companies
    updates.update(_source_updates(config, change.sources, data_dir))
    secrets = {
        name: value
        for name, value in (
            (SECRET_API_KEY, change.api_key),
            (SECRET_PASSWORD, change.password),
            (SECRET_WEBHOOK, change.webhook_secret),
            (SECRET_MAILBOX, change.sources.mailbox_password),
        )
        if value
    }
    if secrets and (vault is None or not vault.is_unlocked):
        raise ConfigError(N_("Unlock the secrets vault before saving the API key or password."))
    new = replace(config, **updates)
    if "root" in updates or "template" in updates:
        _check_room(new, data_dir)
    settings.write_value(store, SETTINGS_KEY, new.as_dict())
    for name, value in secrets.items():
        assert vault is not None
        vault.set(name, value.strip() if name != SECRET_MAILBOX else value)
    if change.sources.no_mailbox and vault is not None and vault.is_unlocked:
        vault.delete(SECRET_MAILBOX)
    return new


def _source_updates(
    config: ScradaConfig, change: SourcesChange, data_dir: DataDir | None
) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    if change.no_mailbox:
        updates["mailbox"] = None
    elif change.mailbox is not None:
        updates["mailbox"] = checked_mailbox(config.mailbox, change.mailbox)
    if change.drop_folder is not None:
        create = change.create_drop_folder
        updates["drop_folder"] = checked_drop_folder(change.drop_folder, data_dir, create=create)
    return updates


def typed_root(text: str, data_dir: DataDir) -> Path | None:
    """The root folder a form field names (for the live path preview), or None if it names none."""
    try:
        return ScradaConfig(root=_checked_root(text, data_dir)).root_in(data_dir)
    except ConfigError:
        return None


def credentials(vault: Vault) -> Credentials | None:
    """The API key and password, or None when either is missing or the vault is locked."""
    if not vault.is_unlocked:
        return None
    key, password = vault.get(SECRET_API_KEY), vault.get(SECRET_PASSWORD)
    if not key or not password:
        return None
    return Credentials(key, password)


def webhook_secret(vault: Vault) -> str | None:
    return vault.get(SECRET_WEBHOOK) if vault.is_unlocked else None


def mailbox_password(vault: Vault) -> str | None:
    return vault.get(SECRET_MAILBOX) if vault.is_unlocked else None
