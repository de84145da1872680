"""The closures over HTTP (issue 17): the page and its buttons, the sales screen's banner, the
Z report, and bad input refused with nothing written (a period twice, a date that is none, a
locked vault)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from tests.conftest import Client
from tests.test_pos_closures import sell
from webapp import settings
from webapp.clock import to_iso
from webapp.pos import closures, register_config, trail_keys, trail_verify
from webapp.services import Services

PASSPHRASE = "closures-web-passphrase"


def noon(day: date) -> str:
    """Midday of ``day`` on this computer's clock, as stored."""
    return to_iso(datetime.combine(day, time(12)))


@pytest.fixture
def joined(services: Services) -> trail_keys.Signer:
    """A register's folder (number 3) with its vault open and its key made."""
    services.vault.create(PASSPHRASE)
    settings.write_values(
        services.store,
        {
            register_config.SERVER_URL: "http://127.0.0.1:9",
            register_config.REGISTER_NUMBER: 3,
            register_config.UPDATE_KEY: "",
        },
    )
    return trail_keys.ensure_signer(services.vault)


def count(services: Services) -> int:
    with services.store.read() as db:
        return len(closures.list_closures(db))


def test_the_banner_offers_the_day_left_open_and_closes_it(
    client: Client, services: Services, joined: trail_keys.Signer
) -> None:
    yesterday = closures.today() - timedelta(days=1)
    sell(services.store, joined, noon(yesterday - timedelta(days=1)), [("1", "3.00", "20")])
    sell(services.store, joined, noon(yesterday), [("2", "10.00", "20")])
    sell(services.store, joined, noon(closures.today()), [("1", "1.00", "20")])
    offer = client.get("/pos/closures/banner")
    assert offer.status_code == 200
    assert 'id="closure-banner-open"' in offer.text
    assert f'data-day="{yesterday.isoformat()}"' in offer.text
    done = client.post_form("/pos/closures/banner")
    assert done.status_code == 200
    assert 'id="closure-banner-saved"' in done.text and "closure-banner-open" not in done.text
    with services.store.read() as db:
        made = closures.list_closures(db)
        assert trail_verify.verify_register(db, 3, {joined.key_id: joined.public_key}) == []
    assert [closure.period for closure in made] == ["day", "day"]  # each day its own closure
    assert made[0].values["total_incl_vat"] == "20.00"
    assert 'id="closure-banner-open"' not in client.get("/pos/closures/banner").text
    assert client.post_form("/pos/closures/banner").status_code == 200  # nothing left: no-op
    assert count(services) == 2
    assert 'id="closure-banner"' in client.get("/pos/sell").text  # the sales screen holds it


def test_the_page_closes_a_day_once(
    client: Client, services: Services, joined: trail_keys.Signer
) -> None:
    page = client.get("/pos/closures")
    assert page.status_code == 200 and 'id="close-day"' in page.text
    sell(services.store, joined, noon(closures.today()), [("1", "7.50", "5.5")])
    today = closures.today().isoformat()
    done = client.post_form("/pos/closures", {"period": "day", "day": today})
    assert done.status_code == 200
    assert 'id="closures-saved"' in done.text and f'data-closure="day-{today}"' in done.text
    again = client.post_form("/pos/closures", {"period": "day", "day": today})
    assert again.status_code == 422 and 'id="closures-error"' in again.text
    assert count(services) == 1


@pytest.mark.parametrize(
    "form",
    [
        {"period": "week", "day": "2025-01-01"},
        {"period": "day", "day": "01/02/2025"},
        {"period": "month", "month": "2025-13"},
        {"period": "year", "year": "deux mille"},
        {"period": "day"},
        {},
        {"period": "month", "month": "2999-01"},  # not over
    ],
)
def test_bad_closure_forms_are_refused(
    client: Client, services: Services, joined: trail_keys.Signer, form: dict[str, str]
) -> None:
    answer = client.post_form("/pos/closures", form)
    assert answer.status_code == 422 and 'id="closures-error"' in answer.text
    assert "Traceback" not in answer.text
    assert count(services) == 0


def test_a_locked_vault_closes_nothing(
    client: Client, services: Services, joined: trail_keys.Signer
) -> None:
    services.vault.lock()
    answer = client.post_form("/pos/closures", {"period": "day", "day": "2025-01-01"})
    assert answer.status_code == 422 and 'id="closures-error"' in answer.text
    assert count(services) == 0


def test_a_folder_not_joined_closes_nothing(client: Client, services: Services) -> None:
    services.vault.create(PASSPHRASE)
    answer = client.post_form("/pos/closures", {"period": "day", "day": "2025-01-01"})
    assert answer.status_code == 422
    assert count(services) == 0
    assert services.vault.get(trail_keys.KEY_SECRET) is None  # no key made for an office


def test_the_z_report(client: Client, services: Services, joined: trail_keys.Signer) -> None:
    sell(
        services.store,
        joined,
        noon(date(2025, 3, 10)),
        [("2", "12.00", "20"), ("1", "2.11", "5.5")],
        [("CASH", "6.11"), ("CARD", "20.00")],
    )
    written = closures.close(services.store, joined, 3, "day", date(2025, 3, 10))
    report = client.get(f"/pos/closures/{written[0].seq}/print")
    assert report.status_code == 200
    text = report.text
    assert 'id="z-report"' in text and 'data-closure="day-2025-03-10"' in text
    assert 'data-rate="20"' in text and 'data-rate="5.5"' in text
    assert "26,11" in text and "24,00" in text  # the period's total, the 20 % rate
    assert written[0].signature[:12] in text and written[0].signature not in text  # shortened
    assert "Relais" in text
    assert client.get("/pos/closures/999/print").status_code == 404
    assert client.get("/pos/closures/x/print").status_code in (400, 404)
