"""Tasks are runs in the database: claimed once per subject, found again by run id after a reload,
their result kept with the run, interrupted when their process dies, failures recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Client, relais_env
from webapp import history, history_queries
from webapp.config import DataDir
from webapp.i18n import N_, UserError
from webapp.jobs import RunContext, Summary
from webapp.services import Services, open_services
from webapp.tasks import TaskBusy, TaskError, TaskRunner, TaskSpec

RELEASE = threading.Event()


def count_rows(context: RunContext, params: dict[str, Any]) -> Summary:
    total = int(params["rows"])
    for done in range(1, total + 1):
        context.check_stop()
        context.progress(done, total, N_("rows"))
    context.save_result({"counted": total, "subject": params.get("label")})
    return Summary(N_("{rows} rows counted"), {"rows": total})


def wait_for_release(context: RunContext, params: dict[str, Any]) -> Summary:
    while not RELEASE.wait(0.02):
        context.check_stop()
    return Summary(N_("released"))


def refuse(context: RunContext, params: dict[str, Any]) -> Summary:
    context.item("file", "error", reference="a.csv", message=N_("is empty"))
    raise UserError(
        N_("The file {file} is too large: the limit is {limit} MB."), file="a.csv", limit=1
    )


def count_in_one_transaction(context: RunContext, params: dict[str, Any]) -> Summary:
    """As an import does: all its work in one write transaction, progress made inside it."""
    with context.store.write() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('test_task', '1')")
        context.progress(7, 10, N_("rows"))
        while not RELEASE.wait(0.02):
            context.check_stop()
    context.progress(10, 10, N_("rows"))
    return Summary(N_("released"))


def crash(context: RunContext, params: dict[str, Any]) -> Summary:
    raise RuntimeError("disk on fire")


SPECS = {
    spec.name: spec
    for spec in (
        TaskSpec("test_count", N_("Count"), count_rows),
        TaskSpec("test_wait", N_("Wait"), wait_for_release),
        TaskSpec("test_refuse", N_("Refuse"), refuse),
        TaskSpec("test_crash", N_("Crash"), crash),
        TaskSpec("test_transaction", N_("Transaction"), count_in_one_transaction),
    )
}


@pytest.fixture
def tasks(services: Services) -> Iterator[TaskRunner]:
    RELEASE.clear()
    runner = TaskRunner(services.store, services.data_dir, SPECS)
    yield runner
    RELEASE.set()
    runner.shutdown()


def finished(runner: TaskRunner, run_id: int, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = runner.get(run_id)
        assert task is not None
        if not task.running:
            return task.run
        time.sleep(0.02)
    raise AssertionError(f"task {run_id} never finished")


def test_a_task_runs_in_the_background_and_leaves_its_result(tasks: TaskRunner) -> None:
    run_id = tasks.start("test_count", {"rows": 5, "label": "x"}, subject="articles")
    run = finished(tasks, run_id)
    assert run["status"] == "success"
    assert run["message"] == "{rows} rows counted" and run["params"] == {"rows": 5}
    assert (run["progress_done"], run["progress_total"]) == (5, 5)
    task = tasks.get(run_id)
    assert task is not None
    assert task.params == {"rows": 5, "label": "x"}, "what it was asked is kept"
    assert task.result == {"counted": 5, "subject": "x"}
    assert (task.name, task.subject, run["origin"], run["owner_pid"]) == (
        "test_count",
        "articles",
        "manual",
        os.getpid(),
    )


def test_save_result_from_outside_the_task(tasks: TaskRunner) -> None:
    run_id = tasks.run("test_count", {"rows": 1})
    tasks.save_result(run_id, {"confirmed": [1, "é"]})
    task = tasks.get(run_id)
    assert task is not None and task.result == {"confirmed": [1, "é"]}
    assert task.params == {"rows": 1}, "the params stay beside the result"


def test_run_waits_in_the_calling_thread(tasks: TaskRunner) -> None:
    run_id = tasks.run("test_count", {"rows": 3})
    task = tasks.get(run_id)
    assert task is not None and task.status == "success" and task.run["origin"] == "command"


def test_one_running_task_per_name_and_subject(tasks: TaskRunner) -> None:
    first = tasks.start("test_wait", {}, subject="articles")
    with pytest.raises(TaskBusy) as refused:
        tasks.start("test_wait", {}, subject="articles")
    assert refused.value.run_id == first
    assert refused.value.translated()
    other = tasks.start("test_wait", {}, subject="customers")
    unsubjected = tasks.start("test_wait", {})
    with pytest.raises(TaskBusy):
        tasks.start("test_wait", {})
    assert len({first, other, unsubjected}) == 3
    with tasks.store.read() as db:
        running = db.execute(
            "SELECT count(*) FROM runs WHERE job_name = 'test_wait' AND status = 'running'"
        ).fetchone()[0]
    assert running == 3, "the refused starts left no run behind"
    RELEASE.set()
    for run_id in (first, other, unsubjected):
        assert finished(tasks, run_id)["status"] == "success"
    second = tasks.start("test_count", {"rows": 1}, subject="articles")
    assert finished(tasks, second)["status"] == "success", "a finished task frees its subject"


def test_unknown_task_is_refused(tasks: TaskRunner) -> None:
    with pytest.raises(TaskError):
        tasks.start("test_nothing", {})
    with tasks.store.read() as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_a_refusal_is_recorded_failed_with_its_message(tasks: TaskRunner) -> None:
    run = finished(tasks, tasks.start("test_refuse", {}))
    assert run["status"] == "failed"
    assert run["message"] == "The file {file} is too large: the limit is {limit} MB."
    assert run["params"] == {"file": "a.csv", "limit": 1}
    assert run["count_errors"] == 1, "what it recorded before failing is kept"


def test_a_crash_is_recorded_failed(tasks: TaskRunner) -> None:
    run = finished(tasks, tasks.start("test_crash", {}))
    assert run["status"] == "failed"
    assert run["params"] == {"error": "disk on fire"}


def test_shutdown_interrupts_a_running_task(services: Services) -> None:
    RELEASE.clear()
    runner = TaskRunner(services.store, services.data_dir, SPECS)
    run_id = runner.start("test_wait", {})
    runner.shutdown(timeout=10)
    run = history_queries.get_run(services.store, run_id)
    assert run is not None and run["status"] == "interrupted"


def test_services_stop_their_tasks_when_closing(data_dir: DataDir) -> None:
    opened = open_services(data_dir)
    opened.tasks.specs.update(SPECS)
    RELEASE.clear()
    run_id = opened.tasks.start("test_wait", {})
    opened.close()
    reopened = open_services(data_dir)
    try:
        run = history_queries.get_run(reopened.store, run_id)
        assert run is not None and run["status"] == "interrupted"
    finally:
        reopened.close()


def test_a_reload_finds_the_task_by_its_run_id(client: Client, tasks: TaskRunner) -> None:
    """Nothing but the run id links a page to its task: any later request finds it."""
    run_id = tasks.start("test_wait", {}, subject="articles")
    html = client.get(f"/runs/{run_id}/progress").text
    assert 'data-status="running"' in html and f"/runs/{run_id}/progress" in html
    RELEASE.set()
    finished(tasks, run_id)
    client.cookies.clear()
    html = client.get(f"/runs/{run_id}/progress").text
    assert 'data-status="success"' in html and "released" in html
    assert client.get(f"/runs/{run_id}").status_code == 200


def test_progress_inside_a_write_transaction_is_shown_live(
    client: Client, services: Services, tasks: TaskRunner
) -> None:
    """The writer is held until the end: the page reads the progress from the runner meanwhile."""
    services.tasks = tasks  # the app's /runs/{id}/progress asks the runner of these tasks
    run_id = tasks.start("test_transaction", {})
    deadline = time.monotonic() + 20
    while (task := tasks.get(run_id)) is not None and task.run["progress_done"] != 7:
        assert time.monotonic() < deadline, "the progress never showed"
        time.sleep(0.02)
    stored = history_queries.get_run(services.store, run_id)
    assert stored is not None and stored["progress_done"] == 0, "nothing written before the end"
    html = client.get(f"/runs/{run_id}/progress").text
    assert 'value="7"' in html and "7 / 10" in html
    RELEASE.set()
    run = finished(tasks, run_id)
    assert (run["status"], run["progress_done"], run["progress_total"]) == ("success", 10, 10)
    assert tasks._live == {}, "nothing is left in memory"


def test_an_unknown_run_id_is_404(client: Client, tasks: TaskRunner) -> None:
    assert client.get("/runs/999999/progress").status_code == 404
    assert client.get("/runs/999999").status_code == 404
    assert client.get("/runs/nope/progress").status_code in (404, 400)
    assert tasks.get(999999) is None


def test_a_job_run_is_not_a_task(services: Services, tasks: TaskRunner) -> None:
    run_id = history.start_run(services.store, "database_backup", "schedule")
    assert tasks.get(run_id) is None


HOLD_A_TASK = """
import sys, threading, time
from pathlib import Path
from webapp.config import resolve_data_dir
from webapp.store import Store
from webapp.tasks import TaskRunner, TaskSpec
data_dir = resolve_data_dir(Path(sys.argv[1]))
store = Store(data_dir.database)
hold = TaskSpec("test_wait", "Wait", lambda context, params: time.sleep(120))
runner = TaskRunner(store, data_dir, {"test_wait": hold})
print(runner.start("test_wait", {"from": "holder"}, subject="articles"), flush=True)
time.sleep(120)
"""


def _killed_holder(data_dir: DataDir) -> int:
    """A real process starts a task, then is killed -9 in the middle of it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TASK, str(data_dir.path)],
        stdout=subprocess.PIPE,
        text=True,
        env=relais_env(),
        cwd=REPO,
    )
    assert process.stdout is not None
    run_id = int(process.stdout.readline())
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    return run_id


def test_a_task_of_a_killed_process_is_taken_over(services: Services, tasks: TaskRunner) -> None:
    left = _killed_holder(services.data_dir)
    assert tasks.get(left) is not None and tasks.get(left).running  # type: ignore[union-attr]
    run_id = tasks.run("test_count", {"rows": 1}, subject="articles")
    assert run_id != left
    RELEASE.set()
    claimed = tasks.start("test_wait", {}, subject="articles")
    assert claimed != left
    run = history_queries.get_run(services.store, left)
    assert run is not None and run["status"] == "interrupted" and run["finished_at"]


def test_a_task_of_a_killed_process_is_interrupted_at_start(data_dir: DataDir) -> None:
    open_services(data_dir).close()  # creates the database
    left = _killed_holder(data_dir)
    reopened = open_services(data_dir)
    try:
        run = history_queries.get_run(reopened.store, left)
        assert run is not None and run["status"] == "interrupted"
        assert "stopped" in str(run["message"])
    finally:
        reopened.close()


def test_a_live_process_keeps_its_task(tmp_path: Path, services: Services) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TASK, str(services.data_dir.path)],
        stdout=subprocess.PIPE,
        text=True,
        env=relais_env(),
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        left = int(process.stdout.readline())
        with pytest.raises(TaskBusy) as refused:
            TaskRunner(services.store, services.data_dir, SPECS).claim(
                "test_wait", {}, subject="articles", origin="manual"
            )
        assert refused.value.run_id == left
        open_services(services.data_dir).close()
        run = history_queries.get_run(services.store, left)
        assert run is not None and run["status"] == "running"
    finally:
        process.kill()
        process.wait(10)
