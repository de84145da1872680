"""History: items, filters, pagination, resolution with a justification, purge by retention."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from webapp import clock, history, history_queries, i18n, maintenance, settings
from webapp.history import HistoryError
from webapp.history_queries import ItemFilter
from webapp.store import Store


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seed(store: Store, *, days_ago: int, job: str, kind: str, status: str, count: int = 1) -> int:
    moment = iso(datetime.now(UTC) - timedelta(days=days_ago))
    run_id = history.start_run(store, job, "schedule")
    with store.write() as db:
        db.execute("UPDATE runs SET started_at = ? WHERE id = ?", [moment, run_id])
        for index in range(count):
            db.execute(
                "INSERT INTO run_items (run_id, job_name, created_at, kind, status, reference) VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, job, moment, kind, status, f"{job}-{index}"],
            )
    history.finish_run(store, run_id, "success")
    return run_id


@pytest.fixture
def store(data_dir) -> Store:  # type: ignore[no-untyped-def]
    return Store(data_dir.database)


def test_items_update_the_run_counters(store: Store) -> None:
    run_id = history.start_run(store, "job", "manual")
    for status in ("received", "received", "sent", "skipped", "error", "done"):
        history.add_item(store, run_id, "job", kind="file", status=status)
    run = history_queries.get_run(store, run_id)
    assert run is not None
    assert (
        run["count_received"],
        run["count_sent"],
        run["count_skipped"],
        run["count_errors"],
        run["count_done"],
    ) == (2, 1, 1, 1, 1)
    with pytest.raises(ValueError):
        history.add_item(store, run_id, "job", kind="file", status="exploded")


def test_filters(store: Store) -> None:
    seed(store, days_ago=0, job="scrada", kind="ubl", status="received", count=3)
    seed(store, days_ago=0, job="scrada", kind="coda", status="error", count=2)
    seed(store, days_ago=10, job="backup", kind="backup", status="done", count=4)
    today = date.today()

    def count(**kwargs) -> int:  # type: ignore[no-untyped-def]
        return len(history_queries.query_items(store, ItemFilter(**kwargs), 1, 100).items)

    assert count() == 9
    assert count(job_name="scrada") == 5
    assert count(kind="coda") == 2
    assert count(status="error") == 2
    assert count(status="unresolved") == 2
    assert count(date_from=today) == 5
    assert count(date_to=today - timedelta(days=5)) == 4
    assert count(date_from=today - timedelta(days=11), date_to=today - timedelta(days=9)) == 4
    assert count(job_name="scrada", status="received", kind="ubl", date_from=today) == 3


def test_pagination_newest_first(store: Store) -> None:
    seed(store, days_ago=3, job="old", kind="k", status="done", count=5)
    seed(store, days_ago=0, job="new", kind="k", status="done", count=5)
    first = history_queries.query_items(store, ItemFilter(), 1, 4)
    assert first.has_next and not first.has_previous
    assert {i["job_name"] for i in first.items} == {"new"}
    third = history_queries.query_items(store, ItemFilter(), 3, 4)
    assert len(third.items) == 2 and not third.has_next and third.has_previous
    exact = history_queries.query_items(store, ItemFilter(), 2, 5)
    assert not exact.has_next


def test_resolving_requires_a_justification(store: Store) -> None:
    run_id = history.start_run(store, "job", "manual")
    error_id = history.add_item(
        store, run_id, "job", kind="file", status="error", message="Bad file"
    )
    done_id = history.add_item(store, run_id, "job", kind="file", status="done")
    for empty in ("", "   ", "ok"):
        with pytest.raises(HistoryError):
            history.resolve_item(store, error_id, empty, "anne")
    assert history_queries.count_unresolved(store) == 1
    with pytest.raises(HistoryError):
        history.resolve_item(store, done_id, "Not an error", "anne")
    with pytest.raises(HistoryError):
        history.resolve_item(store, 99999, "Gone", "anne")
    item = history.resolve_item(store, error_id, "  Fichier renvoyé par le fournisseur  ", "anne")
    assert item["resolution"] == "Fichier renvoyé par le fournisseur"
    assert item["resolved_by"] == "anne" and item["resolved_at"]
    assert history_queries.count_unresolved(store) == 0
    with pytest.raises(HistoryError):
        history.resolve_item(store, error_id, "Twice", "anne")


def test_purge_removes_only_what_is_older_than_retention(store: Store) -> None:
    old_run = seed(store, days_ago=90, job="old", kind="k", status="done", count=23)
    recent_run = seed(store, days_ago=30, job="recent", kind="k", status="error", count=3)
    progress: list[tuple[int, int]] = []
    cutoff = clock.months_ago_iso(int(settings.get(store, "history_retention_months")))
    items, runs = maintenance.purge_history_before(
        store, cutoff, batch=5, progress=lambda d, t: progress.append((d, t))
    )
    assert (items, runs) == (23, 1)
    assert progress[-1] == (23, 23) and len(progress) == 5
    assert history_queries.get_run(store, old_run) is None
    assert history_queries.get_run(store, recent_run) is not None
    assert len(history_queries.query_items(store, ItemFilter(), 1, 100).items) == 3


def test_purge_job_follows_the_retention_setting(services) -> None:  # type: ignore[no-untyped-def]
    seed(services.store, days_ago=40, job="x", kind="k", status="done", count=2)
    services.runner.run("history_purge")
    assert (
        len(history_queries.query_items(services.store, ItemFilter(job_name="x"), 1, 10).items) == 2
    )
    settings.put(services.store, "history_retention_months", "1")
    run_id = services.runner.run("history_purge")
    assert history_queries.query_items(services.store, ItemFilter(job_name="x"), 1, 10).items == []
    purged = history_queries.get_run(services.store, run_id)
    assert purged is not None and purged["params"]["items"] == 2


def test_interrupt_unfinished(store: Store) -> None:
    live = history.start_run(store, "job", "manual")  # this process: alive
    dead = history.start_run(store, "job", "manual")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with store.write() as db:  # as if the process that owned it was killed
        db.execute("UPDATE runs SET owner_pid = ? WHERE id = ?", [child.pid, dead])
    assert history.interrupt_unfinished(store) == 1
    assert history_queries.get_run(store, dead)["status"] == "interrupted"  # type: ignore[index]
    assert history_queries.get_run(store, live)["status"] == "running"  # type: ignore[index]


def test_resolving_refuses_what_it_cannot_keep_whole(store: Store) -> None:
    run_id = history.start_run(store, "job", "manual")
    error_id = history.add_item(store, run_id, "job", kind="file", status="error")
    too_long = "x" * (history.JUSTIFICATION_MAX + 1)
    with pytest.raises(HistoryError) as refused:
        history.resolve_item(store, error_id, too_long, "anne")
    with i18n.language("en"):
        assert refused.value.translated() == "The justification is limited to 2000 characters."
    with pytest.raises(HistoryError) as refused:
        history.resolve_item(store, error_id, "Checked", "a" * (history.RESOLVER_MAX + 1))
    with i18n.language("en"):
        assert "limited to 100 characters" in refused.value.translated()
    assert history_queries.count_unresolved(store) == 1  # nothing half-applied
    longest = "y" * history.JUSTIFICATION_MAX
    item = history.resolve_item(store, error_id, longest, "b" * history.RESOLVER_MAX)
    assert item["resolution"] == longest and item["resolved_by"] == "b" * 100
