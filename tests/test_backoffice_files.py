"""Import and export in the browser's pages: upload, analysis (nothing written), confirmation,
live progress, refusals, and the export download. The same importer as the command line."""

from __future__ import annotations

import re
import time

from tests.conftest import Client
from tests.test_backoffice_import import ARTICLES, BAD_ARTICLES
from webapp.services import Services


def upload(
    client: Client, kind: str, text: str, filename: str = "articles.csv", **fields: str
) -> str:
    response = client.post(
        "/backoffice/import",
        data={"kind": kind, **fields},
        files={"file": (filename, text.encode("utf-8"), "text/csv")},
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    match = re.search(r'id="import-([\w-]+)"', response.text)
    assert match, response.text
    return match.group(1)


def wait_for(client: Client, token: str, *states: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        html = client.get(f"/backoffice/import/{token}", headers={"HX-Request": "true"}).text
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
    token = upload(client, "articles", ARTICLES)
    html = wait_for(client, token, "analysed")
    assert 'data-created="3"' in html
    assert article_count(services) == 0, "the analysis writes nothing"
    confirmed = client.post(
        f"/backoffice/import/{token}/confirm",
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert confirmed.status_code == 200
    html = wait_for(client, token, "imported")
    assert 'data-created="3"' in html and "/runs/" in html
    assert article_count(services) == 3
    assert not list((services.data_dir.path / "imports").glob("upload-*")), "upload removed"


def test_bad_rows_block_the_import_unless_asked(client: Client, services: Services) -> None:
    token = upload(client, "articles", BAD_ARTICLES)
    html = wait_for(client, token, "analysed")
    assert "dix" in html and "/confirm" not in html
    refused = client.post(
        f"/backoffice/import/{token}/confirm",
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert 'data-state="analysed"' in refused.text
    assert article_count(services) == 0
    token = upload(client, "articles", BAD_ARTICLES, skip_bad="1")
    assert "/confirm" in wait_for(client, token, "analysed")
    client.post(
        f"/backoffice/import/{token}/confirm",
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    wait_for(client, token, "imported")
    assert article_count(services) == 3


def test_an_unreadable_file_is_refused_with_its_reason(client: Client) -> None:
    token = upload(client, "articles", "code;label\nA;B\n")
    html = wait_for(client, token, "refused")
    assert "vat_rate" in html


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
    token = upload(client, "articles", ARTICLES)
    wait_for(client, token, "analysed")
    client.post(
        f"/backoffice/import/{token}/confirm",
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    wait_for(client, token, "imported")
    response = client.get("/backoffice/export/articles")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    body = response.content.decode("utf-8-sig")
    assert body.startswith("code;label;") and "VR1;Bourgogne rouge 2021;BT;20;14,50" in body
    assert client.get("/backoffice/export/planets").status_code == 404


def test_unknown_task_is_404(client: Client) -> None:
    assert client.get("/backoffice/import/nope", headers={"HX-Request": "true"}).status_code == 404
