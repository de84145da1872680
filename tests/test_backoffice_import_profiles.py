"""The import's mapping step over HTTP (issue 16): a file with its own headings, the suggested
fields, a profile saved and chosen again, the preview of what the analysis will do, the
confirmation from the kept upload (once), and every refusal a clear 4xx with nothing written.
The same profiles on the command line, and the history's skipped rows and file names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import Client, relais
from tests.test_backoffice_files import (
    article_count,
    confirm,
    hidden_fields,
    post_mapping,
    send,
    step_id,
    wait_for,
)
from tests.test_backoffice_import import ARTICLES, BAD_ARTICLES, write
from webapp import history_queries
from webapp.backoffice import import_profiles
from webapp.backoffice.importer import import_csv
from webapp.services import Services

CAISSE = """Référence;Désignation;Unité;Taux TVA;Prix de vente HT;Prix promo;Remarque
VR1;Bourgogne rouge 2021;BT;20;15,00;13,00;millésime
NEW1;Crémant de Bourgogne;BT;20;11,50;;
"""


def chosen(html: str) -> dict[str, str]:
    """Each heading's selected field in the mapping step, "" for an ignored one."""
    found = {}
    for key, row in re.findall(r'<tr data-heading="(\w+)">(.*?)</tr>', html, re.S):
        selected = re.search(r'<option value="(\w*)" selected>', row)
        found[key] = selected.group(1) if selected else ""
    return found


def choices_of(html: str, **changes: str) -> dict[str, str]:
    """The selects as posted (column_0…), with some headings given another field."""
    keys = re.findall(r'<tr data-heading="(\w+)">', html)
    current = chosen(html)
    return {f"column_{index}": changes.get(key, current[key]) for index, key in enumerate(keys)}


def test_foreign_headings_get_their_fields_suggested(client: Client) -> None:
    html = send(client, "articles", CAISSE, filename="caisse.csv")
    assert chosen(html) == {
        "reference": "code",
        "designation": "label",
        "unite": "unit",
        "taux_tva": "vat_rate",
        "prix_de_vente_ht": "price_excl_vat",
        "prix_promo": "",
        "remarque": "",
    }
    assert re.search("Ignorer cette colonne|Ignore this column", html)
    assert "Libellé" in html and "Prix HT" in html
    assert "mapping-missing" not in html, "every required field has a column"


def test_a_saved_profile_is_chosen_again_for_the_same_headings(
    client: Client, services: Services
) -> None:
    html = send(client, "articles", CAISSE)
    fields = choices_of(html, prix_de_vente_ht="", prix_promo="price_excl_vat")
    saved = post_mapping(client, html, "save", profile_name="Export caisse", **fields)
    assert saved.status_code == 200, saved.text
    assert 'role="status"' in saved.text
    (profile,) = import_profiles.profiles(services.store, "articles")
    assert profile.name == "Export caisse"
    assert profile.columns["prix_promo"] == "price_excl_vat"
    assert profile.columns["prix_de_vente_ht"] == ""

    again = send(client, "articles", CAISSE)
    assert f'<option value="{profile.id}" selected>' in again, "the profile made for these headings"
    assert chosen(again)["prix_promo"] == "price_excl_vat"
    other = send(client, "articles", ARTICLES)
    assert f'<option value="{profile.id}" selected>' not in other, "not for other headings"

    suggested = post_mapping(client, again, "profile", profile="")
    assert chosen(suggested.text)["prix_de_vente_ht"] == "price_excl_vat", "back to suggestions"
    deleted = post_mapping(client, again, "delete", profile=str(profile.id))
    assert deleted.status_code == 200
    assert import_profiles.profiles(services.store, "articles") == []


def test_a_profile_without_a_name_or_a_required_field_is_refused(
    client: Client, services: Services
) -> None:
    html = send(client, "articles", CAISSE)
    nameless = post_mapping(client, html, "save", profile_name="  ")
    assert nameless.status_code == 422 and 'role="alert"' in nameless.text
    unpriced = choices_of(html, prix_de_vente_ht="")
    incomplete = post_mapping(client, html, "save", profile_name="Caisse", **unpriced)
    assert incomplete.status_code == 422 and "Prix HT" in incomplete.text
    assert import_profiles.profiles(services.store) == [], "nothing saved"


def test_analyse_previews_then_confirm_writes_once(client: Client, services: Services) -> None:
    import_csv(services.store, "articles", write_text(services, "a.csv", ARTICLES))
    html = send(client, "articles", CAISSE, filename="caisse.csv")
    analysed = post_mapping(client, html, "analyse", **choices_of(html))
    assert analysed.status_code == 200, analysed.text
    analysis = step_id(analysed.text)
    page = wait_for(client, analysis, "analysed")
    assert 'data-created="1"' in page and 'data-updated="1"' in page
    assert re.search(r'data-codes="created">[^<]*NEW1', page)
    assert re.search(r'data-codes="updated">[^<]*VR1', page)
    assert "<th>Libellé</th>" in page and "Crémant de Bourgogne" in page, "the preview"
    assert "millésime" not in page, "an ignored column is not read"

    first = confirm(client, analysis)
    integration = step_id(first.text)
    assert integration != analysis
    wait_for(client, integration, "imported")
    assert step_id(confirm(client, analysis).text) == integration, "confirmed twice: once"
    assert article_count(services) == 4
    with services.store.read() as db:
        price = db.execute(
            "SELECT p.price_excl_vat FROM article_prices p JOIN articles a ON a.id = p.article_id"
            " WHERE a.code = 'VR1'"
        ).fetchone()[0]
    assert str(price) in ("15", "15.0", "15,00", "15.00")
    assert not list((services.data_dir.path / "imports").glob("upload-*")), "upload removed"


def test_a_required_field_left_out_is_refused_and_nothing_written(
    client: Client, services: Services
) -> None:
    html = send(client, "articles", CAISSE)
    refused = post_mapping(client, html, "analyse", **choices_of(html, prix_de_vente_ht=""))
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert "Prix HT" in refused.text
    doubled = choices_of(html, prix_promo="price_excl_vat")
    assert post_mapping(client, html, "analyse", **doubled).status_code == 422
    assert history_queries.recent_runs(services.store, limit=5) == []
    assert article_count(services) == 0


def test_a_stale_or_forged_upload_is_a_clear_4xx(client: Client, services: Services) -> None:
    html = send(client, "articles", CAISSE)
    for kept in (services.data_dir.path / "imports").glob("upload-*"):
        kept.unlink()
    gone = post_mapping(client, html, "analyse")
    assert gone.status_code == 422 and "n’est plus conservé" in gone.text
    forged = {**hidden_fields(html), "upload": "../relais.db", "action": "analyse"}
    response = client.post(
        "/backoffice/import/mapping",
        data=forged,
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 422 and 'role="alert"' in response.text
    unknown = {**hidden_fields(html), "kind": "planets"}
    response = client.post(
        "/backoffice/import/mapping",
        data=unknown,
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 422
    assert history_queries.recent_runs(services.store, limit=5) == []


def test_the_history_names_the_chosen_file_and_skips_rows_as_asked(
    client: Client, services: Services
) -> None:
    html = send(client, "articles", BAD_ARTICLES, filename="C:\\Users\\marie\\Ventes été.csv")
    assert "Ventes été.csv" in html and "marie" not in html
    analysis = step_id(post_mapping(client, html, "analyse", skip_bad="1").text)
    wait_for(client, analysis, "analysed")
    integration = step_id(confirm(client, analysis).text)
    wait_for(client, integration, "imported")
    run = history_queries.get_run(services.store, integration)
    assert run is not None and run["params"]["file"] == "Ventes été.csv"
    items = history_queries.run_items(services.store, integration)
    assert {item["status"] for item in items} == {"skipped", "done"}
    assert all(item["reference"].startswith("Ventes été.csv") for item in items)
    assert run["count_errors"] == 0 and run["count_skipped"] == 10


def test_without_skip_the_bad_rows_stay_errors(services: Services, tmp_path: Path) -> None:
    report = import_csv(services.store, "articles", write(tmp_path, "bad.csv", BAD_ARTICLES))
    items = history_queries.run_items(services.store, report.run_id or 0)
    assert items and {item["status"] for item in items} == {"error"}
    assert items[0]["reference"].startswith("bad.csv:")


def test_cli_import_with_a_profile(services: Services, tmp_path: Path) -> None:
    data = services.data_dir.path
    columns = {
        "reference": "code",
        "designation": "label",
        "unite": "unit",
        "taux_tva": "vat_rate",
        "prix_de_vente_ht": "",
        "prix_promo": "price_excl_vat",
        "remarque": "",
    }
    import_profiles.save(services.store, "articles", "Export caisse", columns)
    file = write(tmp_path, "caisse.csv", CAISSE.replace(";;\n", ";9,90;\n"))
    done = relais(
        "backoffice",
        "import",
        "articles",
        str(file),
        "--profile",
        "Export caisse",
        "--json",
        data_dir=data,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["created"] == 2 and report["ignored_columns"] == ["Prix de vente HT", "Remarque"]
    unknown = relais(
        "backoffice", "import", "articles", str(file), "--profile", "Lightspeed", data_dir=data
    )
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "Lightspeed" in unknown.stderr and "Export caisse" in unknown.stderr
    listed = relais("backoffice", "profiles", "--kind", "articles", "--json", data_dir=data)
    assert listed.returncode == 0, listed.stderr
    assert [item["name"] for item in json.loads(listed.stdout)] == ["Export caisse"]
    none = relais("backoffice", "profiles", "--kind", "units", data_dir=data)
    assert none.returncode == 0 and none.stdout.strip()


def write_text(services: Services, name: str, text: str) -> Path:
    path = services.data_dir.path.parent / name
    path.write_text(text, encoding="utf-8")
    return path
