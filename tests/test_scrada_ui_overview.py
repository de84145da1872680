"""The books' state in words on the Scrada page, the dashboard and `relais scrada status`: the
cash-book continuity problems still open (a break is closed by hand, a gap by itself), and the
route that delivers each book, with what to set up for a book that has none."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.conftest import Client, relais
from webapp.config import DataDir
from webapp.scrada import alerts, continuity, records, routes, source_state
from webapp.scrada.overview import webhook_url
from webapp.services import Services

ACCOUNT = "BE12341676096039"


def _statement(number: int, old: str, new: str) -> continuity.StatementFacts:
    return continuity.StatementFacts(
        ACCOUNT, number, Decimal(old), Decimal(new), date(2026, 3, number)
    )


def _shop_with_problems(services: Services) -> None:
    """Statements 1, 3 and 4: statement 2 is missing, and 4 opens where 3 did not close."""
    with services.store.write() as db:
        records.upsert_company(
            db, "c1", source="configured", selected=True, name="Boulangerie Dupont"
        )
        records.upsert_book(db, "c1", "cash-book", "k1", "Caisse", True, True)
        records.upsert_book(db, "c1", "daily-receipts", "j1", "Recettes", True, True)
        for facts in (
            _statement(1, "0", "100"),
            _statement(3, "100", "200"),
            _statement(4, "250", "300"),
        ):
            continuity.record_statement(db, facts, "c1")
        for kind, book in (("cash-book", "k1"), ("daily-receipts", "j1")):
            key = source_state.SourceKey("c1", kind, book, "partner")
            source_state.mark(db, key, source_state.NOT_OFFERED)


def _kinds(html: str) -> list[str]:
    return re.findall(r'data-problem="\d+" data-kind="(\w+)"', html)


def test_the_page_shows_the_problems_and_a_break_is_marked_explained(
    client: Client, services: Services
) -> None:
    _shop_with_problems(services)
    page = client.get("/scrada").text
    assert sorted(_kinds(page)) == ["break", "gap"]
    section = page[page.index('id="scrada-continuity"') :]
    assert "Boulangerie Dupont" in section and "BE12 3416 7609 6039" in section
    problem = re.search(r'data-problem="(\d+)" data-kind="break"', page)
    assert problem
    answer = client.post_form(f"/scrada/continuity/{problem.group(1)}/resolve")
    assert answer.status_code == 200
    assert _kinds(answer.text) == ["gap"], "a gap stays until its statements arrive"
    with services.store.write() as db:
        continuity.record_statement(db, _statement(2, "100", "100"), "c1")
    assert 'data-continuity="ok"' in client.get("/scrada").text


def test_the_dashboard_loads_a_summary_of_the_problems(client: Client, services: Services) -> None:
    assert 'hx-get="/scrada/continuity/summary"' in client.get("/").text
    assert "data-problem" not in client.get("/scrada/continuity/summary").text
    _shop_with_problems(services)
    summary = client.get("/scrada/continuity/summary").text
    assert summary.count("data-problem=") == 2 and 'href="/scrada#scrada-continuity"' in summary


def test_each_book_says_how_it_arrives_or_what_to_set_up(
    client: Client, services: Services
) -> None:
    _shop_with_problems(services)
    page = client.get("/scrada").text
    rows = re.findall(r'<tr data-route="c1:([\w-]+):\w+">(.*?)</tr>', page, re.S)
    assert {kind for kind, _ in rows} == {"cash-book", "daily-receipts"}
    for _, row in rows:
        assert 'data-source="partner" data-state="not-offered"' in row
        assert "data-advice" in row  # no route: what to set up, in words
    assert 'id="scrada-route-help" open' in page
    assert "--webhook-listen" in page and 'id="scrada-webhook-url"' not in page


def test_the_webhook_address_is_the_running_servers(data_dir: DataDir) -> None:
    data_dir.path.mkdir(parents=True, exist_ok=True)
    hook, serve = data_dir.path / "webhook.json", data_dir.path / "serve.json"
    serve.write_text(json.dumps({"url": "http://127.0.0.1:8080"}))
    hook.write_text(json.dumps({"url": "http://0.0.0.0:8081/hooks/scrada"}))
    assert webhook_url(data_dir) == "http://0.0.0.0:8081/hooks/scrada"
    earlier = time.time() - 60
    os.utime(hook, (earlier, earlier))  # left by a start with --webhook-listen, not this one
    assert webhook_url(data_dir) is None


def test_status_says_the_routes_the_problems_and_the_alerts(
    services: Services, data_dir: DataDir
) -> None:
    _shop_with_problems(services)
    with services.store.write() as db:
        alerts.raise_lines_missing(db, alerts.LinesMissing("c1", "j1", date(2026, 3, 5)))
    done = relais("scrada", "status", "--json", data_dir=Path(data_dir.path))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert {row["book_name"] for row in answer["books"]} == {"Caisse", "Recettes"}
    assert {p["kind"] for p in answer["continuity"]} == {"gap", "break"}
    assert all(p["company_name"] == "Boulangerie Dupont" for p in answer["continuity"])
    assert all(route["advice"] == routes.NO_ROUTE for route in answer["routes"])
    assert [(a["company_name"], a["since"]) for a in answer["alerts"]] == [
        ("Boulangerie Dupont", "2026-03-05")
    ]
    text = relais("scrada", "status", data_dir=Path(data_dir.path))
    assert text.returncode == 0, text.stderr
    assert "BE12 3416 7609 6039" in text.stdout and "Boulangerie Dupont" in text.stdout
    assert "05/03/2026" in text.stdout  # the alert's date, as the French reader writes it


def test_the_page_shows_the_webhook_address_when_relais_listens(
    client: Client, services: Services
) -> None:
    url = "http://127.0.0.1:8766/hooks/scrada"
    (services.data_dir.path / "webhook.json").write_text(json.dumps({"url": url}))
    page = client.get("/scrada").text
    assert f'<code id="scrada-webhook-url">{url}</code>' in page
