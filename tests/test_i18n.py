"""Translations: every string in code and templates has a French and a Dutch translation with the
same fields, both plural forms where the msgid has a plural, and no fuzzy entry."""

from __future__ import annotations

import importlib
import string
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.conftest import Client
from webapp import history, history_queries, i18n
from webapp.backoffice import parties
from webapp.services import Services

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


CATALOGS = ("fr", "nl")


def catalog(language: str) -> Catalog:
    with (REPO / f"translations/{language}/LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.fixture(scope="module", params=CATALOGS)
def entries(request: pytest.FixtureRequest) -> list[Message]:
    return [m for m in catalog(request.param) if m.id]


def singular(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, tuple | list) else message.id)


def test_every_string_is_translated(entries: list[Message]) -> None:
    msgids = extracted_msgids()
    assert len(msgids) > 150
    translated = {singular(m) for m in entries if all(forms(m))}
    missing = sorted(msgids - translated)
    assert missing == [], "run `make i18n` and translate these"


def forms(message: Message) -> list[str]:
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return [str(text) for text in strings]


def test_translations_keep_the_same_fields(entries: list[Message]) -> None:
    wrong = {}
    for message in entries:
        ids = message.id if isinstance(message.id, tuple | list) else [message.id]
        expected = set().union(*(fields(str(msgid)) for msgid in ids))
        # a plural form may spell the count out ("one secret") instead of showing {n}
        needed = expected - {"n"} if message.pluralizable else expected
        for text in forms(message):
            if text and not needed <= fields(text) <= expected:
                wrong[singular(message)] = text
    assert wrong == {}


def test_plural_entries_have_both_forms(entries: list[Message]) -> None:
    plurals = [m for m in entries if m.pluralizable]
    incomplete = [singular(m) for m in plurals if len(forms(m)) != 2 or not all(forms(m))]
    assert incomplete == []


def test_no_entry_is_fuzzy(entries: list[Message]) -> None:
    assert [singular(m) for m in entries if m.fuzzy] == []


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
    with i18n.language("nl"):
        assert i18n.gettext("History") == "Geschiedenis"
        assert i18n.gettext("Page {number}", number=3) == "Pagina 3"
    with i18n.language("xx"):
        assert i18n.current_language() == "fr"


def test_every_language_of_the_switch_has_a_catalog() -> None:
    assert set(i18n.LANGUAGES) == {"fr", "nl", "en"}
    for code in CATALOGS:
        assert catalog(code).plural_forms.startswith("nplurals=2;")


def test_stored_message_with_wrong_params_still_reads() -> None:
    with i18n.language("en"):
        text = i18n.translate_stored("Backup written: {file}", {"other": 1})
    assert text.startswith("Backup written")


def test_plural_messages_follow_the_count_in_each_language() -> None:
    stored = "Backup {file} written; {n} old backup removed."
    with i18n.language("fr"):
        assert i18n.translate_stored(stored, {"file": "a", "n": 0}).endswith(
            "0 ancienne sauvegarde supprimée."
        ), "French says 0 in the singular"
        assert i18n.translate_stored(stored, {"file": "a", "n": 2}).endswith("supprimées.")
    with i18n.language("nl"):
        assert i18n.translate_stored(stored, {"file": "a", "n": 1}).endswith(
            "1 oude back-up verwijderd."
        )
        assert i18n.translate_stored(stored, {"file": "a", "n": 0}).endswith("back-ups verwijderd.")
    with i18n.language("en"):
        assert i18n.translate_stored(stored, {"file": "a", "n": 1}).endswith(
            "1 old backup removed."
        )
        assert i18n.ngettext("{n} process started.", "{n} processes started.", 3) == (
            "3 processes started."
        )


def test_dutch_switch_and_an_unknown_language_over_http(client: Client, services: Services) -> None:
    switched = client.post(
        "/language",
        data={"language": "nl", "next": "/settings"},
        headers={"x-csrftoken": client.token()},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert f"relais_lang_{services.cookie_suffix}=nl" in switched.headers["set-cookie"]
    page = client.get("/settings").text
    assert '<html lang="nl">' in page and "<h1>Instellingen</h1>" in page
    assert ">Nederlands</option>" in page, "the default-language setting offers Dutch"

    # A code Relais does not have falls back to French, nothing half-set.
    client.post(
        "/language", data={"language": "de", "next": "/"}, headers={"x-csrftoken": client.token()}
    )
    assert "<h1>Tableau de bord</h1>" in client.get("/").text
    client.cookies.set(f"relais_lang_{services.cookie_suffix}", "xx")
    assert '<html lang="fr">' in client.get("/").text


def test_amount_params_take_the_readers_decimal_mark() -> None:
    message = "The payments ({paid}) do not match the total ({total})."
    params = {"paid": Decimal("12.50"), "total": Decimal("1234.5")}
    with i18n.language("fr"):
        assert i18n.gettext(message, **params) == (
            "Les règlements (12,50) ne correspondent pas au total (1234,5)."
        )
    with i18n.language("nl"):
        assert "(12,50)" in i18n.gettext(message, **params)
    with i18n.language("en"):
        assert i18n.gettext(message, **params) == (
            "The payments (12.50) do not match the total (1234.5)."
        )
    with i18n.language("fr"):  # text params stay as they were typed
        assert i18n.gettext("{value} is not a number", value="1.5") == "1.5 n'est pas un nombre"


def test_stored_amount_params_read_with_the_readers_decimal_mark(
    client: Client, services: Services
) -> None:
    message = "The payments ({paid}) do not match the total ({total})."
    run_id = history.start_run(services.store, "econnector_receive", "manual")
    params = {"paid": Decimal("12.50"), "total": Decimal("1234.5"), "line": 7, "file": "v1.5"}
    history.add_item(
        services.store, run_id, "econnector_receive", kind="document", status="error",
        reference="C-1", message=message, params=params,
    )  # fmt: skip
    history.finish_run(services.store, run_id, "failed")
    item = history_queries.run_items(services.store, run_id)[0]
    assert item["params"] == params  # the Decimals come back as Decimals, the rest as it was
    page = client.get(f"/runs/{run_id}").text
    assert "Les règlements (12,50) ne correspondent pas au total (1234,5)." in page
    with i18n.language("en"):
        assert i18n.translate_stored(message, item["params"]) == (
            "The payments (12.50) do not match the total (1234.5)."
        )
    # Params stored before (a Decimal kept as its text, unmarked) still read as they were.
    assert i18n.translate_stored("{file}", i18n.loaded_params('{"file": "1.5"}')) == "1.5"


def test_countries_read_in_dutch(services: Services) -> None:
    with i18n.language("nl"):
        countries = parties.reference(services.store, "customer").countries
    names = {country["code"]: country["name"] for country in countries}
    assert names["BE"] == "België" and names["DE"] == "Duitsland"
    assert [c["name"] for c in countries] == sorted(
        (c["name"] for c in countries), key=parties._sort_key
    )
    with i18n.language("fr"):
        assert parties.country_label("BE", "Belgique") == "Belgique"


def merge_pending_tool() -> Any:
    """tools/merge_pending.py (a script beside tools/i18n.py, not a package module)."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        return importlib.import_module("merge_pending")
    finally:
        sys.path.remove(str(REPO / "tools"))


def text(catalog: Any, msgid: str) -> Any:
    message = catalog.get(msgid)
    assert message is not None, msgid
    return message.string


def test_pending_rows_fill_empty_entries_and_report_the_rest(tmp_path: Path) -> None:
    tool = merge_pending_tool()
    (tmp_path / "a.tsv").write_text(
        "Saved.\tEnregistré.\tOpgeslagen.\n"
        "{n} file | {n} files\t{n} fichier | {n} fichiers\t{n} bestand | {n} bestanden\n"
        "{n} row\t{n} ligne\t{n} lijn\n{n} rows\t{n} lignes\t{n} lijnen\n"
        "Kept\tAutre\tAnder\nGone\tParti\tWeg\nno tab here\n",
        encoding="utf-8",
    )
    rows, bad = tool.read_rows(tmp_path)
    assert bad == ["a.tsv:7: not msgid<TAB>French<TAB>Dutch"]
    catalog = Catalog(locale="nl")
    catalog.add("Saved.", "")
    catalog.add(("{n} file", "{n} files"), ["", ""])
    catalog.add(("{n} row", "{n} rows"), ["", ""])
    catalog.add("Kept", "Behouden")
    report = tool.apply("nl", catalog, rows)
    assert text(catalog, "Saved.") == "Opgeslagen."
    assert text(catalog, "{n} file") == ["{n} bestand", "{n} bestanden"]
    assert text(catalog, "{n} row") == ["{n} lijn", "{n} lijnen"]
    assert text(catalog, "Kept") == "Behouden", "a translation already there is kept"
    assert report == ["nl kept, the pending text differs: 'Kept'"]
    assert tool.apply("fr", Catalog(locale="fr"), rows)[-1] == (
        "a.tsv:6: 'Gone' is not a msgid of the code"
    )


def test_a_user_error_of_any_subclass_pickles_with_its_fields() -> None:
    # An analysis's spill keeps refusals: a subclass taking other arguments than the message
    # (Exception's own pickling would call it with the message alone) comes back whole.
    import pickle

    from webapp.backoffice.document_types import DuplicateDocument, TotalMismatch

    mismatch = TotalMismatch(Decimal("12.40"), Decimal("12.50"))
    duplicate = DuplicateDocument("connector:WEB", "WEB-7", 41, "CMD-0041")
    for error in (mismatch, duplicate, i18n.UserError("Plain {x}.", x=1)):
        back = pickle.loads(pickle.dumps(error, pickle.HIGHEST_PROTOCOL))
        assert type(back) is type(error)
        assert vars(back) == vars(error)
        assert back.args == error.args and str(back) == str(error)
        assert back.translated() == error.translated()
