"""The e-connecteur's screens as a shopkeeper follows them (issue 16), through HTTP: the homonym
choice shows both customers side by side with the default explained, a disabled "Intégrer" says
why, a send shows what it wrote and offers no second send, the wizard creates a missing folder (or
says why it cannot), and counts are worded with plurals."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client
from tests.test_connector_mapping_web import analyse as analyse_mappings
from tests.test_connector_web import (  # noqa: F401  (fixtures)
    count,
    doc_line,
    drop,
    field_error,
    post,
    run_of,
    shop,
    wait_state,
    web,
    wizard_form,
)
from tests.test_prestashop_send import set_up
from webapp.econnector import connectors, records
from webapp.econnector.receive import receive
from webapp.services import Services
from webapp.simulators.prestashop import PrestaShopSimulator


def analyse(client: Client, code: str = "WEB") -> tuple[int, str]:
    """ "Réceptionner": the analysis's run and its page once analysed."""
    response = post(client, f"/connectors/{code}/receive", {}, htmx=False)
    assert response.status_code == 303
    run_id = run_of(response)
    return run_id, wait_state(client, run_id, "analysed", "failed")


def cells(page: str, selector: str) -> dict[str, str]:
    """The data-field cells of the first <tr …selector…> row: field → text."""
    row = re.search(rf"<tr [^>]*{selector}[^>]*>(.*?)</tr>", page, re.S)
    assert row, f"no row {selector}"
    return dict(re.findall(r'<td data-field="(\w+)">([^<]*)</td>', row.group(1)))


def integrate_button(page: str) -> str:
    button = re.search(r'<button [^>]*data-action="integrate"[^>]*>', page)
    assert button, "no integrate button"
    return button.group(0)


def reason(page: str) -> str | None:
    found = re.search(r'id="integrate-reason" data-reason="(\w+)"', page)
    return found.group(1) if found else None


# The homonym choice ------------------------------------------------------------------------------


def test_the_homonym_choice_shows_both_customers_and_the_default(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    # Same e-mail as ANDPA (André Patrick, 59950 Auby), another name and town.
    drop(
        shop["inbox"], "orders.csv", [doc_line("D1", "W-77", "Andre", "Pat", "patrick@example.fr")]
    )
    _run, page = analyse(client)
    assert 'data-homonym="W-77"' in page
    assert cells(page, 'data-customer="W-77" data-side="received"') == {
        "name": "Pat Andre",
        "email": "patrick@example.fr",
        "postcode": "62000",
        "city": "Lens",
    }
    assert cells(page, 'data-side="existing" data-code="ANDPA"') == {
        "name": "Patrick André",
        "email": "patrick@example.fr",
        "postcode": "59950",
        "city": "Auby",
    }
    assert 'id="homonym-default"' in page
    # The default the line states is the one the form holds: a new customer.
    assert re.search(r'name="link:W-77" value="new"\s+checked', page)
    assert not re.search(r'name="link:W-77" value="ANDPA"\s+checked', page)
    client.cookies.set(shop["services"].language_cookie, "en")
    english = client.get(f"/connectors/reception/{_run}").text
    assert "By default, Relais creates a new customer" in english


def test_a_homonym_whose_file_went_shows_what_its_report_kept(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    """The analysis's report keeps the received contact: the file may go before the choice."""
    path = drop(
        shop["inbox"], "orders.csv", [doc_line("D1", "W-77", "Andre", "Pat", "patrick@example.fr")]
    )
    run_id, _page = analyse(client)
    path.unlink()
    page = client.get(f"/connectors/reception/{run_id}").text
    assert cells(page, 'data-customer="W-77" data-side="received"') == {
        "name": "Pat Andre",
        "email": "patrick@example.fr",
        "postcode": "62000",
        "city": "Lens",
    }
    assert cells(page, 'data-side="existing" data-code="ANDPA"')["city"] == "Auby"


def test_a_homonym_shows_the_contact_its_report_carries(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    """A shop's order has no file to read again: its report's contact is what the page shows."""
    path = drop(
        shop["inbox"], "orders.csv", [doc_line("D1", "W-77", "Andre", "Pat", "patrick@example.fr")]
    )
    run_id, _page = analyse(client)
    path.unlink()
    tasks = shop["services"].tasks
    result = tasks.get(run_id).result
    contact = {"email": "pat@shop.example", "postcode": "7000", "city": "Mons"}
    result["report"]["documents"][0]["contact"] = contact
    tasks.save_result(run_id, result)
    page = client.get(f"/connectors/reception/{run_id}").text
    assert cells(page, 'data-customer="W-77" data-side="received"') == {
        "name": "Pat Andre",
        **contact,
    }


# Why "Intégrer" is disabled -------------------------------------------------------------------


def assert_disabled_for(page: str, expected: str) -> None:
    button = integrate_button(page)
    assert "disabled" in button and 'aria-describedby="integrate-reason"' in button
    assert re.search(r'title="[^"]+"', button)
    assert reason(page) == expected


def test_integrate_enabled_has_no_reason(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    drop(shop["inbox"], "orders.csv", [doc_line("D1", "W-78", "Neuf", "Jean", "jean@example.fr")])
    _run, page = analyse(client)
    assert "disabled" not in integrate_button(page)
    assert reason(page) is None


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([], "empty"),
        ([doc_line("D2", "W-78", "Neuf", "Jean", "", vat="V2 - 20 %")], "codes"),
        ([doc_line("D3", "W-79", "Autre", "Paul", "", article="NOPE")], "articles"),
        (
            [doc_line("D4", "W-80", "Sans", "Date", "").replace("23/01/2026", "31/02/2026")],
            "errors",
        ),
    ],
)
def test_integrate_disabled_says_why(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
    lines: list[str],
    expected: str,
) -> None:
    if lines:
        drop(shop["inbox"], "orders.csv", lines)
    _run, page = analyse(client)
    assert_disabled_for(page, expected)


def test_integrate_disabled_for_a_refused_file(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    (shop["inbox"] / "orders.csv").write_text("what;is;this\n1;2;3\n", encoding="utf-8")
    past = time.time() - 60
    os.utime(shop["inbox"] / "orders.csv", (past, past))
    _run, page = analyse(client)
    assert_disabled_for(page, "source")


def test_integrate_disabled_when_all_is_already_integrated(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    drop(shop["inbox"], "orders.csv", [doc_line("D1", "W-78", "Neuf", "Jean", "jean@example.fr")])
    receive(shop["services"].store, web)
    drop(shop["inbox"], "again.csv", [doc_line("D1", "W-78", "Neuf", "Jean", "jean@example.fr")])
    _run, page = analyse(client)
    assert_disabled_for(page, "already")


def test_integrate_disabled_while_another_reception_runs(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    drop(shop["inbox"], "orders.csv", [doc_line("D1", "W-78", "Neuf", "Jean", "jean@example.fr")])
    run_id, page = analyse(client)
    assert "disabled" not in integrate_button(page)
    # A reception from the command line (its own run) is under way meanwhile.
    records.start_reception(shop["services"].store, "WEB", "cli")
    page = client.get(f"/connectors/reception/{run_id}").text
    assert_disabled_for(page, "busy")
    # The button's refusal stays the server's: the integration does not start.
    response = post(client, f"/connectors/reception/{run_id}/integrate", {})
    assert response.status_code == 422
    assert count(shop["services"], "SELECT count(*) FROM documents") == 0


# After a send ------------------------------------------------------------------------------------


def test_a_csv_send_shows_what_it_wrote_and_no_second_send(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    page = client.get("/connectors/WEB/send").text
    assert 'data-action="send"' in page
    done = post(
        client, "/connectors/WEB/send/run", {"send_articles": "export", "send_customers": "all"}
    )
    assert done.status_code == 200
    html = done.text
    files = sorted(path.name for path in shop["outbox"].iterdir())
    assert len(files) == 2
    assert f'data-files="{len(files)}"' in html
    for name in files:
        assert f"<code data-file-name>{name}</code>" in html
    assert str(shop["outbox"]) in html
    assert re.search(r'data-file-kind="articles" data-rows="3"', html)
    assert re.search(r'data-file-kind="customers" data-rows="1"', html)
    assert 'data-action="send"' not in html
    assert 'data-action="back"' in html and 'data-action="new-send"' in html


def test_the_send_summary_counts_with_plurals(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    client.cookies.set(shop["services"].language_cookie, "en")
    html = post(
        client, "/connectors/WEB/send/run", {"send_articles": "export", "send_customers": "all"}
    ).text
    assert "2 files written in the folder" in html
    assert "3 rows" in html and "1 row<" in html and "1 rows" not in html


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as simulator:
        simulator.populate_demo(orders=1)
        simulator.add_product("SAME", "Pareil", "12.400000", quantity=5)
        yield simulator


def test_a_shop_send_shows_what_it_updated_and_no_second_send(
    client: Client, services: Services, sim: PrestaShopSimulator, tmp_path: Path
) -> None:
    set_up(services, sim, tmp_path)
    client.cookies.set(services.language_cookie, "en")
    done = post(
        client, "/connectors/PRESTA/send/run", {"send_articles": "export", "send_customers": "all"}
    )
    assert done.status_code == 200
    written = re.search(r'data-mode="webservice" data-written="(\d+)"', done.text)
    assert written and int(written.group(1)) > 1  # PN22 and CREMANT differ from the shop
    assert f"{written.group(1)} articles updated in the shop" in done.text
    assert 'data-action="send"' not in done.text and 'data-action="back"' in done.text


# The wizard creates a missing folder ------------------------------------------------------------


def test_the_wizard_offers_to_create_a_missing_folder(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
) -> None:
    missing = shop["inbox"].parent / "new" / "inbox"
    form = {**wizard_form(shop, import_dir=str(missing)), "step": "1"}
    refused = post(client, "/connectors/wizard", {**form, "action": "next"})
    assert refused.status_code == 422
    assert 'data-missing-folder="import_dir"' in refused.text
    assert 'name="create_folder" value="import_dir"' in refused.text
    assert not missing.exists()

    created = post(client, "/connectors/wizard", {**form, "create_folder": "import_dir"})
    assert created.status_code == 200
    assert missing.is_dir()
    assert 'data-step="1"' in created.text and 'data-created-folder="import_dir"' in created.text
    assert "data-error-for" not in created.text
    assert count(shop["services"], "SELECT count(*) FROM connectors") == 0
    # Refusing stays possible: the next step goes on with the folder now there.
    following = post(client, "/connectors/wizard", {**form, "action": "next"})
    assert following.status_code == 200 and 'data-step="2"' in following.text


def test_a_folder_that_cannot_be_created_is_a_clear_422(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
) -> None:
    in_the_way = shop["inbox"].parent / "a-file"
    in_the_way.write_text("not a folder", encoding="utf-8")
    for path in (in_the_way, in_the_way / "inbox"):
        form = {**wizard_form(shop, export_dir=str(path)), "step": "1"}
        response = post(client, "/connectors/wizard", {**form, "create_folder": "export_dir"})
        assert response.status_code == 422
        assert str(path) in field_error(response.text, "export_dir")
        assert "Traceback" not in response.text
    assert in_the_way.read_text(encoding="utf-8") == "not a folder"
    relative = {**wizard_form(shop, import_dir="relative/inbox"), "step": "1"}
    response = post(client, "/connectors/wizard", {**relative, "create_folder": "import_dir"})
    assert response.status_code == 422 and field_error(response.text, "import_dir")
    assert not Path("relative").exists()
    assert count(shop["services"], "SELECT count(*) FROM connectors") == 0


def test_create_folder_names_only_the_folder_fields(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
) -> None:
    form = {**wizard_form(shop), "step": "1", "create_folder": "code", "action": "next"}
    response = post(client, "/connectors/wizard", form)
    assert response.status_code == 200 and 'data-step="2"' in response.text


# Plurals -----------------------------------------------------------------------------------------


def test_the_reception_report_counts_with_plurals(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    client.cookies.set(shop["services"].language_cookie, "en")
    drop(shop["inbox"], "orders.csv", [doc_line("D1", "W-78", "Neuf", "Jean", "jean@example.fr")])
    run_id, page = analyse(client)
    assert "New customer that will be created: Jean Neuf" in page
    response = post(client, f"/connectors/reception/{run_id}/integrate", {})
    page = wait_state(client, run_of(response), "integrated", "failed")
    assert "1 document integrated" in page and "1 documents" not in page
    assert "0 documents not integrated" in page and "0 documents already there" in page


def test_the_correspondences_import_button_counts_with_plurals(
    client: Client,
    shop: dict[str, Any],  # noqa: F811
    web: connectors.Connector,  # noqa: F811
) -> None:
    client.cookies.set(shop["services"].language_cookie, "en")
    one = analyse_mappings(client, "articles", "external;internal\nP-MI1;MI1\n")
    assert "Import 1 correspondence<" in one.text
    two = analyse_mappings(client, "articles", "external;internal\nP-MI1;MI1\nP-SV1;SV1\n")
    assert "Import 2 correspondences<" in two.text
