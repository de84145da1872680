"""History pages by keyset (issue 14): next/previous carry the edge row's (created_at, id), so
every item shows once, in order, whatever the filters, and a new item does not shift the pages."""

from __future__ import annotations

import html
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Client
from webapp import history, history_queries, i18n
from webapp.econnector import connectors
from webapp.history_queries import Cursor, ItemFilter, Page
from webapp.services import Services
from webapp.store import Store

JOBS = ("scrada_pull", "pos_sync")
KINDS = ("receipt", "ticket")
STATUSES = ("received", "done", "error")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seed(store: Store, count: int, *, subject: str | None = None) -> None:
    """``count`` items over ten days, many sharing their created_at (ties go by id), some
    resolved, a few in the older whole-second format."""
    rng = random.Random(14)
    now = datetime.now(UTC)
    run_id = history.start_run(store, "scrada_pull", "schedule")
    rows = []
    for number in range(count):
        moment = now - timedelta(days=rng.randrange(10), minutes=rng.randrange(3))
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ") if number % 17 == 0 else iso(moment)
        status = rng.choice(STATUSES)
        resolved = iso(now) if status == "error" and number % 3 == 0 else None
        kind, job = rng.choice(KINDS), rng.choice(JOBS)
        rows.append((run_id, job, stamp, kind, status, f"R{number}", subject, resolved))
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO run_items (run_id, job_name, created_at, kind, status, reference,"
            " subject, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    history.finish_run(store, run_id, "success")


def expected(store: Store, filters: ItemFilter) -> list[int]:
    where, args = filters.where()
    with store.read() as db:
        sql = f"SELECT id FROM run_items{where} ORDER BY created_at DESC, id DESC"
        return [row[0] for row in db.execute(sql, args)]


def ids(page: Page) -> list[int]:
    return [item["id"] for item in page.items]


@pytest.fixture
def store(data_dir) -> Store:  # type: ignore[no-untyped-def]
    return Store(data_dir.database)


FILTERS = [
    ItemFilter(),
    ItemFilter(job_name="pos_sync"),
    ItemFilter(kind="ticket", status="done"),
    ItemFilter(status="error"),
    ItemFilter(status="unresolved"),
    ItemFilter(date_from=date.today() - timedelta(days=4), job_name="scrada_pull"),
    ItemFilter(job_name="nobody"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f.where()[1]))
def test_walking_forward_and_back_shows_each_item_once_in_order(
    store: Store, filters: ItemFilter
) -> None:
    seed(store, 400)
    want = expected(store, filters)
    pages = [history_queries.query_page(store, filters, per_page=13)]
    assert not pages[0].has_previous and pages[0].number == 1
    while pages[-1].has_next:
        after = pages[-1].next_cursor
        pages.append(
            history_queries.query_page(
                store, filters, after=after, number=pages[-1].number + 1, per_page=13
            )
        )
    assert [item for page in pages for item in ids(page)] == want
    assert [page.number for page in pages] == list(range(1, len(pages) + 1))
    assert all(len(page.items) == 13 for page in pages[:-1])

    back = [pages[-1]]
    while back[-1].has_previous:
        before = back[-1].previous_cursor
        back.append(
            history_queries.query_page(
                store, filters, before=before, number=back[-1].number - 1, per_page=13
            )
        )
    assert [ids(page) for page in reversed(back)] == [ids(page) for page in pages]
    assert back[-1].number == 1 and back[-1].has_next == (len(want) > 13)


def test_a_new_item_does_not_shift_the_pages(store: Store) -> None:
    seed(store, 120)
    first = history_queries.query_page(store, ItemFilter(), per_page=25)
    second = history_queries.query_page(store, ItemFilter(), after=first.next_cursor, per_page=25)
    run_id = history.start_run(store, "pos_sync", "schedule")
    for number in range(7):  # newer than everything: an offset would push 7 rows onto page 2
        history.add_item(
            store, run_id, "pos_sync", kind="ticket", status="done", reference=f"N{number}"
        )
    again = history_queries.query_page(store, ItemFilter(), after=first.next_cursor, per_page=25)
    assert ids(again) == ids(second)
    # Going back from page 2 shows the 25 rows just before it, then the new ones on top.
    previous = history_queries.query_page(
        store, ItemFilter(), before=second.previous_cursor, per_page=25
    )
    assert ids(previous) == ids(first) and previous.has_previous
    top = history_queries.query_page(
        store, ItemFilter(), before=previous.previous_cursor, per_page=25
    )
    assert not top.has_previous and len(top.items) == 25  # back at the top: a full first page
    assert [item["reference"] for item in top.items[:7]] == [f"N{n}" for n in range(6, -1, -1)]


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "2026-01-01T00:00:00Z", "_12", "not-a-date_12", "2026-13-45T00:00:00Z_3",
     "2026-01-01T00:00:00Z_-3", "2026-01-01T00:00:00Z_1e9", "x" * 200 + "_1"],
)  # fmt: skip
def test_a_cursor_that_means_nothing_is_the_first_page(text: str) -> None:
    assert Cursor.parse(text) is None


def test_a_cursor_keeps_the_stored_text() -> None:
    for stamp in ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123456Z"):
        cursor = Cursor.parse(f"{stamp}_42")
        assert cursor == Cursor(stamp, 42) and Cursor.parse(cursor.token()) == cursor


# -- through the web -----------------------------------------------------------------------------


def links(text: str, rel: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'<a href="([^"]+)"[^>]*rel="{rel}"', text)]


def references(text: str) -> list[str]:
    return re.findall(r"<td>(R\d+)</td>", text)


def test_the_history_page_walks_by_its_links(client: Client, services: Services) -> None:
    seed(services.store, 400)
    with services.store.read() as db:
        want = [row[0] for row in db.execute(
            "SELECT reference FROM run_items WHERE status = 'error'"
            " ORDER BY created_at DESC, id DESC"
        )]  # fmt: skip
    url, seen, numbers = "/history?status=error", [], []
    while True:
        text = client.get(url).text
        seen += references(text)
        numbers += re.findall(r"<span>\w+ (\d+)</span>", text)
        following = links(text, "next")
        if not following:
            break
        url = following[0]
        assert "status=error" in url and "after=" in url and "offset" not in url
    assert seen == want and len(want) > 50
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
    back = links(text, "prev")
    assert back and "before=" in back[0]
    assert references(client.get(back[0]).text) == want[50:100]


def test_a_page_turn_by_htmx_gets_the_same_rows_alone(client: Client, services: Services) -> None:
    """What the "next" link really asks (hx-get aimed at #history-results): the results only,
    the rows of the whole page; the browser's back button (a history restore) the whole page."""
    seed(services.store, 200)
    turn = {"HX-Request": "true", "HX-Target": "history-results"}
    url = links(client.get("/history").text, "next")[0]
    whole, alone = client.get(url), client.get(url, headers=turn)
    assert alone.status_code == 200 and alone.text.lstrip().startswith('<section id="history-re')
    assert "<html" not in alone.text and "<html" in whole.text
    assert references(alone.text) == references(whole.text) and len(references(whole.text)) == 50
    assert links(alone.text, "next") == links(whole.text, "next")
    restored = client.get(url, headers={**turn, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text and references(restored.text) == references(whole.text)


def test_an_old_page_link_opens_the_first_page(client: Client, services: Services) -> None:
    seed(services.store, 80)
    first = client.get("/history")
    for url in ("/history?page=200", "/history?page=-1", "/history?page=x&after=nonsense",
                "/history?before=2026-01-01T00:00:00Z_abc", "/history?after=&before="):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert references(response.text) == references(first.text), url
    partial = client.get("/history?page=3", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and references(partial.text) == references(first.text)


def test_the_export_reads_every_row_by_cursor(client: Client, services: Services) -> None:
    seed(services.store, 2300)  # more than two chunks of the export
    text = client.get("/history/export.csv").content.decode("utf-8")
    assert len(text.strip().splitlines()) == 1 + 2300  # the header and every item, once


def test_the_connector_history_pages_by_cursor(
    client: Client, services: Services, tmp_path: Path
) -> None:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    connectors.save(
        services.store,
        connectors.Connector(
            code="WEB", partner="Shop", import_dir=str(inbox), export_dir=str(outbox)
        ),
    )
    seed(services.store, 160, subject="WEB")
    seed(services.store, 40)  # about nothing: never on the connector's page
    with services.store.read() as db:
        want = [row[0] for row in db.execute(
            "SELECT reference FROM run_items WHERE subject = 'WEB' AND status = 'received'"
            " ORDER BY created_at DESC, id DESC"
        )]  # fmt: skip
    url, seen = "/connectors/WEB/history", []
    with i18n.language("en"):
        while url:
            response = client.get(url)
            assert response.status_code == 200
            seen += re.findall(r"data-event=\"(\d+)\"", response.text)
            following = links(response.text, "next")
            url = following[0] if following else ""
            assert not url or ("tab=reception" in url and "after=" in url)
    with services.store.read() as db:
        refs = {str(row[0]): row[1] for row in db.execute("SELECT id, reference FROM run_items")}
    assert [refs[item] for item in seen] == want and len(want) > 50
    old = client.get("/connectors/WEB/history?tab=error&page=9&after=x")
    assert old.status_code == 200
    # The pager's htmx turn: the section alone, the rows of the whole page; back: the whole page.
    first = client.get("/connectors/WEB/history").text
    url = links(first, "next")[0]
    whole = client.get(url).text
    turn = {"HX-Request": "true", "HX-Target": "connector-history"}
    alone = client.get(url, headers=turn).text
    assert alone.lstrip().startswith('<section id="connector-history">') and "<html" not in alone
    assert 'hx-target="#connector-history"' in alone and f'hx-get="{html.escape(url)}"' in first
    events = re.compile(r"data-event=\"(\d+)\"")
    assert events.findall(alone) == events.findall(whole) and events.findall(whole)
    restored = client.get(url, headers={**turn, "HX-History-Restore-Request": "true"}).text
    assert "<html" in restored and events.findall(restored) == events.findall(whole)


# Every filter the two pages offer, alone and as the connector's page combines them.
OFFERED = [
    ItemFilter(),
    ItemFilter(job_name="pos_sync"),
    ItemFilter(kind="ticket"),
    ItemFilter(status="error"),
    ItemFilter(status="unresolved"),
    ItemFilter(date_from=date(2026, 1, 1), date_to=date(2026, 2, 1)),
    ItemFilter(job_name="pos_sync", status="error", date_from=date(2026, 1, 1)),
    ItemFilter(subject="WEB", status="received", date_from=date(2026, 1, 1), date_to=date.today()),
    ItemFilter(subject="WEB", status="error"),
    ItemFilter(subject="WEB", status="unresolved"),
]


@pytest.mark.parametrize("filters", OFFERED, ids=lambda f: repr(f.where()[1]))
@pytest.mark.parametrize("newer", [False, True])
@pytest.mark.parametrize("cursor", [None, Cursor("2026-01-15T10:00:00.000000Z", 1234)])
def test_every_filter_reads_one_index_range_without_sorting(
    store: Store, filters: ItemFilter, newer: bool, cursor: Cursor | None
) -> None:
    for sql, args in history_queries.nearest_sql(filters, cursor, newer=newer):
        with store.read() as db:
            rows = db.execute(f"EXPLAIN QUERY PLAN {sql}", [*args, 51])
            plan = " | ".join(row[3] for row in rows)
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
        if filters.subject:
            assert "run_items_subject_status_created" in plan, plan
        elif filters.job_name and filters.status == "error":  # one job's errors: sought directly
            assert "run_items_errors_by_job" in plan, plan
        if cursor and "created_at = ?" in sql:  # the cursor's moment: a seek on the id too
            assert "rowid<?" in plan or "rowid>?" in plan, plan
