"""The forms of the web layer (webapp/web/forms.py): posted fields to typed input, or field errors."""

from __future__ import annotations

from datetime import date

import pytest

from webapp import i18n
from webapp.pos import office
from webapp.web import forms
from webapp.web.forms import (
    CartForm,
    FormError,
    HistoryQuery,
    LanguageForm,
    ProcessForm,
    RedeliverForm,
    RegisterForm,
    ResolveForm,
    SchedulerForm,
    SelectionForm,
    SettingsForm,
    VaultCreateForm,
)


def test_a_field_sent_once_or_several_times() -> None:
    fields = forms.Fields({"one": " a ", "many": ["x ", " y"], "none": []})
    assert fields.text("one") == "a"
    assert fields.text("many") == "x", "a single value is the first one"
    assert fields.values("many") == ["x", "y"]
    assert fields.values("one") == ["a"]
    assert fields.text("none") == "" and fields.values("missing") == []
    assert fields.raw("one") == " a ", "a password keeps its spaces"


def test_too_long_text_is_a_field_error() -> None:
    fields = forms.Fields({"name": "x" * 11})
    assert fields.text("name", max_length=10) == "x" * 11
    with pytest.raises(FormError) as refused:
        fields.done()
    with i18n.language("en"):
        assert refused.value.translated() == {"name": "At most 10 characters."}


def test_register_number_must_be_a_whole_number_in_range() -> None:
    assert RegisterForm.parse({"number": "7", "label": " Bar ", "company": ""}) == RegisterForm(
        7, "Bar", None
    )
    for bad in ("x", "", "-3", "0", "1000000", "1.5", "²"):
        with pytest.raises(FormError) as refused:
            RegisterForm.parse({"number": bad})
        assert refused.value.errors["number"].message == office.REGISTER_NUMBER_RULE, bad


def test_register_name_too_long_is_refused_with_the_services_message() -> None:
    with pytest.raises(FormError) as refused:
        RegisterForm.parse({"number": "3", "label": "x" * (office.REGISTER_LABEL_MAX + 1)})
    with i18n.language("en"):
        assert forms.first_error(refused.value) == "A register's name has at most 100 characters."
    assert RegisterForm.parse({"number": "3", "label": "x" * office.REGISTER_LABEL_MAX}).label


def test_cart_lines_come_as_lists_or_single_values() -> None:
    single = CartForm.parse({"code": "VR1", "scan": "", "payment": "CASH"})
    assert single.codes == ("VR1",) and single.quantities == ("1",), "a missing quantity is 1"
    several = CartForm.parse({"code": ["A", "B", "C"], "qty": ["2", "0,5"], "remove": "1"})
    assert several.codes == ("A", "B", "C") and several.quantities == ("2", "0,5", "1")
    assert several.remove == 1
    extra = CartForm.parse({"code": ["A"], "qty": ["2", "9"]})
    assert extra.quantities == ("2",), "a quantity without a line is dropped"
    for bad in ("9", "x", "-1", "²"):
        assert CartForm.parse({"code": ["A"], "remove": bad}).remove is None, bad
    assert CartForm.parse({"add": "B"}).scanned == "B"
    assert len(CartForm.parse({"scan": "9" * 5000}).scanned) == forms.SCAN_MAX


def test_vault_passphrases_must_match() -> None:
    assert VaultCreateForm.parse({"passphrase": "secret123", "confirmation": "secret123"})
    with pytest.raises(FormError) as refused:
        VaultCreateForm.parse({"passphrase": "secret123", "confirmation": "secret124"})
    with i18n.language("en"):
        assert forms.first_error(refused.value) == "The two passphrases differ."
    with pytest.raises(FormError):
        VaultCreateForm.parse({"passphrase": "secret123"})


def test_settings_form_keeps_only_known_fields_sent() -> None:
    form = SettingsForm.parse({"language": ["en", "fr"], "junk": "1"}, ["language", "retention"])
    assert form.values == {"language": "en"}


def test_language_form_never_leaves_the_site() -> None:
    assert LanguageForm.parse({"language": "en", "next": "/history?page=2"}) == LanguageForm(
        "en", "/history?page=2"
    )
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""):
        assert LanguageForm.parse({"language": "en", "next": target}).target == "/", target
    assert LanguageForm.parse({"language": "xx"}).language == i18n.DEFAULT_LANGUAGE


def test_history_query_drops_what_means_nothing() -> None:
    query = HistoryQuery.parse(
        {"date_from": "2026-01-02", "date_to": "31/01/2026", "status": "bogus", "page": "x"}
    )
    assert query.filters.date_from == date(2026, 1, 2)
    assert query.filters.date_to is None and query.filters.status is None
    assert query.page == 1
    assert HistoryQuery.parse({"page": "-4", "status": "unresolved"}).page == 1
    assert HistoryQuery.parse({"page": "3", "status": "unresolved"}).filters.status == "unresolved"


def test_resolve_form_falls_back_on_the_local_user() -> None:
    form = ResolveForm.parse({"justification": "  checked by phone ", "who": ""}, "marie")
    assert form == ResolveForm("checked by phone", "marie")


def test_redeliver_dates_are_required_and_ordered() -> None:
    form = RedeliverForm.parse(
        {"date_from": "2026-01-01", "date_to": "2026-01-31", "company": "", "book": "cash-book"}
    )
    assert form == RedeliverForm(date(2026, 1, 1), date(2026, 1, 31), None, "cash-book")
    with pytest.raises(FormError) as missing:
        RedeliverForm.parse({"date_from": "", "date_to": "soon"})
    assert set(missing.value.errors) == {"date_from", "date_to"}, "both fields are named"
    with pytest.raises(FormError) as reversed_range:
        RedeliverForm.parse({"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert set(reversed_range.value.errors) == {"date_to"}


def test_checkboxes_are_on_or_absent() -> None:
    assert SelectionForm.parse({"selected": "on", "kind": "cash-book", "book": "B1"}).selected
    assert not SelectionForm.parse({"kind": "cash-book"}).selected
    assert not SelectionForm.parse({"selected": ""}).selected


def test_mailbox_change_keeps_the_password_as_typed() -> None:
    change = forms.mailbox_change(
        {"mailbox_host": " imap.example ", "mailbox_port": "", "mailbox_password": " p w "}
    )
    assert change.mailbox is not None and change.mailbox["host"] == "imap.example"
    assert change.mailbox["port"] is None, "empty: the security's usual port"
    assert change.mailbox_password == " p w "
    assert forms.mailbox_change({"mailbox_password": "   "}).mailbox_password is None
    assert forms.mailbox_change({"action": "remove"}).no_mailbox


def test_process_form_reads_the_trigger_and_the_checkbox() -> None:
    form = ProcessForm.parse(
        {"trigger_kind": " cron ", "trigger_value": ["0 3 * * *"], "enabled": "on"}
    )
    assert form == ProcessForm("cron", "0 3 * * *", True)
    assert not ProcessForm.parse({"trigger_kind": "interval", "trigger_value": "5"}).enabled
    assert ProcessForm.parse({}) == ProcessForm("", "", False)  # the runner refuses the kind


def test_scheduler_form_pauses_only_when_asked() -> None:
    assert SchedulerForm.parse({"action": "pause"}).pause
    assert not SchedulerForm.parse({"action": "resume"}).pause
    assert not SchedulerForm.parse({}).pause
