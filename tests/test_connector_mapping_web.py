"""Correspondences as a CSV file on the mass-edit screens (issue 14), through the real app: the export
download, the import in two steps (analysis, then confirmation), bad lines shown with their line
and column and nothing written, CSRF as on every form."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.conftest import Client
from tests.test_connector_browser import seed
from webapp.backoffice.importer import import_csv
from webapp.econnector import connectors, mappings
from webapp.services import Services

ARTICLES = """code;label;unit;vat_rate;price_excl_vat;tags;stock
VR1;Bourgogne rouge;BT;20;12,5;vin pub;10
MI1;Miel;U;5,5;8;;3
SV1;Dégustation;H;20;20;pub;
"""
CUSTOMERS = """code;last_name;first_name;company;email;phone;address;postcode;city;country;vat_number
ANDPA;André;Patrick;;patrick@example.fr;;1 rue;59950;Auby;FR;
"""


@pytest.fixture
def web(services: Services, tmp_path: Path) -> connectors.Connector:
    for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
        source = tmp_path / f"{kind}.csv"
        source.write_text(text, encoding="utf-8")
        assert import_csv(services.store, kind, source).committed
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    connector = connectors.save(
        services.store,
        connectors.Connector(
            code="WEB", partner="Prestashop", import_dir=str(inbox), export_dir=str(outbox)
        ),
    )
    mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    mappings.set_mapping(services.store, connector, "customer", "CUST-1", "ANDPA")
    mappings.set_mapping(services.store, connector, "vat", "TVA20", "FR20")
    return connector


def analyse(
    client: Client, screen: str, text: str, *, htmx: bool = True, **fields: str
) -> httpx.Response:
    headers = {"x-csrftoken": client.token()}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(
        "/connectors/mappings/import",
        data={"connector": "WEB", "page": screen, **fields},
        files={"file": ("map.csv", text.encode("utf-8"), "text/csv")},
        headers=headers,
    )


def confirm_form(html: str) -> dict[str, str]:
    form = re.search(
        r'<form method="post" action="/connectors/mappings/confirm".*?</form>', html, re.S
    )
    assert form, "no confirmation button"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))


def confirm(client: Client, fields: dict[str, str]) -> httpx.Response:
    return client.post(
        "/connectors/mappings/confirm",
        data=fields,
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )


def current(services: Services, connector: connectors.Connector) -> set[tuple[str, ...]]:
    return {
        (r["kind"], r["external"], r["variant"], r["internal"])
        for r in mappings.mappings(services.store, connector)
    }


def test_each_screen_exports_its_correspondences(client: Client, web: Any) -> None:
    for screen in ("articles", "customers", "codes"):
        html = client.get(f"/connectors/{screen}?connector=WEB").text
        assert f'href="/connectors/WEB/mappings.csv?page={screen}"' in html
        assert 'action="/connectors/mappings/import"' in html
    expected = {
        "articles": [["article", "P-VR1", "", "VR1", "Bourgogne rouge"]],
        "customers": [["customer", "CUST-1", "", "ANDPA", "André Patrick"]],
        "codes": [["vat", "TVA20", "", "FR20"]],
    }
    for screen, rows in expected.items():
        response = client.get(f"/connectors/WEB/mappings.csv?page={screen}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith(b"\xef\xbb\xbf")
        read = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
        assert read[0] == ["kind", "external", "variant", "internal", "label"]
        assert [row[: len(rows[0])] for row in read[1:]] == rows
    assert client.get("/connectors/WEB/mappings.csv?page=nope").status_code == 404
    assert client.get("/connectors/NOPE/mappings.csv?page=articles").status_code == 404


def test_import_analysis_then_confirmation(client: Client, services: Services, web: Any) -> None:
    before = current(services, web)
    text = "Code externe;Variante;Code article\nP-MI1;500G;MI1\nP-VR1;;SV1\nP-VR1;75CL;VR1\n"
    analysis = analyse(client, "articles", text, show="filter", tags="pub")
    assert analysis.status_code == 200, analysis.text
    assert 'data-dry-run="true"' in analysis.text and 'data-new="2"' in analysis.text
    assert 'data-changed="1"' in analysis.text
    assert current(services, web) == before  # the analysis writes nothing
    fields = confirm_form(analysis.text)
    assert fields["show"] == "filter" and fields["tags"] == "pub"
    done = confirm(client, fields)
    assert done.status_code == 200, done.text
    assert 'data-committed="true"' in done.text and '<section id="connector-articles">' in done.text
    assert re.findall(r'<tr data-code="([^"]+)"', done.text) == ["SV1", "VR1"]  # the filter kept
    assert current(services, web) == {
        ("article", "P-MI1", "500G", "MI1"),
        ("article", "P-VR1", "", "SV1"),
        ("article", "P-VR1", "75CL", "VR1"),
        ("customer", "CUST-1", "", "ANDPA"),
        ("vat", "TVA20", "", "FR20"),
    }
    assert not list((services.data_dir.path / "imports").glob("upload-*")), "upload removed"
    again = confirm(client, fields)
    assert again.status_code == 422 and 'role="alert"' in again.text

    codes = analyse(client, "codes", "kind;external;internal\nunit;Bouteille;BT\npays;France;FR\n")
    done = confirm(client, confirm_form(codes.text))
    assert done.status_code == 200 and '<section id="connector-codes">' in done.text
    assert 'data-external="Bouteille"' in done.text and 'data-external="France"' in done.text


def test_bad_lines_are_shown_and_nothing_is_written(
    client: Client, services: Services, web: Any
) -> None:
    before = current(services, web)
    text = "external;internal\nP-1;NOPE\n;MI1\nP-2;MI1\nP-2;SV1\n"
    analysis = analyse(client, "articles", text)
    assert analysis.status_code == 200
    found = re.findall(r'<tr data-line="(\d+)" data-column="(\w*)">', analysis.text)
    assert found == [("2", "internal"), ("3", "external"), ("5", "external")]
    assert 'data-action="confirm-mappings"' not in analysis.text
    assert current(services, web) == before

    # A forged confirmation of the bad file is refused whole.
    upload = re.search(
        r"upload-[0-9a-f]{16}\.csv", str(list((services.data_dir.path / "imports").iterdir()))
    )
    assert upload
    refused = confirm(client, {"connector": "WEB", "page": "articles", "upload": upload.group(0)})
    assert refused.status_code == 422 and 'data-committed="false"' in refused.text
    assert current(services, web) == before

    # Skipping the bad lines imports the good one.
    skipped = analyse(client, "articles", text, skip_bad="1")
    done = confirm(client, confirm_form(skipped.text))
    assert done.status_code == 200 and 'data-new="1"' in done.text
    assert current(services, web) == before | {("article", "P-2", "", "MI1")}


def test_refusals_before_any_line(client: Client, services: Services, web: Any) -> None:
    no_kind = analyse(client, "codes", "external;internal\nT;FR20\n")
    assert no_kind.status_code == 422 and "kind" in no_kind.text and 'role="alert"' in no_kind.text
    empty = analyse(client, "customers", "")
    assert empty.status_code == 422
    response = client.post(
        "/connectors/mappings/import",
        data={"connector": "WEB", "page": "articles"},
        files={"file": ("", b"", "text/csv")},  # the form sent without choosing a file
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 422
    forged = client.post(
        "/connectors/mappings/confirm",
        data={"connector": "WEB", "page": "articles", "upload": "../../secret.csv"},
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert forged.status_code == 422
    unprotected = client.post(
        "/connectors/mappings/import",
        data={"connector": "WEB", "page": "articles"},
        files={"file": ("map.csv", b"external;internal\nP;VR1\n", "text/csv")},
    )
    assert unprotected.status_code == 403
    whole_page = analyse(client, "customers", "external;internal\nC2;ANDPA\n", htmx=False)
    assert whole_page.status_code == 200 and "<html" in whole_page.text
    assert 'data-dry-run="true"' in whole_page.text


def test_map_by_identical_code(client: Client, services: Services, web: Any) -> None:
    html = client.get("/connectors/articles?connector=WEB").text
    assert 'action="/connectors/mappings/identical"' in html
    headers = {"x-csrftoken": client.token(), "HX-Request": "true"}
    empty = client.post(
        "/connectors/mappings/identical", data={"connector": "WEB", "codes": " "}, headers=headers
    )
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    orders = Path(web.import_dir) / "orders.csv"
    orders.write_text("doc_ref;article_ref;variant_ref\nC1;SV1;\nC2;P-9;\n", encoding="utf-8")
    done = client.post(
        "/connectors/mappings/identical",
        data={"connector": "WEB", "codes": "MI1\nP-VR1", "waiting": "1"},
        headers=headers,
    )
    assert done.status_code == 200
    assert 'data-mapped="2" data-already="1" data-unmatched="1"' in done.text
    assert "P-9" in done.text
    assert ("article", "SV1", "", "SV1") in current(services, web)
    assert ("article", "MI1", "", "MI1") in current(services, web)


def test_import_in_a_real_browser(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    """The htmx form uploads the file (multipart, CSRF), the analysis replaces the screen's
    section, and its button imports the file."""
    data = tmp_path / "data"
    seed(data, tmp_path, connector=True)
    server = relais_server(data_dir=data)
    source = tmp_path / "shop.csv"
    source.write_bytes("external;internal\r\nP-MI1;MI1\r\nP-SV1;SV1\r\n".encode("cp1252"))

    page.goto(server.url + "/connectors/articles?connector=WEB")
    page.locator("#mapping-files > summary").click()
    page.locator("#mapping-files input[type=file]").set_input_files(source)
    page.locator("[data-action=analyse-mappings]").click()
    report = page.locator("#mapping-report")
    expect(report).to_have_attribute("data-dry-run", "true")
    expect(report).to_have_attribute("data-new", "2")
    page.locator("[data-action=confirm-mappings]").click()
    expect(page.locator("#mapping-report")).to_have_attribute("data-committed", "true")
    row = page.locator("tr[data-code=MI1] input[name=external]")
    expect(row).to_have_value("P-MI1")
    console.assert_clean()
