"""Translations: English msgids in code and templates; French (default), Dutch and English.

Catalogs are read from ``translations/<lang>/LC_MESSAGES/messages.po`` at start (no compile step to
forget). The active language is a context variable, set per request from the language cookie.
"""

from __future__ import annotations

import contextvars
import gettext as gettext_module
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import cache
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from webapp.config import resource_root

LANGUAGES = {"fr": "Français", "nl": "Nederlands", "en": "English"}
DEFAULT_LANGUAGE = "fr"
COMMA_LANGUAGES = frozenset({"fr", "nl"})  # 12,50; English writes 12.50

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "relais_language", default=DEFAULT_LANGUAGE
)


class UserError(Exception):
    """An error to show to a user: an English msgid and its params, translated when shown."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        return gettext(self.message, **self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls the class with its args, which a subclass taking other
        # arguments refuses: it is rebuilt from its fields instead (an analysis's spill).
        return _rebuilt_error, (type(self), self.args, dict(vars(self)))


def _rebuilt_error(cls: type[UserError], args: tuple[Any, ...], state: dict[str, Any]) -> UserError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> str:
    """Mark a message with a singular and a plural form, kept as its singular msgid plus params;
    its count is the param `n` (or `count`); the form is chosen where it is shown."""
    del plural  # read by Babel's extraction; the catalogs give it back (plural_msgids)
    return singular


@cache
def _catalog(language: str) -> Catalog | None:
    po_path = resource_root() / "translations" / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return None
    with po_path.open("rb") as handle:
        return read_po(handle, locale=language)


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    catalog = _catalog(language)
    if catalog is None:
        return gettext_module.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


@cache
def plural_msgids() -> dict[str, str]:
    """Singular msgid -> plural msgid of every plural message (the English plural is needed
    when English, which has no catalog, shows a stored plural message)."""
    catalog = _catalog(DEFAULT_LANGUAGE)
    if catalog is None:
        return {}
    return {str(m.id[0]): str(m.id[1]) for m in catalog if m.id and m.pluralizable}


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> contextvars.Token[str]:
    return _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def language(code: str) -> Iterator[None]:
    token = set_language(code)
    try:
        yield
    finally:
        _current.reset(token)


def _shown(params: dict[str, Any]) -> dict[str, Any]:
    """Decimal params (amounts, quantities) written with the reader's decimal mark, their own
    number of decimals kept: 12.50 reads "12,50" in French and Dutch. Other params as they are."""
    comma = current_language() in COMMA_LANGUAGES
    return {
        name: _decimal_text(value, comma) if isinstance(value, Decimal) else value
        for name, value in params.items()
    }


def _decimal_text(value: Decimal, comma: bool) -> str:
    text = format(value, "f") if value.is_finite() else str(value)
    return text.replace(".", ",") if comma else text


def gettext(message: str, **params: Any) -> str:
    text = _text(message, params)
    return text.format(**_shown(params)) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text.format(n=n, **_shown(params))


_ = gettext


def _text(message: str, params: dict[str, Any] | None) -> str:
    """The reader's text for `message`: its plural form for the count `n` when it has one."""
    plural = plural_msgids().get(message)
    count = (params or {}).get("n", (params or {}).get("count"))
    if plural is not None and isinstance(count, int) and not isinstance(count, bool):
        return translations(current_language()).ngettext(message, plural, count)
    return translations(current_language()).gettext(message)


# In stored params: the names of those that were Decimals, kept as their text (JSON has no
# Decimal), so that translate_stored shows them with the reader's decimal mark again.
DECIMALS_KEY = "_decimals"


def stored_params(params: dict[str, Any] | None) -> str | None:
    """A message's params as the database keeps them (JSON), or None when there are none."""
    if not params:
        return None
    decimals = [name for name, value in params.items() if isinstance(value, Decimal)]
    if decimals:
        params = {**params, DECIMALS_KEY: decimals}
    return json.dumps(params, ensure_ascii=False, default=str)


def loaded_params(text: str | None) -> dict[str, Any] | None:
    """Params as stored_params kept them, their Decimals Decimals again; None for none."""
    if not text:
        return None
    params = json.loads(text)
    return _as_written(params) if isinstance(params, dict) else params


def _as_written(params: dict[str, Any]) -> dict[str, Any]:
    """Stored params with their Decimals made Decimals again (see stored_params)."""
    names = params.get(DECIMALS_KEY)
    if not isinstance(names, list):
        return params
    restored = {name: value for name, value in params.items() if name != DECIMALS_KEY}
    for name in names:
        if isinstance(restored.get(name), str):
            with suppress(ArithmeticError):  # not a number after all: shown as it is
                restored[name] = Decimal(restored[name])
    return restored


def translate_stored(message: str | None, params: dict[str, Any] | None) -> str:
    """Render a message kept in the database as msgid + params, in the reader's language."""
    if not message:
        return ""
    text = _text(message, params)
    if not params:
        return text
    try:
        return text.format(**_shown(_as_written(params)))
    except (KeyError, IndexError, ValueError):
        return f"{text} {params}"
