"""The e-connecteur's screens through HTTP (ECN-2 to ECN-9): the list and the wizard (each step's
refusal in place, 422, nothing written), duplicate and delete, the sync screen and the start-up
banner, the reception in two steps (correspondences given on the analysis, homonyms linked by
choice), the send with its overrides, the history with resolution, the correspondences and the file
specification. Data goes in as users put it: CSV imports and files dropped in the import folder."""

from __future__ import annotations

import csv
import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client
from webapp.backoffice.importer import import_csv
from webapp.econnector import connectors, mappings
from webapp.econnector.receive import receive
from webapp.services import Services

HEADER = (
    "doc_ref;doc_date;customer_ref;last_name;first_name;company;email;address;postcode;city;country;"
    "line_no;article_ref;variant_ref;label;quantity;unit;unit_price_incl_vat;vat_code;payment_method;"
    "total_incl_vat"
)
ARTICLES = """code;label;unit;vat_rate;price_excl_vat;tags;stock
VR1;Bourgogne rouge;BT;20;12,5;vin pub;10
MI1;Miel;U;5,5;8;;3
SV1;Dégustation;H;20;20;pub;
"""
CUSTOMERS = """code;last_name;first_name;company;email;phone;address;postcode;city;country;vat_number
ANDPA;André;Patrick;;patrick@example.fr;;1 rue;59950;Auby;FR;
"""


def doc_line(doc: str, customer: str, last: str, first: str, email: str, **extra: str) -> str:
    values = {
        "doc_ref": doc,
        "doc_date": "23/01/2026",
        "customer_ref": customer,
        "last_name": last,
        "first_name": first,
        "company": "",
        "email": email,
        "address": "2 rue",
        "postcode": "62000",
        "city": "Lens",
        "country": "FR",
        "line_no": "1",
        "article_ref": extra.get("article", "P-VR1"),
        "variant_ref": "",
        "label": "Bourgogne",
        "quantity": "2",
        "unit": "",
        "unit_price_incl_vat": "15",
        "vat_code": extra.get("vat", "20"),
        "payment_method": "CARD",
        "total_incl_vat": "30",
    }
    return ";".join(values[name] for name in HEADER.split(";"))


def drop(folder: Path, name: str, lines: list[str], *, age: float = 60) -> Path:
    path = folder / name
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    past = time.time() - age
    os.utime(path, (past, past))
    return path


@pytest.fixture
def shop(services: Services, tmp_path: Path) -> dict[str, Any]:
    for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
        source = tmp_path / f"{kind}.csv"
        source.write_text(text, encoding="utf-8")
        assert import_csv(services.store, kind, source).committed
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    return {"services": services, "inbox": inbox, "outbox": outbox}


@pytest.fixture
def web(shop: dict[str, Any]) -> connectors.Connector:
    services = shop["services"]
    connector = connectors.save(
        services.store,
        connectors.Connector(
            code="WEB",
            partner="Prestashop",
            import_dir=str(shop["inbox"]),
            export_dir=str(shop["outbox"]),
        ),
    )
    mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    return connector


def post(client: Client, url: str, data: dict[str, Any], *, htmx: bool = True, **extra: Any) -> Any:
    headers = {"x-csrftoken": client.token(), **extra}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(url, data=data, headers=headers, follow_redirects=False)


def count(services: Services, sql: str, *args: Any) -> int:
    with services.store.read() as db:
        return int(db.execute(sql, args).fetchone()[0])


def field_error(html: str, name: str) -> str:
    match = re.search(rf'data-error-for="{name}">([^<]+)<', html)
    assert match, f"no error under {name}"
    return match.group(1)


# The list and the wizard ---------------------------------------------------------------------


def wizard_form(shop: dict[str, Any], **changes: str) -> dict[str, str]:
    values = {
        "original": "",
        "code": "SHOP",
        "partner": "Prestashop",
        "mode": "csv",
        "import_dir": str(shop["inbox"]),
        "export_dir": str(shop["outbox"]),
        "csv_encoding": "",
        "csv_delimiter": "",
        "csv_decimal": "",
        "csv_date_format": "",
        "send_articles": "export",
        "article_filter": "",
        "send_customers": "all",
        "customer_filter": "",
        "doc_type": "order",
        "reception_update": "manual",
    }
    values.update(changes)
    return values


def test_the_list_replaces_the_placeholder(client: Client, web: connectors.Connector) -> None:
    page = client.get("/connectors").text
    assert "<h1>Connecteurs</h1>" in page
    assert "Prévu dans une prochaine version" not in page
    row = re.search(r'<tr data-code="WEB".*?</tr>', page, re.S)
    assert row
    for text in ("Prestashop", "Csv", "Disponible à l’export", "Tous les clients", "Commandes"):
        assert text in row.group(0)


def test_wizard_refuses_each_step_in_place_then_saves(client: Client, shop: dict[str, Any]) -> None:
    services = shop["services"]
    page = client.get("/connectors/new").text
    assert 'data-step="1"' in page and "Webservice" in page

    missing = str(shop["inbox"] / "nope")
    response = post(
        client,
        "/connectors/wizard",
        {**wizard_form(shop, import_dir=missing), "step": "1", "action": "next"},
    )
    assert response.status_code == 422
    assert 'data-step="1"' in response.text
    assert "n’existe pas" in field_error(response.text, "import_dir") or missing in field_error(
        response.text, "import_dir"
    )
    response = post(
        client,
        "/connectors/wizard",
        {**wizard_form(shop, code="bad code!"), "step": "1", "action": "next"},
    )
    assert response.status_code == 422 and field_error(response.text, "code")
    response = post(
        client,
        "/connectors/wizard",
        {**wizard_form(shop, partner=""), "step": "1", "action": "save"},
    )
    assert response.status_code == 422 and field_error(response.text, "partner")
    assert count(services, "SELECT count(*) FROM connectors") == 0

    response = post(
        client, "/connectors/wizard", {**wizard_form(shop), "step": "1", "action": "next"}
    )
    assert response.status_code == 200 and 'data-step="2"' in response.text
    # Step 1's values travel as hidden fields.
    assert 'type="hidden" name="code" value="SHOP"' in response.text

    bad = wizard_form(shop, send_articles="filter", article_filter=" ")
    response = post(client, "/connectors/wizard", {**bad, "step": "2", "action": "next"})
    assert response.status_code == 422 and 'data-step="2"' in response.text
    assert field_error(response.text, "article_filter")
    response = post(
        client,
        "/connectors/wizard",
        {**wizard_form(shop, warehouse_id="999"), "step": "2", "action": "next"},
    )
    assert response.status_code == 422 and field_error(response.text, "warehouse_id")
    assert count(services, "SELECT count(*) FROM connectors") == 0

    good = wizard_form(
        shop,
        send_articles="filter",
        article_filter="pub",
        send_contacts="1",
        csv_delimiter=";",
        csv_encoding="windows-1252",
    )
    response = post(client, "/connectors/wizard", {**good, "step": "2", "action": "next"})
    assert response.status_code == 200 and 'data-step="3"' in response.text
    back = post(client, "/connectors/wizard", {**good, "step": "3", "action": "previous"})
    assert 'data-step="2"' in back.text

    final = {**good, "doc_type": "delivery", "generate_payment": "1", "reception_update": "startup"}
    with services.store.write() as db:
        other = db.execute("INSERT INTO companies (code, name) VALUES ('VIGNE', 'Vigne')").lastrowid
        db.execute(
            "INSERT INTO sites (company_id, code, name) VALUES (?, 'SITE1', 'Site 1')", [other]
        )
    wrong_site = {**final, "company_id": "1", "site_id": "2", "step": "3", "action": "save"}
    response = post(client, "/connectors/wizard", wrong_site)
    assert response.status_code == 422 and 'data-step="3"' in response.text
    assert "SITE1" in field_error(response.text, "site_id")
    assert count(services, "SELECT count(*) FROM connectors") == 0
    response = post(
        client,
        "/connectors/wizard",
        {**final, "company_id": "1", "site_id": "1", "step": "3", "action": "save"},
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/connectors?saved=SHOP"
    saved = connectors.get(services.store, "SHOP")
    assert (saved.send_articles, saved.article_filter, saved.send_contacts) == (
        "filter",
        "pub",
        True,
    )
    assert (saved.doc_type, saved.generate_payment, saved.reception_update) == (
        "delivery",
        True,
        "startup",
    )
    assert (saved.csv_delimiter, saved.csv_encoding, saved.company_id) == (";", "windows-1252", 1)
    listing = client.get("/connectors?saved=SHOP").text
    assert "Filtre : pub" in listing and "Livraisons" in listing and "+ Contacts" in listing

    # Editing: the code can change, and another connector's code is refused.
    page = client.get("/connectors/SHOP/edit").text
    assert 'name="original" value="SHOP"' in page
    renamed = {**final, "original": "SHOP", "code": "SHOP2", "step": "1", "action": "save"}
    assert post(client, "/connectors/wizard", renamed).status_code == 200
    assert [c.code for c in connectors.list_all(services.store)] == ["SHOP2"]


def test_a_plain_form_wizard_redirects_and_a_forged_post_is_refused(
    client: Client, shop: dict[str, Any]
) -> None:
    services = shop["services"]
    response = post(
        client,
        "/connectors/wizard",
        {**wizard_form(shop), "step": "3", "action": "save"},
        htmx=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/connectors?saved=SHOP"
    forged = client.post(
        "/connectors/wizard",
        data={**wizard_form(shop, code="EVIL"), "step": "3", "action": "save"},
        headers={"HX-Request": "true"},
    )
    assert forged.status_code == 403
    forged = client.post("/connectors/SHOP/delete", data={})
    assert forged.status_code == 403
    assert [c.code for c in connectors.list_all(services.store)] == ["SHOP"]


def test_duplicate_and_delete(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    services = shop["services"]
    response = post(client, "/connectors/WEB/duplicate", {"new_code": "WEB"})
    assert response.status_code == 422 and "déjà" in response.text
    response = post(client, "/connectors/WEB/duplicate", {"new_code": "COPY"})
    assert response.status_code == 200 and 'data-code="COPY"' in response.text
    copy = connectors.get(services.store, "COPY")
    assert mappings.mappings(services.store, copy)[0]["internal"] == "VR1"

    drop(
        shop["inbox"], "a.csv", [doc_line("D1", "ANDPA", "André", "Patrick", "patrick@example.fr")]
    )
    assert receive(services.store, web).count("integrated") == 1
    response = post(client, "/connectors/WEB/delete", {})
    assert (
        response.status_code == 422 and "1" in response.text and "masquez" in response.text.lower()
    )
    assert count(services, "SELECT count(*) FROM connectors WHERE code = 'WEB'") == 1
    response = post(client, "/connectors/COPY/delete", {})
    assert response.status_code == 200
    assert count(services, "SELECT count(*) FROM connectors WHERE code = 'COPY'") == 0


# Sync screen and banner ------------------------------------------------------------------------


def test_sync_screen_shows_waiting_files_volume_and_errors(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    page = client.get("/connectors/sync").text
    for href in ("/connectors/new", "/connectors", "/connectors/articles", "/connectors/customers"):
        assert f'href="{href}"' in page
    assert 'data-files="0"' in page and "Aucune erreur" in page and "jamais" in page

    drop(
        shop["inbox"], "a.csv", [doc_line("D1", "ANDPA", "André", "Patrick", "patrick@example.fr")]
    )
    drop(shop["inbox"], "b.csv", [doc_line("D2", "X", "Neuf", "Jean", "", article="NOPE")])
    drop(shop["inbox"], "c.csv", [doc_line("D3", "X", "Neuf", "Jean", "")], age=0)
    row = client.get("/connectors/WEB/state").text
    assert 'data-files="2"' in row and 'data-documents="2"' in row
    assert "100 documents" in row and "c.csv" in row  # still being written

    receive(shop["services"].store, web)
    hidden = connectors.replace(web, code="HIDDEN", hidden=True, id=None)
    connectors.save(shop["services"].store, hidden)
    assert 'id="sync-HIDDEN"' not in client.get("/connectors/sync").text  # not in the lists
    row = client.get("/connectors/WEB/state").text
    assert 'data-errors="1"' in row and "Erreurs : 1" in row and "Dernière réception" in row


def test_startup_banner_on_the_dashboard(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    assert 'hx-get="/connectors/banner"' in client.get("/").text
    drop(shop["inbox"], "a.csv", [doc_line("D1", "ANDPA", "André", "Patrick", "")])
    assert "/connectors/sync" not in client.get("/connectors/banner").text  # manual: no warning
    connectors.save(
        shop["services"].store, connectors.replace(web, reception_update="startup"), code="WEB"
    )
    banner = client.get("/connectors/banner").text
    assert 'data-waiting="WEB"' in banner and 'href="/connectors/sync"' in banner


# Reception in two steps --------------------------------------------------------------------------


def wait_state(client: Client, run_id: int, *states: str) -> str:
    """The reception's page, read again (as a reload would) until its step is in `states`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = client.get(f"/connectors/reception/{run_id}").text
        state = re.search(r'id="connector-reception"[^>]*data-state="(\w+)"', page)
        if state and state.group(1) in states:
            return page
        time.sleep(0.05)
    raise AssertionError(f"the reception {run_id} stayed {state and state.group(1)}")


def run_of(response: Any) -> int:
    """The run a reception's answer shows: the address bar follows it."""
    url = response.headers.get("location") or response.headers["hx-push-url"]
    return int(url.rsplit("/", 1)[1])


def test_reception_with_correspondences_and_homonyms(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    services = shop["services"]
    before = count(services, "SELECT count(*) FROM parties")
    drop(
        shop["inbox"],
        "orders.csv",
        [
            # Same e-mail as ANDPA: a homonym, given to ANDPA by choice.
            doc_line("D1", "W-77", "Andre", "Pat", "patrick@example.fr"),
            # A VAT code that needs a correspondence.
            doc_line("D2", "W-78", "Neuf", "Jean", "jean@example.fr", vat="V2 - 20 %"),
            # An article without correspondence: never integrated.
            doc_line("D3", "W-79", "Autre", "Paul", "", article="NOPE"),
        ],
    )
    response = post(client, "/connectors/WEB/receive", {}, htmx=False)
    assert response.status_code == 303
    analysis = run_of(response)
    page = wait_state(client, analysis, "analysed", "failed")
    assert 'data-state="analysed"' in page
    assert 'data-kind="vat" data-external="V2 - 20 %"' in page
    assert 'data-article="NOPE"' in page
    assert 'name="link:W-77" value="ANDPA"' in page
    assert 'data-doc="D1" data-status="will_integrate"' in page
    assert 'data-doc="D2" data-status="not_integrated"' in page
    assert count(services, "SELECT count(*) FROM documents") == 0  # the analysis wrote nothing

    url = f"/connectors/reception/{analysis}"
    bad = post(client, f"{url}/codes", {"kind": "vat", "external": "V2 - 20 %", "internal": "XX"})
    assert bad.status_code == 422 and "aria-invalid" in bad.text
    assert count(services, "SELECT count(*) FROM connector_codes") == 0
    good = post(
        client, f"{url}/codes", {"kind": "vat", "external": "V2 - 20 %", "internal": "FR20"}
    )
    assert good.status_code == 200
    analysis = run_of(good)  # the analysis ran again, as a new run
    page = wait_state(client, analysis, "analysed", "failed")
    assert 'data-doc="D2" data-status="will_integrate"' in page
    assert 'data-kind="vat"' not in page

    url = f"/connectors/reception/{analysis}"
    refused = post(client, f"{url}/integrate", {"link:W-77": "SOMEONE"})
    assert refused.status_code == 422
    response = post(client, f"{url}/integrate", {"link:W-77": "ANDPA"})
    assert response.status_code == 200
    integration = run_of(response)
    page = wait_state(client, integration, "integrated", "failed")
    assert 'data-integrated="2"' in page and 'data-refused="1"' in page
    assert 'data-file="orders.csv" data-file-state="kept"' in page

    with services.store.read() as db:
        rows = db.execute(
            "SELECT c.doc_ref, p.code FROM connector_documents c JOIN documents d"
            " ON d.id = c.document_id JOIN parties p ON p.id = d.party_id ORDER BY c.doc_ref"
        ).fetchall()
    assert tuple(rows[0]) == ("D1", "ANDPA")
    assert [r[0] for r in rows] == ["D1", "D2"]
    assert count(services, "SELECT count(*) FROM parties") == before + 1  # only Jean Neuf
    assert (shop["inbox"] / "orders.csv").exists()


def test_unknown_reception_is_404(client: Client) -> None:
    assert client.get("/connectors/reception/nope").status_code == 404
    assert client.get("/connectors/reception/99999").status_code == 404
    assert post(client, "/connectors/NOPE/receive", {}).status_code == 404


# Send --------------------------------------------------------------------------------------------


def test_send_summary_overrides_and_files(
    client: Client, shop: dict[str, Any], web: connectors.Connector, tmp_path: Path
) -> None:
    page = client.get("/connectors/WEB/send").text
    assert re.search(r'data-kind="articles".*?<td class="num">3</td>', page, re.S)
    assert re.search(r'data-kind="customers".*?<td class="num">1</td>', page, re.S)

    preview = post(
        client,
        "/connectors/WEB/send/preview",
        {"send_articles": "filter", "article_filter": "pub", "send_customers": "all"},
    )
    assert preview.status_code == 200
    assert re.search(
        r'data-kind="articles".*?Filtre : pub.*?<td class="num">2</td>', preview.text, re.S
    )

    bad = post(
        client,
        "/connectors/WEB/send/run",
        {"send_articles": "filter", "article_filter": "", "send_customers": "all"},
    )
    assert bad.status_code == 422 and "aria-invalid" in bad.text
    missing = post(
        client,
        "/connectors/WEB/send/run",
        {"send_articles": "export", "send_customers": "all", "export_dir": str(tmp_path / "nope")},
    )
    assert missing.status_code == 422
    assert list(shop["outbox"].iterdir()) == []

    other = tmp_path / "other"
    other.mkdir()
    done = post(
        client,
        "/connectors/WEB/send/run",
        {
            "send_articles": "filter",
            "article_filter": "pub",
            "send_customers": "none",
            "export_dir": str(other),
        },
    )
    assert done.status_code == 200 and 'data-file-kind="articles"' in done.text
    files = list(other.iterdir())
    assert len(files) == 1 and files[0].name.startswith("WEB_articles_")
    assert "VR1" in files[0].read_text(encoding="utf-8-sig")
    assert connectors.get(shop["services"].store, "WEB").send_articles == "export"  # this send only

    # Sending needs only the export folder: a missing import folder does not stop it.
    shop["inbox"].rmdir()
    again = post(
        client, "/connectors/WEB/send/run", {"send_articles": "none", "send_customers": "all"}
    )
    assert again.status_code == 200 and 'data-file-kind="customers"' in again.text


# History ---------------------------------------------------------------------------------------


def test_history_tabs_and_resolution(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    services = shop["services"]
    drop(
        shop["inbox"],
        "a.csv",
        [
            doc_line("D1", "ANDPA", "André", "Patrick", "patrick@example.fr"),
            doc_line("D2", "X", "Neuf", "Jean", "", article="NOPE"),
        ],
    )
    receive(services.store, web)
    page = client.get("/connectors/WEB/history").text
    assert "D1" in page and "ANDPA" in page and "D2" not in page
    errors = client.get("/connectors/WEB/history?tab=error").text
    assert "D2" in errors and "NOPE" in errors
    old = client.get("/connectors/WEB/history?tab=error&date_from=2020-01-01&date_to=2020-02-01")
    assert "D2" not in old.text
    item_id = count(services, "SELECT id FROM run_items WHERE subject = 'WEB' AND status = 'error'")
    assert f'id="resolution-{item_id}"' in errors
    assert f'hx-post="/history/items/{item_id}/resolve"' in errors
    assert 'data-errors="1"' in client.get("/connectors/WEB/state").text
    aimed: dict[str, Any] = {"HX-Target": f"resolution-{item_id}"}
    refused = post(client, f"/history/items/{item_id}/resolve", {"justification": " "}, **aimed)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert "<tr" not in refused.text, "only the resolution cell comes back"
    assert count(services, "SELECT count(*) FROM run_items WHERE resolved_at IS NOT NULL") == 0
    done = post(
        client,
        f"/history/items/{item_id}/resolve",
        {"justification": "Ressaisi à la main", "who": "anne"},
        **aimed,
    )
    assert done.status_code == 200 and "Ressaisi à la main" in done.text
    with services.store.read() as db:
        row = db.execute(
            "SELECT resolved_by, resolution FROM run_items WHERE id = ?", [item_id]
        ).fetchone()
    assert tuple(row) == ("anne", "Ressaisi à la main")
    # Resolved once, resolved everywhere: the platform history and the connector's page agree.
    assert "Ressaisi à la main" in client.get("/history?status=error").text
    assert "Ressaisi à la main" in client.get("/connectors/WEB/history?tab=error").text
    assert 'data-errors="0"' in client.get("/connectors/WEB/state").text


# Correspondences -------------------------------------------------------------------------------


def article_id(services: Services, code: str) -> int:
    return count(services, "SELECT id FROM articles WHERE code = ?", code)


def test_article_correspondence_from_the_article_page(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    services = shop["services"]
    mi1 = article_id(services, "MI1")
    assert f'hx-get="/articles/{mi1}/connectors"' in client.get(f"/articles/{mi1}").text
    block = client.get(f"/articles/{mi1}/connectors").text
    assert 'data-connector="WEB"' in block
    taken = post(
        client,
        f"/articles/{mi1}/connectors/save",
        {"connector": "WEB", "external": "P-VR1", "variant": ""},
    )
    assert taken.status_code == 422 and "VR1" in taken.text
    saved = post(
        client,
        f"/articles/{mi1}/connectors/save",
        {"connector": "WEB", "external": "P-MI1", "variant": "500G"},
    )
    assert saved.status_code == 200
    assert {"kind": "article", "external": "P-MI1", "variant": "500G", "internal": "MI1"} in (
        mappings.mappings(services.store, web)
    )


def mapped_articles(services: Services) -> list[tuple[str, str, str]]:
    with services.store.read() as db:
        rows = db.execute(
            "SELECT a.code, m.external_code, m.variant_code FROM connector_articles m"
            " JOIN articles a ON a.id = m.article_id ORDER BY a.code, m.external_code"
        ).fetchall()
    return [tuple(r) for r in rows]


def test_article_mass_edit(client: Client, shop: dict[str, Any], web: connectors.Connector) -> None:
    services = shop["services"]
    page = client.get("/connectors/articles?connector=WEB&show=filter&tags=pub").text
    assert re.findall(r'<tr data-code="([^"]+)"', page) == ["SV1", "VR1"]
    assert 'name="old_external" value="P-VR1"' in page
    data = {
        "connector": "WEB",
        "show": "filter",
        "tags": "pub",
        "article": ["SV1", "VR1"],
        "external": ["X1", "X1"],
        "variant": ["", ""],
        "old_external": ["", "P-VR1"],
        "old_variant": ["", ""],
    }
    refused = post(client, "/connectors/articles/save", data)
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    assert mapped_articles(services) == [("VR1", "P-VR1", "")]  # nothing saved
    data["external"] = ["P-SV1", "P-VR1-NEW"]
    data["variant"] = ["", "75CL"]
    assert post(client, "/connectors/articles/save", data).status_code == 200
    assert mapped_articles(services) == [("SV1", "P-SV1", ""), ("VR1", "P-VR1-NEW", "75CL")]

    # Codes swapped between two articles in one save; an emptied code removes the line.
    swap = {
        **data,
        "external": ["P-VR1-NEW", "P-SV1"],
        "variant": ["75CL", ""],
        "old_external": ["P-SV1", "P-VR1-NEW"],
        "old_variant": ["", "75CL"],
    }
    assert post(client, "/connectors/articles/save", swap).status_code == 200
    assert mapped_articles(services) == [("SV1", "P-VR1-NEW", "75CL"), ("VR1", "P-SV1", "")]
    cleared = {**swap, "external": ["", "P-SV1"], "variant": ["", ""]}
    cleared["old_external"], cleared["old_variant"] = swap["external"], swap["variant"]
    assert post(client, "/connectors/articles/save", cleared).status_code == 200
    assert mapped_articles(services) == [("VR1", "P-SV1", "")]


def test_customer_and_code_correspondences(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    services = shop["services"]
    mappings.set_mapping(services.store, web, "customer", "DERYCKE.MICHEL@FR", "ANDPA")
    page = client.get("/connectors/customers?connector=WEB").text
    row = re.search(r'<tr data-external="DERYCKE.MICHEL@FR">.*?</tr>', page, re.S)
    assert row and "ANDPA" in row.group(0) and "59950" in row.group(0) and "Auby" in row.group(0)
    assert post(client, "/connectors/customers/unlink", {"connector": "WEB"}).status_code == 422
    done = post(
        client,
        "/connectors/customers/unlink",
        {"connector": "WEB", "external": "DERYCKE.MICHEL@FR"},
    )
    assert done.status_code == 200
    assert count(services, "SELECT count(*) FROM connector_customers") == 0

    bad = post(
        client,
        "/connectors/codes/add",
        {"connector": "WEB", "kind": "unit", "external": "UNI", "internal": "NOPE"},
    )
    assert bad.status_code == 422
    assert count(services, "SELECT count(*) FROM connector_codes") == 0
    good = post(
        client,
        "/connectors/codes/add",
        {"connector": "WEB", "kind": "unit", "external": "UNI", "internal": "U"},
    )
    assert good.status_code == 200 and 'data-external="UNI"' in good.text
    gone = post(
        client, "/connectors/codes/delete", {"connector": "WEB", "kind": "unit", "external": "UNI"}
    )
    assert gone.status_code == 200
    assert count(services, "SELECT count(*) FROM connector_codes") == 0


# File specification ----------------------------------------------------------------------------


def test_file_specification_and_downloads(client: Client) -> None:
    from webapp.econnector.columns import ARTICLES_SENT, CONTACTS_SENT, CUSTOMERS_SENT, DOCUMENTS

    page = client.get("/connectors/spec").text
    for kind in ("documents", "articles", "customers", "contacts"):
        assert f'href="/connectors/spec/example-{kind}.csv"' in page
    markdown = client.get("/connectors/spec.md")
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith(
        "text/markdown"
    )
    html = client.get("/connectors/spec.html")
    assert html.status_code == 200 and html.text.startswith("<!doctype html>")
    for name in [c.name for c in DOCUMENTS.columns] + [
        n for n, _ in (*ARTICLES_SENT, *CUSTOMERS_SENT, *CONTACTS_SENT)
    ]:
        assert f"`{name}`" in markdown.text and f"<code>{name}</code>" in html.text
    example = client.get("/connectors/spec/example-documents.csv")
    rows = list(csv.reader(io.StringIO(example.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [c.name for c in DOCUMENTS.columns] and rows[1][0] == "CW_0000121"
    assert client.get("/connectors/spec/example-nope.csv").status_code == 404


def test_example_file_is_received_as_the_specification_says(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    """The example documents file goes through the real reader once its codes are mapped."""
    services = shop["services"]
    mappings.set_mapping(services.store, web, "article", "MIEL-500", "MI1")
    mappings.set_mapping(services.store, web, "article", "ARRO", "VR1")
    example = client.get("/connectors/spec/example-documents.csv").content
    path = shop["inbox"] / "example.csv"
    path.write_bytes(example)
    os.utime(path, (time.time() - 60, time.time() - 60))
    report = receive(services.store, web, analyse_only=True)
    assert [entry.get("error") for entry in report.files] == [None]
    assert len(report.documents) == 1


def test_one_integration_at_a_time_and_unknown_things(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    drop(shop["inbox"], "a.csv", [doc_line("D1", "ANDPA", "André", "Patrick", "")])
    response = post(client, "/connectors/WEB/receive", {}, htmx=False)
    analysis = run_of(response)
    wait_state(client, analysis, "analysed")
    services = shop["services"]
    with services.store.write() as db:  # an integration of WEB under way in this process
        busy = db.execute(
            "INSERT INTO runs (job_name, status, started_at, owner_pid, subject)"
            " VALUES ('connector_receive', 'running', '2026-01-01T00:00:00Z', ?, 'WEB')",
            [os.getpid()],
        ).lastrowid
    try:
        response = post(client, f"/connectors/reception/{analysis}/integrate", {})
        assert response.status_code == 422 and "déjà en cours" in response.text
        assert count(services, "SELECT count(*) FROM documents") == 0
    finally:
        with services.store.write() as db:
            db.execute("DELETE FROM runs WHERE id = ?", [busy])
    response = post(client, f"/connectors/reception/{analysis}/integrate", {})
    assert 'data-integrated="1"' in wait_state(client, run_of(response), "integrated")
    for url in (
        "/connectors/NOPE/edit",
        "/connectors/NOPE/history",
        "/connectors/NOPE/send",
        "/connectors/NOPE/state",
        "/connectors/customers?connector=NOPE",
        "/articles/999/connectors",
    ):
        assert client.get(url).status_code == 404, url


def test_a_reception_survives_a_reload_and_a_killed_one_stops_its_polling(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    drop(shop["inbox"], "a.csv", [doc_line("D1", "ANDPA", "André", "Patrick", "")])
    analysis = run_of(post(client, "/connectors/WEB/receive", {}, htmx=False))
    wait_state(client, analysis, "analysed")
    # Another process (the command line, a restarted Relais) reads the same run and its result.
    task = shop["services"].tasks.get(analysis)
    assert task is not None and task.subject == "WEB"
    assert [doc["doc_ref"] for doc in task.result["report"]["documents"]] == ["D1"]
    assert 'data-doc="D1"' in client.get(f"/connectors/reception/{analysis}").text
    with shop["services"].store.write() as db:  # as if its process had been killed
        db.execute(
            "UPDATE runs SET status = 'interrupted', result = ?,"
            " message = 'The program stopped while this run was under way.' WHERE id = ?",
            ['{"params": {"connector": "WEB"}}', analysis],
        )
    page = client.get(f"/connectors/reception/{analysis}", headers={"HX-Request": "true"}).text
    assert 'data-state="failed"' in page and "every 1s" not in page


def test_volume_tiers(shop: dict[str, Any], web: connectors.Connector) -> None:
    from webapp.econnector import inbox

    assert [inbox.tier(n) for n in (0, 100, 101, 500, 999, 1000, 5000)] == [
        "100 documents",
        "100 documents",
        "500 documents",
        "500 documents",
        "< 1000 documents",
        "> 1000 documents",
        "> 1000 documents",
    ]
    lines = [doc_line(f"D{n}", "X", "Neuf", "Jean", "") for n in range(1200)]
    drop(shop["inbox"], "big.csv", lines)
    state = inbox.sync_state(shop["services"].store, web)
    assert state.documents == inbox.COUNT_LIMIT and state.tier == "> 1000 documents"


def test_every_screen_answers_in_english_too(
    client: Client, shop: dict[str, Any], web: connectors.Connector
) -> None:
    client.post(
        "/language",
        data={"language": "en", "next": "/"},
        headers={"x-csrftoken": client.token()},
    )
    drop(shop["inbox"], "a.csv", [doc_line("D1", "ANDPA", "André", "Patrick", "")])
    for url, title in (
        ("/connectors", "Connectors"),
        ("/connectors/new", "E-connecteur settings"),
        ("/connectors/WEB/edit", "E-connecteur settings"),
        ("/connectors/sync", "E-connecteur synchronisation"),
        ("/connectors/WEB/send", "Send the data — WEB"),
        ("/connectors/WEB/history", "History of the synchronisations — WEB"),
        ("/connectors/articles", "Article correspondences"),
        ("/connectors/customers", "Customer correspondences"),
        ("/connectors/codes", "VAT, unit and country correspondences"),
        ("/connectors/spec", "File specification"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f"<h1>{title}</h1>" in response.text, url
    assert "Data is waiting" not in client.get("/connectors/banner").text
