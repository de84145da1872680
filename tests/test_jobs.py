"""Scheduled processes: definitions in our tables, no overlapping runs, outcomes, the scheduler."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta

import pytest

from webapp import history_queries
from webapp.config import DataDir
from webapp.jobs import JobError, JobRunner, JobSpec, RunContext, Summary
from webapp.store import Store


class Gate:
    """Holds a job inside its run until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


def make_registry(gate: Gate | None = None) -> dict[str, JobSpec]:
    def slow(context: RunContext) -> Summary:
        context.progress(0, 2, "working")
        if gate:
            gate.entered.set()
            assert gate.release.wait(10)
        context.item("thing", "done", reference="A")
        context.item("thing", "error", reference="B", message="Broken {what}", what="B")
        context.progress(2, 2, "working")
        return Summary("Processed {n}", {"n": 2})

    def broken(context: RunContext) -> Summary:
        raise OSError("disk unplugged")

    return {
        "slow": JobSpec("slow", "Slow", "A slow job", slow, ("interval", "60")),
        "broken": JobSpec("broken", "Broken", "Always fails", broken, ("cron", "0 4 * * *")),
    }


@pytest.fixture
def store(data_dir: DataDir) -> Store:
    return Store(data_dir.database)


def test_definitions_are_stored_and_user_choices_kept(store: Store, data_dir: DataDir) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    names = {row["name"]: row for row in runner.definitions()}
    assert names["slow"]["trigger_kind"] == "interval" and names["slow"]["trigger_value"] == "60"
    runner.update_definition("slow", "cron", "15  2 * * *", enabled=False)
    again = JobRunner(store, data_dir, make_registry())
    row = again.definition("slow")
    assert (row["trigger_kind"], row["trigger_value"], row["enabled"]) == ("cron", "15 2 * * *", 0)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("interval", "0"),
        ("interval", "abc"),
        ("interval", "600000"),
        ("cron", "61 * * * *"),
        ("cron", "every day"),
        ("weekly", "1"),
    ],
)
def test_bad_triggers_are_refused(store: Store, data_dir: DataDir, kind: str, value: str) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    with pytest.raises(JobError):
        runner.update_definition("slow", kind, value, enabled=True)
    assert runner.definition("slow")["trigger_value"] == "60"


def test_a_run_records_items_counts_progress_and_summary(store: Store, data_dir: DataDir) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    run_id = runner.run("slow")
    run = history_queries.get_run(store, run_id)
    assert run is not None
    assert run["status"] == "warning"  # one item in error
    assert (run["count_done"], run["count_errors"]) == (1, 1)
    assert (run["progress_done"], run["progress_total"]) == (2, 2)
    assert run["message"] == "Processed {n}" and run["params"] == {"n": 2}
    assert run["finished_at"]
    items = history_queries.run_items(store, run_id)
    assert [(i["reference"], i["status"]) for i in items] == [("A", "done"), ("B", "error")]
    assert runner.running_run_id("slow") is None


def test_a_failing_job_is_recorded_and_released(store: Store, data_dir: DataDir) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    run_id = runner.run("broken")
    run = history_queries.get_run(store, run_id)
    assert run is not None and run["status"] == "failed"
    assert run["params"] == {"error": "disk unplugged"}
    assert runner.running_run_id("broken") is None
    second = runner.run("broken")  # not stuck: it can run again
    assert second != run_id


def test_no_overlapping_runs(store: Store, data_dir: DataDir) -> None:
    gate = Gate()
    runner = JobRunner(store, data_dir, make_registry(gate))
    run_id, started = runner.start("slow")
    assert started
    assert gate.entered.wait(10)
    same, started_again = runner.start("slow")
    assert (same, started_again) == (run_id, False)
    with pytest.raises(JobError):
        runner.run("slow")
    # Another process on the same file cannot claim it either (the claim is in the database).
    other = JobRunner(Store(data_dir.database), data_dir, make_registry())
    assert other.claim("slow", "command") is None
    gate.release.set()
    runner.shutdown(timeout=10)
    assert history_queries.get_run(store, run_id)["status"] == "warning"  # type: ignore[index]
    assert other.claim("slow", "command") is not None


def test_unknown_job(store: Store, data_dir: DataDir) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    with pytest.raises(JobError):
        runner.run("nope")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_claims_are_released_and_runs_marked_interrupted(
    store: Store, data_dir: DataDir
) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    run_id = runner.claim("slow", "schedule")
    assert run_id and runner.claim("slow", "schedule") is None
    with store.write() as db:  # as if the process holding it was killed
        db.execute("UPDATE jobs SET running_pid = ? WHERE name = 'slow'", [dead_pid()])
    runner.release_stale_claims()
    run = history_queries.get_run(store, run_id)
    assert run is not None and run["status"] == "interrupted"
    assert runner.claim("slow", "schedule") is not None


def test_a_claim_held_by_a_live_process_is_kept(store: Store, data_dir: DataDir) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    run_id = runner.claim("slow", "command")  # this test process is alive: like `relais jobs run`
    assert run_id is not None
    JobRunner(store, data_dir, make_registry()).release_stale_claims()
    assert runner.running_run_id("slow") == run_id
    run = history_queries.get_run(store, run_id)
    assert run is not None and run["status"] == "running"


def test_scheduler_registers_enabled_jobs_and_fires_them(store: Store, data_dir: DataDir) -> None:
    gate = Gate()
    runner = JobRunner(store, data_dir, make_registry(gate))
    runner.update_definition("broken", "cron", "0 4 * * *", enabled=False)
    runner.start_scheduler()
    try:
        nxt = runner.next_run_time("slow")
        assert nxt is not None and timedelta(minutes=59) < nxt - datetime.now(
            nxt.tzinfo
        ) <= timedelta(minutes=60)
        assert runner.next_run_time("broken") is None
        # Bring the next trigger forward: the real scheduler thread runs the job.
        runner._scheduler.modify_job("slow", next_run_time=datetime.now(nxt.tzinfo))  # type: ignore[union-attr]
        assert gate.entered.wait(10)
        run = history_queries.recent_runs(store, job_name="slow", limit=1)[0]
        assert run["origin"] == "schedule" and run["status"] == "running"
        runner.pause()
        assert runner.paused
        runner.resume()
        assert not runner.paused
        gate.release.set()
    finally:
        gate.release.set()
        runner.shutdown(timeout=10)
    assert history_queries.recent_runs(store, job_name="slow", limit=1)[0]["status"] == "warning"


def test_editing_a_trigger_reschedules(store: Store, data_dir: DataDir) -> None:
    runner = JobRunner(store, data_dir, make_registry())
    runner.start_scheduler()
    try:
        runner.update_definition("slow", "interval", "5", enabled=True)
        nxt = runner.next_run_time("slow")
        assert nxt is not None and nxt - datetime.now(nxt.tzinfo) <= timedelta(minutes=5)
        runner.update_definition("slow", "interval", "5", enabled=False)
        assert runner.next_run_time("slow") is None
    finally:
        runner.shutdown()


def test_platform_jobs_really_work(services) -> None:  # type: ignore[no-untyped-def]
    run_id = services.runner.run("database_backup")
    run = history_queries.get_run(services.store, run_id)
    assert run is not None and run["status"] == "success"
    backups = list(services.data_dir.backups.glob("relais-*.sqlite"))
    assert len(backups) == 1
    assert services.runner.run("history_purge")
