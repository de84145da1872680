"""The JET's page and command (issue 17): listed newest first, a page at a time, the chain's state,
bad input refused, and a deleted event shown as a break."""

from __future__ import annotations

import json

from tests.conftest import Client, relais
from tests.test_pos_journal import make_register
from webapp import i18n
from webapp.pos import journal
from webapp.services import Services


def record_many(services: Services, count: int) -> None:
    for number in range(count):
        journal.record_event_now(
            services.store, services.vault, journal.ERROR, "MARIE", {"message": f"m{number}"}
        )


def test_the_page_lists_the_events_and_says_the_chain_holds(
    services: Services, client: Client
) -> None:
    make_register(services)
    journal.record_event_now(services.store, services.vault, journal.START)
    journal.record_event_now(services.store, services.vault, journal.OFFLINE, None, {"reason": "x"})
    answer = client.get("/pos/journal")
    assert answer.status_code == 200
    html = answer.text
    assert 'id="journal-holds"' in html and 'id="journal-broken"' not in html
    assert html.index('data-code="70"') < html.index('data-code="900"')  # newest first
    with i18n.language(i18n.DEFAULT_LANGUAGE):  # the page's language: no cookie sent
        assert i18n.gettext("Register started") in html and "reason: x" in html


def test_older_events_come_a_page_at_a_time(services: Services, client: Client) -> None:
    make_register(services)
    record_many(services, 53)
    first = client.get("/pos/journal").text
    assert first.count("<tr data-seq=") == 50 and 'data-seq="4"' in first
    assert 'hx-get="/pos/journal?before=4"' in first
    more = client.get("/pos/journal?before=4", headers={"HX-Request": "true"})
    assert more.status_code == 200 and "<html" not in more.text
    assert [f'data-seq="{seq}"' in more.text for seq in (3, 2, 1)] == [True] * 3
    assert "journal-more" not in more.text


def test_bad_input_is_a_400_and_an_office_shows_nothing(services: Services, client: Client) -> None:
    for bad in ("abc", "0", "-3"):
        assert client.get(f"/pos/journal?before={bad}").status_code == 400
    services.vault.create("office-passphrase")
    journal.record_event_now(services.store, services.vault, journal.START)  # an office: none
    html = client.get("/pos/journal").text
    assert 'id="journal-empty"' in html and 'id="journal-holds"' in html


def test_a_deleted_event_breaks_the_chain_on_the_page_and_in_the_command(
    services: Services, client: Client
) -> None:
    make_register(services)
    record_many(services, 3)
    folder = services.data_dir.path
    listed = relais("pos", "journal", "--json", "--limit", "2", data_dir=folder)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["holds"] is True and [e["seq"] for e in data["events"]] == [3, 2]
    assert data["events"][0]["label"] == "Error" and data["events"][0]["user"] == "MARIE"

    with services.store.write() as db:
        db.execute("DELETE FROM pos_trail WHERE chain = 'event' AND seq = 2")
    with i18n.language("en"):
        html = client.get("/pos/journal").text
    assert 'id="journal-broken"' in html
    broken = relais("pos", "journal", "--json", data_dir=folder)
    assert broken.returncode == 2
    assert json.loads(broken.stdout)["breaks"][0]["problem"] == "event record 2 is missing."
    text = relais("pos", "journal", data_dir=folder)
    assert text.returncode == 2 and "950" in text.stdout
    assert relais("pos", "journal", "--limit", "0", data_dir=folder).returncode == 2
