"""Translations: every string in code and templates has a French translation with the same fields."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webapp import i18n

REPO = Path(__file__).resolve().parent.parent


def extracted_msgids() -> set[str]:
    with (REPO / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    extra = options_map.get("webapp/**.py", {}).get("keywords", {})
    names = extra if isinstance(extra, dict) else dict.fromkeys(str(extra).split())
    for name in names:
        keywords.setdefault(name.split(":")[0], None)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def french() -> dict[str, str]:
    with (REPO / "translations/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_every_string_is_translated_to_french(french: dict[str, str]) -> None:
    msgids = extracted_msgids()
    assert len(msgids) > 150
    missing = sorted(m for m in msgids if not french.get(m))
    assert missing == [], "run `make i18n` and translate these"


def test_translations_keep_the_same_fields(french: dict[str, str]) -> None:
    wrong = {
        msgid: text for msgid, text in french.items() if text and fields(msgid) != fields(text)
    }
    assert wrong == {}


def test_language_switch_and_fallback() -> None:
    with i18n.language("fr"):
        assert i18n.gettext("History") == "Historique"
        assert i18n.gettext("Page {number}", number=3) == "Page 3"
        assert (
            i18n.translate_stored("Backup written: {file}", {"file": "a.sqlite"})
            == "Sauvegarde écrite : a.sqlite"
        )
    with i18n.language("en"):
        assert i18n.gettext("History") == "History"
    with i18n.language("xx"):
        assert i18n.current_language() == "fr"


def test_stored_message_with_wrong_params_still_reads() -> None:
    with i18n.language("en"):
        text = i18n.translate_stored("Backup written: {file}", {"other": 1})
    assert text.startswith("Backup written")
