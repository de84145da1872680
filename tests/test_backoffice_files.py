"""Import and export in the browser's pages: upload, analysis (nothing written), confirmation,
live progress, refusals, and the export download. The same importer as the command line."""

from __future__ import annotations

import os
import re
import time

import httpx

from tests.conftest import Client
from tests.test_backoffice_import import ARTICLES, BAD_ARTICLES, CUSTOMERS
from webapp import clock, history, history_queries
from webapp.services import Services


def send(
    client: Client, kind: str, text: str, filename: str = "articles.csv", **fields: str
) -> str:
    """Upload a file: it is kept, and its mapping step is the answer."""
    response = client.post(
        "/backoffice/import",
        data={"kind": kind, **fields},
        files={"file": (filename, text.encode("utf-8"), "text/csv")},
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    assert 'id="import-mapping"' in response.text
    return response.text


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def post_mapping(client: Client, html: str, action: str, **fields: str) -> httpx.Response:
    """The mapping step's form as the page posts it: its hidden fields, `action` and `fields`."""
    data = {**hidden_fields(html), "action": action, **fields}
    return client.post(
        "/backoffice/import/mapping",
        data=data,
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )


def upload(
    client: Client, kind: str, text: str, filename: str = "articles.csv", **fields: str
) -> int:
    """Upload a file and analyse it as suggested: the run id is in the answer and the address bar."""
    response = post_mapping(client, send(client, kind, text, filename, **fields), "analyse")
    assert response.status_code == 200, response.text
    run_id = step_id(response.text)
    assert response.headers["hx-push-url"] == f"/backoffice/import/{run_id}"
    return run_id


def step_id(html: str) -> int:
    match = re.search(r'id="import-(\d+)"', html)
    assert match, html
    return int(match.group(1))


def confirm(client: Client, run_id: int) -> httpx.Response:
    return client.post(
        f"/backoffice/import/{run_id}/confirm",
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )


def wait_for(client: Client, run_id: int | str, *states: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        html = client.get(f"/backoffice/import/{run_id}", headers={"HX-Request": "true"}).text
        state = re.search(r'data-state="(\w+)"', html)
        assert state, html
        if state.group(1) in states:
            return html
        time.sleep(0.05)
    raise AssertionError(f"the import never reached {states}")


def article_count(services: Services) -> int:
    with services.store.read() as db:
        return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])


def test_the_page_lists_kinds_and_columns(client: Client) -> None:
    html = client.get("/backoffice/files").text
    for kind in ("articles", "customers", "suppliers", "contacts", "users", "registers"):
        assert f'data-export="{kind}"' in html and f'data-kind="{kind}"' in html
    assert "price_excl_vat" in html and "libelle" in html


def test_analyse_then_import(client: Client, services: Services) -> None:
    analysis = upload(client, "articles", ARTICLES)
    html = wait_for(client, analysis, "analysed")
    assert 'data-created="3"' in html
    assert article_count(services) == 0, "the analysis writes nothing"
    confirmed = confirm(client, analysis)
    assert confirmed.status_code == 200
    integration = step_id(confirmed.text)
    assert integration != analysis, "the integration is a run of its own"
    assert confirmed.headers["hx-push-url"] == f"/backoffice/import/{integration}"
    html = wait_for(client, integration, "imported")
    assert 'data-created="3"' in html and f"/runs/{integration}" in html
    assert article_count(services) == 3
    assert not list((services.data_dir.path / "imports").glob("upload-*")), "upload removed"


def test_each_step_is_one_run_of_the_history(client: Client, services: Services) -> None:
    analysis = upload(client, "articles", ARTICLES, filename="vins.csv")
    wait_for(client, analysis, "analysed")
    integration = step_id(confirm(client, analysis).text)
    wait_for(client, integration, "imported")
    runs = history_queries.recent_runs(services.store, limit=10)
    assert [(run["id"], run["job_name"]) for run in runs] == [
        (integration, "backoffice_import"),
        (analysis, "backoffice_analysis"),
    ], "the import's own run is the task's run: one run per step"
    imported = runs[0]
    assert imported["status"] == "success" and imported["subject"] == "articles"
    assert imported["params"]["file"] == "vins.csv", "the history names the user's file"
    assert imported["progress_done"] == imported["progress_total"] == 3
    items = history_queries.run_items(services.store, integration)
    assert [item["status"] for item in items] == ["done"]


def test_a_reload_shows_the_same_step(client: Client, services: Services) -> None:
    analysis = upload(client, "articles", ARTICLES)
    wait_for(client, analysis, "analysed")
    client.cookies.clear()
    page = client.get(f"/backoffice/import/{analysis}")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="import-form"' in page.text, "the whole page"
    assert f'id="import-{analysis}"' in page.text and 'data-state="analysed"' in page.text
    assert f"/backoffice/import/{analysis}/confirm" in page.text
    integration = step_id(confirm(client, analysis).text)
    wait_for(client, integration, "imported")
    again = client.get(f"/backoffice/import/{analysis}").text
    assert 'data-state="analysed"' in again
    assert step_id(confirm(client, analysis).text) == integration, "integrated once"
    assert article_count(services) == 3


def test_bad_rows_block_the_import_unless_asked(client: Client, services: Services) -> None:
    analysis = upload(client, "articles", BAD_ARTICLES)
    html = wait_for(client, analysis, "analysed")
    assert "dix" in html and "/confirm" not in html
    refused = confirm(client, analysis)
    assert 'data-state="analysed"' in refused.text and step_id(refused.text) == analysis
    assert article_count(services) == 0
    analysis = upload(client, "articles", BAD_ARTICLES, skip_bad="1")
    assert "/confirm" in wait_for(client, analysis, "analysed")
    integration = step_id(confirm(client, analysis).text)
    html = wait_for(client, integration, "imported")
    assert "dix" in html, "the refused rows are listed with the outcome"
    assert article_count(services) == 3
    run = history_queries.get_run(services.store, integration)
    assert run is not None and run["count_skipped"] > 0, "left out as the user asked"
    assert run["count_errors"] == 0, "not errors to review"


def test_required_fields_without_a_column_are_named(client: Client, services: Services) -> None:
    html = send(client, "articles", "code;label\nA;B\n")
    assert re.search(r"(Prix HT|Price excl. VAT)", html) and "disabled aria-describedby" in html
    refused = post_mapping(client, html, "analyse")
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert not history_queries.recent_runs(services.store, limit=5), "no analysis started"


def test_a_short_row_is_listed_with_its_reason(client: Client) -> None:
    analysis = upload(client, "articles", "code;label;unit;vat_rate;price_excl_vat\nA;B;U;20\n")
    html = wait_for(client, analysis, "analysed")
    assert 'data-rejected="1"' in html and "/confirm" not in html


def test_an_upload_gone_is_refused_clearly(client: Client, services: Services) -> None:
    analysis = upload(client, "articles", ARTICLES)
    wait_for(client, analysis, "analysed")
    for kept in (services.data_dir.path / "imports").glob("upload-*"):
        kept.unlink()  # what the cleanup of a day-old upload does
    refused = confirm(client, analysis)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert step_id(refused.text) == analysis, "the analysis is shown again, with the reason"
    assert "n’est plus conservé" in refused.text
    runs = history_queries.recent_runs(services.store, limit=10)
    assert [run["job_name"] for run in runs] == ["backoffice_analysis"], "no integration started"
    assert article_count(services) == 0


def test_a_second_analysis_of_a_kind_under_way_is_refused(
    client: Client, services: Services
) -> None:
    with services.store.write() as db:  # an analysis of articles under way in this process
        db.execute(
            "INSERT INTO runs (job_name, origin, status, started_at, owner_pid, subject)"
            " VALUES ('backoffice_analysis', 'manual', 'running', ?, ?, 'articles')",
            [clock.now_iso(), os.getpid()],
        )
    response = post_mapping(client, send(client, "articles", ARTICLES), "analyse")
    assert response.status_code == 422 and 'role="alert"' in response.text
    assert not list((services.data_dir.path / "imports").glob("upload-*")), "nothing kept"
    other = upload(client, "customers", CUSTOMERS, filename="clients.csv")
    assert wait_for(client, other, "analysed", "refused")


def test_missing_kind_or_file_is_422(client: Client) -> None:
    response = client.post(
        "/backoffice/import",
        data={"kind": ""},
        files={"file": ("a.csv", b"x", "text/csv")},
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text


def test_upload_without_csrf_is_refused(client: Client, services: Services) -> None:
    response = client.post(
        "/backoffice/import",
        data={"kind": "articles"},
        files={"file": ("a.csv", ARTICLES.encode(), "text/csv")},
    )
    assert response.status_code == 403
    assert not (services.data_dir.path / "imports").exists()


def test_export_download(client: Client) -> None:
    analysis = upload(client, "articles", ARTICLES)
    wait_for(client, analysis, "analysed")
    wait_for(client, step_id(confirm(client, analysis).text), "imported")
    response = client.get("/backoffice/export/articles")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    body = response.content.decode("utf-8-sig")
    assert body.startswith("code;label;") and "VR1;Bourgogne rouge 2021;BT;20;14,50" in body
    assert client.get("/backoffice/export/planets").status_code == 404


def test_unknown_step_is_404(client: Client, services: Services) -> None:
    htmx = {"HX-Request": "true"}
    assert client.get("/backoffice/import/nope", headers=htmx).status_code == 404
    assert client.get("/backoffice/import/999999", headers=htmx).status_code == 404
    assert confirm(client, 999999).status_code == 404
    backup = history.start_run(services.store, "database_backup", "schedule")
    assert client.get(f"/backoffice/import/{backup}").status_code == 404, "not an import's run"
    assert confirm(client, backup).status_code == 404
