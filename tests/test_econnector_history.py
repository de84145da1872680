"""The e-connecteur's events move into the one platform history (migration 0016): a database at
version 15 keeps every exchange visible on the connector's page and its errors resolvable once."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from webapp import history, history_queries
from webapp.econnector import records
from webapp.store import Store

EVENT = (
    "INSERT INTO connector_events (connector_id, direction, data_kind, status, file, doc_ref,"
    " document_number, party_code, external_party, name, amount, message, params, run_id,"
    " created_at, resolved_at, resolved_by, resolution)"
    " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ITEM = (
    "INSERT INTO run_items (run_id, job_name, created_at, kind, status, reference, message, params)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def version_15(path: Path) -> None:
    """Two runs written twice (events and items), a customer event alone, two runs gone."""
    old = Store(path, migrate=False)
    old.migrate(target=15)
    at = "2026-11-20T10:00:00Z"
    with old.write() as db:
        db.execute(
            "INSERT INTO connectors (id, code, created_at, updated_at) VALUES (1, 'SHOP', ?, ?)",
            [at, at],
        )
        db.execute(
            "INSERT INTO runs (id, job_name, status, started_at, count_received, count_errors)"
            " VALUES (1, 'connector_receive', 'warning', ?, 1, 1)",
            [at],
        )
        db.execute(
            "INSERT INTO runs (id, job_name, status, started_at, count_sent)"
            " VALUES (2, 'connector_send', 'success', ?, 1)",
            [at],
        )
        db.execute(
            ITEM,
            [
                1,
                "connector_receive",
                at,
                "document",
                "received",
                "SHOP:D1",
                "{ref} integrated as {number}",
                '{"ref": "D1", "number": "CM1"}',
            ],
        )
        db.execute(
            ITEM,
            [
                1,
                "connector_receive",
                at,
                "document",
                "error",
                "SHOP:D2",
                "{ref} not integrated: {reasons}",
                '{"ref": "D2", "reasons": "NOPE"}',
            ],
        )
        db.execute(
            ITEM,
            [
                2,
                "connector_send",
                at,
                "file",
                "sent",
                "SHOP_articles_1.csv",
                "{file}: {rows} rows",
                '{"file": "SHOP_articles_1.csv", "rows": 3}',
            ],
        )
        events = [
            (
                "reception",
                "document",
                "done",
                "a.csv",
                "D1",
                "CM1",
                "W1",
                "C1",
                "Jean",
                "19.00",
                None,
                None,
                1,
                at,
                None,
                None,
                None,
            ),
            (
                "reception",
                "customer",
                "done",
                "a.csv",
                "D1",
                None,
                "W1",
                "C1",
                "Jean",
                "19.00",
                None,
                None,
                1,
                at,
                None,
                None,
                None,
            ),
            (
                "reception",
                "document",
                "error",
                "a.csv",
                "D2",
                None,
                None,
                "C2",
                "Paul",
                "5.00",
                "{ref} not integrated: {reasons}",
                '{"ref": "D2", "reasons": "NOPE"}',
                1,
                at,
                None,
                None,
                None,
            ),
            (
                "send",
                "articles",
                "done",
                "SHOP_articles_1.csv",
                None,
                None,
                None,
                None,
                None,
                None,
                "{file}: {rows} rows",
                '{"file": "SHOP_articles_1.csv", "rows": 3}',
                2,
                at,
                None,
                None,
                None,
            ),
            # Runs purged long ago: the events stayed in the connector's own table.
            (
                "reception",
                "document",
                "error",
                "b.csv",
                "D3",
                None,
                None,
                "C3",
                "Zoé",
                "7.00",
                "{ref} not integrated: {reasons}",
                '{"ref": "D3", "reasons": "VAT"}',
                99,
                "2026-11-01T08:00:00Z",
                None,
                None,
                None,
            ),
            (
                "reception",
                "document",
                "error",
                "b.csv",
                "D4",
                None,
                None,
                "C4",
                "Léa",
                "8.00",
                "{ref} not integrated: {reasons}",
                '{"ref": "D4", "reasons": "VAT"}',
                None,
                "2026-11-01T09:00:00Z",
                "2026-11-02T09:00:00Z",
                "anne",
                "Ressaisi",
            ),
        ]
        db.conn.executemany(EVENT, events)
    old.close()


def _tab_items(store: Store, code: str, tab: str, start: date, end: date) -> list[dict[str, Any]]:
    """What the connector's history tab lists, as its page asks it (maps.history_page)."""
    filters = history_queries.ItemFilter(
        date_from=start, date_to=end, status=records.TABS[tab], subject=code
    )
    return history_queries.query_items(store, filters, 1, 500).items


def test_connector_events_stay_visible_and_resolvable_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "v15.sqlite"
    version_15(path)
    store = Store(path)
    with store.read() as db:
        assert "connector_events" not in db.table_names()
        items = db.execute("SELECT count(*) FROM run_items").fetchone()[0]
        assert items == 6, "each pair becomes one item, nothing is lost"
        lost = db.execute(
            "SELECT count(*), min(origin), min(subject) FROM runs WHERE id > 2"
        ).fetchone()
    assert tuple(lost) == (1, "migration", "SHOP"), "one run for the connector's lost day"
    span = date(2026, 10, 1), date(2026, 11, 30)
    received = _tab_items(store, "SHOP", "reception", *span)
    assert sorted((row["kind"], row["params"]["doc_ref"]) for row in received) == [
        ("customer", "D1"),
        ("document", "D1"),
    ]
    document = next(row for row in received if row["kind"] == "document")
    assert document["params"]["number"] == "CM1" and document["params"]["amount"] == "19.00"
    assert document["reference"] == "SHOP:D1"
    sent = _tab_items(store, "SHOP", "send", *span)
    assert [row["params"]["file"] for row in sent] == ["SHOP_articles_1.csv"]
    errors = _tab_items(store, "SHOP", "error", *span)
    assert sorted(row["params"]["doc_ref"] for row in errors) == ["D2", "D3", "D4"]
    resolved = next(row for row in errors if row["params"]["doc_ref"] == "D4")
    assert (resolved["resolved_by"], resolved["resolution"]) == ("anne", "Ressaisi")

    assert (
        history_queries.count_unresolved(store)
        == history_queries.count_unresolved_for(store, "SHOP")
        == 2
    )
    d3 = next(row for row in errors if row["params"]["doc_ref"] == "D3")
    history.resolve_item(store, d3["id"], "Corrigé dans le fichier", "bob")
    assert history_queries.count_unresolved(store) == 1
    with store.read() as db:
        counts = db.execute("SELECT count_received, count_errors FROM runs WHERE id = 1").fetchone()
    assert tuple(counts) == (2, 1), "the run counts the customer item it gained"
    store.close()


def test_the_command_line_resolves_a_connector_error_with_the_name_typed(tmp_path: Path) -> None:
    from tests.conftest import relais
    from webapp.config import resolve_data_dir

    data = tmp_path / "data"
    database = resolve_data_dir(data).database
    database.parent.mkdir(parents=True, exist_ok=True)
    version_15(database)
    store = Store(database)
    span = date(2026, 10, 1), date(2026, 11, 30)
    error = next(row for row in _tab_items(store, "SHOP", "error", *span) if not row["resolved_at"])
    store.close()
    done = relais(
        "history",
        "resolve",
        str(error["id"]),
        "--justification",
        "Ressaisi",
        "--by",
        "anne",
        data_dir=data,
    )
    assert done.returncode == 0, done.stderr
    store = Store(database)
    resolved = next(
        row for row in _tab_items(store, "SHOP", "error", *span) if row["id"] == error["id"]
    )
    assert (resolved["resolved_by"], resolved["resolution"]) == ("anne", "Ressaisi")
    assert history_queries.count_unresolved_for(store, "SHOP") == 1
    store.close()
