"""Submitted forms read in one place: each form is a small frozen dataclass whose ``parse`` turns
the posted fields into typed values, or raises ``FormError`` naming the fields refused.

Controllers call ``parse`` and hand the typed input to the service; the service checks its own
rules again (so the command line gets the same refusals), and the form's messages are the
service's messages wherever both check the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Self
from urllib.parse import urlsplit

from webapp import history, i18n
from webapp.backoffice.listing import Errors, FormError
from webapp.history_queries import ItemFilter
from webapp.i18n import N_
from webapp.pos import office
from webapp.scrada import redeliver
from webapp.scrada.config import ConfigChange
from webapp.scrada.source_settings import SourcesChange

__all__ = ["Errors", "Fields", "FormError"]

SCAN_MAX = 200
SCRADA_SETTINGS_SHOWN = ("api_url", "company_ids", "root", "template", "drop_folder")
MAILBOX_FIELDS = {
    "mailbox_host": "host",
    "mailbox_port": "port",
    "mailbox_security": "security",
    "mailbox_user": "user",
    "mailbox_folder": "folder",
    "mailbox_done": "done_action",
    "mailbox_done_folder": "done_folder",
}


class Fields:
    """The posted values of one form. A name may come once (a string) or several times (a list);
    a single value is its first one, trimmed. Errors are collected, then raised all at once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors = Errors()

    def values(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [str(item).strip() for item in items]

    def raw(self, name: str) -> str:
        """The first value as typed: a password keeps the spaces at either end."""
        value = self.data.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        return "" if value is None else str(value)

    def text(self, name: str, max_length: int | None = None) -> str:
        value = self.raw(name).strip()
        if max_length is not None and len(value) > max_length:
            self.errors.add(name, N_("At most {max} characters."), max=max_length)
        return value

    def checked(self, name: str) -> bool:
        """A checkbox as browsers send it: "on" when ticked, absent otherwise."""
        return self.text(name) == "on"

    def done(self) -> None:
        self.errors.raise_if_any()


def first_error(exc: FormError) -> str:
    """The first refusal of a form that shows one message above its fields."""
    return next(iter(exc.translated().values()), "")


def texts(data: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The fields as they were typed, to show them again beside their errors."""
    fields = Fields(data)
    return {name: fields.text(name) for name in names}


# -- settings and the vault -----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsForm:
    """The general settings sent (only the ones present change); settings.put checks each."""

    values: dict[str, str]

    @classmethod
    def parse(cls, data: Mapping[str, Any], known: Iterable[str]) -> Self:
        fields = Fields(data)
        return cls({key: fields.text(key) for key in known if key in data})


@dataclass(frozen=True)
class VaultCreateForm:
    passphrase: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        passphrase = fields.text("passphrase")
        if passphrase != fields.text("confirmation"):
            fields.errors.add("confirmation", N_("The two passphrases differ."))
        fields.done()
        return cls(passphrase)


@dataclass(frozen=True)
class PassphraseForm:
    passphrase: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        return cls(Fields(data).text("passphrase"))


@dataclass(frozen=True)
class LanguageForm:
    """A language to switch to and the page to go back to (one of ours: no open redirect)."""

    language: str
    target: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        code = fields.text("language")
        if code not in i18n.LANGUAGES:
            code = i18n.DEFAULT_LANGUAGE
        target = fields.text("next") or "/"
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/"):
            target = "/"  # only our own pages: no open redirect
        return cls(code, target)


# -- processes ------------------------------------------------------------------------------------

CHECKED = ("on", "1", "true")


@dataclass(frozen=True)
class ProcessForm:
    """A process's trigger and whether it runs on it; JobRunner.update_definition checks both."""

    trigger_kind: str
    trigger_value: str
    enabled: bool

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        enabled = fields.text("enabled") in CHECKED
        return cls(fields.text("trigger_kind"), fields.text("trigger_value"), enabled)


@dataclass(frozen=True)
class SchedulerForm:
    """Pause the scheduler, or (anything else) let it run again."""

    pause: bool

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        return cls(Fields(data).text("action") == "pause")


# -- history --------------------------------------------------------------------------------------


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class HistoryQuery:
    """The history's filters and page from the URL; a value that means nothing is dropped."""

    filters: ItemFilter
    page: int

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> Self:
        fields = Fields(params)
        status = fields.text("status") or None
        if status not in (*history.ITEM_STATUSES, "unresolved", None):
            status = None
        filters = ItemFilter(
            date_from=_day(fields.text("date_from")),
            date_to=_day(fields.text("date_to")),
            job_name=fields.text("job") or None,
            kind=fields.text("kind") or None,
            status=status,
        )
        try:
            number = max(1, int(fields.text("page") or 1))
        except ValueError:
            number = 1
        return cls(filters, number)


@dataclass(frozen=True)
class ResolveForm:
    """Resolving an error: the justification (history.resolve_item checks it) and who wrote it."""

    justification: str
    who: str

    @classmethod
    def parse(cls, data: Mapping[str, Any], default_who: str) -> Self:
        fields = Fields(data)
        return cls(fields.text("justification"), fields.text("who") or default_who)


# -- Scrada ---------------------------------------------------------------------------------------


def scrada_settings(data: Mapping[str, Any]) -> ConfigChange:
    """The Scrada settings form as a change; scrada.config.apply checks every value."""
    fields = Fields(data)
    return ConfigChange(
        api_url=fields.text("api_url"),
        company_ids=[fields.text("company_ids")],
        root=fields.text("root"),
        template=fields.text("template"),
        scope=fields.text("scope") or "all",
        new_companies=fields.checked("new_companies"),
        api_key=fields.text("api_key") or None,
        password=fields.text("password") or None,
        webhook_secret=fields.text("webhook_secret") or None,
        sources=SourcesChange(
            drop_folder=fields.text("drop_folder"),
            create_drop_folder=fields.checked("create_drop_folder"),
        ),
    )


@dataclass(frozen=True)
class SelectionForm:
    """A company or one of its books ticked or not for the pull."""

    selected: bool
    kind: str
    book: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        return cls(fields.checked("selected"), fields.text("kind"), fields.text("book"))


def mailbox_change(data: Mapping[str, Any]) -> SourcesChange:
    """The mailbox form as a change (or its removal); source_settings checks every value."""
    fields = Fields(data)
    if fields.text("action") == "remove":
        return SourcesChange(no_mailbox=True)
    given: dict[str, str | None] = {key: fields.text(name) for name, key in MAILBOX_FIELDS.items()}
    given["port"] = given["port"] or None  # empty: the security's usual port
    password = fields.raw("mailbox_password")
    return SourcesChange(mailbox=given, mailbox_password=password if password.strip() else None)


@dataclass(frozen=True)
class RedeliverForm:
    """A date range (both days required, the end not before the start) and optional filters;
    the same checks as ``relais scrada redeliver`` (scrada.redeliver)."""

    date_from: date
    date_to: date
    company_id: str | None
    book_kind: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        days: dict[str, date] = {}
        for name in ("date_from", "date_to"):
            try:
                days[name] = redeliver.parse_day(fields.text(name))
            except redeliver.BadRequest as exc:
                fields.errors.found.setdefault(name, exc)
        fields.done()
        try:
            redeliver.check_dates(days["date_from"], days["date_to"])
        except redeliver.BadRequest as exc:
            raise FormError({"date_to": exc}) from exc
        company = fields.text("company") or None
        return cls(days["date_from"], days["date_to"], company, fields.text("book") or None)


# -- cash registers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterForm:
    """A register to add (or give a new token): office.add_register checks the same rules."""

    number: int
    label: str | None
    company: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        text = fields.text("number")
        number = int(text) if text.isascii() and text.isdigit() else 0
        if not 0 < number <= office.REGISTER_NUMBER_MAX:
            fields.errors.add("number", office.REGISTER_NUMBER_RULE)
        label = fields.text("label")
        if len(label) > office.REGISTER_LABEL_MAX:
            fields.errors.add("label", office.REGISTER_LABEL_RULE, max=office.REGISTER_LABEL_MAX)
        company = fields.text("company")
        fields.done()
        return cls(number, label or None, company or None)


@dataclass(frozen=True)
class CartForm:
    """The sales screen's ticket, kept in the form: one code and one quantity per line (a missing
    quantity is 1), a line to remove, an article scanned or clicked, the payment and the seller."""

    codes: tuple[str, ...]
    quantities: tuple[str, ...]
    remove: int | None
    scanned: str
    payment: str
    user: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = Fields(data)
        codes, quantities = fields.values("code"), fields.values("qty")
        quantities += ["1"] * (len(codes) - len(quantities))
        remove_text = fields.text("remove")
        remove = int(remove_text) if remove_text.isascii() and remove_text.isdigit() else None
        if remove is not None and remove >= len(codes):
            remove = None
        scanned = fields.text("scan") or fields.text("add")
        return cls(
            tuple(codes),
            tuple(quantities[: len(codes)]),
            remove,
            scanned[:SCAN_MAX],
            fields.text("payment"),
            fields.text("user"),
        )


@dataclass(frozen=True)
class ModeForm:
    mode: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        return cls(Fields(data).text("mode"))
