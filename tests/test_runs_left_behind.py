"""A run whose process died is marked interrupted by the next Relais process, CLI included.

Before, only `relais serve` did it at start: 28 killed `relais connector receive` stayed "running"
until a server started. And a server starting while a CLI run was alive marked that live run
interrupted. Both with real processes and a real kill -9.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, relais, relais_env
from webapp import history, history_queries
from webapp.store import Store

HOLD_A_RUN = """
import sys, time
from webapp import history
from webapp.store import Store
store = Store(sys.argv[1])
run_id = history.start_run(store, "connector_receive", "command")
print(run_id, flush=True)
time.sleep(120)
"""


def _start_holder(database: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_RUN, str(database)],
        stdout=subprocess.PIPE,
        text=True,
        env=relais_env(),
        cwd=REPO,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def _status(database: Path, run_id: int) -> str:
    store = Store(database)
    try:
        run = history_queries.get_run(store, run_id)
        assert run is not None
        return str(run["status"])
    finally:
        store.close()


def test_a_killed_cli_run_is_interrupted_by_the_next_cli_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert relais("settings", "list", data_dir=data).returncode == 0  # creates the database
    database = data / "relais.sqlite"
    holder, run_id = _start_holder(database)
    try:
        # While its process lives, another command leaves the run alone.
        assert relais("history", "list", "--json", data_dir=data).returncode == 0
        assert _status(database, run_id) == "running"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        listed = relais("history", "list", data_dir=data)
        assert listed.returncode == 0, listed.stderr
        assert _status(database, run_id) == "interrupted"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_new_run_of_the_same_job_ends_the_dead_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert relais("settings", "list", data_dir=data).returncode == 0
    database = data / "relais.sqlite"
    holder, run_id = _start_holder(database)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    store = Store(database)  # a process that was already running: no start-up sweep here
    try:
        deadline = time.monotonic() + 5
        while _status(database, run_id) == "running" and time.monotonic() < deadline:
            history.start_run(store, "connector_receive", "command")
        assert _status(database, run_id) == "interrupted"
    finally:
        store.close()
