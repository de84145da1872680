"""Writes while long jobs run, for benchmarks/ui.py: a settings save and a page read, one after
the other, with nothing running (the baseline), during an e-connecteur reception started from
its page, then during `relais backoffice import articles` in a child process."""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import econnector as shop  # its data: a connector WEB, mapped articles, orders
from ui_server import REPO, Server, session

from webapp.config import resolve_data_dir

WRITE_GOAL_MS = 300.0
WRITE_PAUSE_S = 0.05  # between two saves: a person clicking, not a load test
BASELINE_SAVES = 40


@dataclass
class Writes:
    """Settings saves and page reads timed one after the other while something (or nothing) runs."""

    name: str
    saves_ms: list[float]
    reads_ms: list[float]
    failures: int
    job_s: float

    @staticmethod
    def cells(values: list[float]) -> tuple[float, float, float]:
        if len(values) < 2:
            value = values[0] if values else float("nan")
            return value, value, value
        p95 = statistics.quantiles(values, n=100, method="inclusive")[94]
        return statistics.median(values), p95, max(values)


class Clicker:
    """A person saving a setting, then opening a page, again and again, on one kept-alive
    connection with the session's CSRF token."""

    def __init__(self, base: str) -> None:
        self.client, self.headers = session(base)
        self.count = 0

    def once(self, writes: Writes) -> None:
        self.count += 1
        data = {"backups_kept": str(7 + self.count % 2)}  # a real change at every save
        began = time.perf_counter()
        response = self.client.post("/settings/general", data=data, headers=self.headers)
        writes.saves_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        read = self.client.get("/history", headers={"accept": "text/html"})
        writes.reads_ms.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200 or read.status_code != 200:
            writes.failures += 1
        time.sleep(WRITE_PAUSE_S)

    def during(self, name: str, running: Any) -> Writes:
        """Click while ``running()`` says the job runs; the job's duration comes back too."""
        writes = Writes(name, [], [], 0, 0.0)
        began = time.perf_counter()
        while running():
            self.once(writes)
        writes.job_s = time.perf_counter() - began
        return writes


def run_finished(database: Path, run_id: int) -> bool:
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
    finally:
        conn.close()
    return row is not None and row[0] != "running"


def web_reception(clicker: Clicker, database: Path) -> list[Writes]:
    """The connector's reception as a person starts it: "Réceptionner", then "Intégrer"."""
    started = clicker.client.post("/connectors/WEB/receive", headers=clicker.headers)
    analysis = int(started.headers["hx-redirect"].rsplit("/", 1)[1])
    analysing = clicker.during(
        "e-connecteur analysis", lambda: not run_finished(database, analysis)
    )
    step = clicker.client.post(
        f"/connectors/reception/{analysis}/integrate", headers=clicker.headers
    )
    integration = int(step.headers["hx-push-url"].rsplit("/", 1)[1])
    if integration == analysis:
        raise RuntimeError(f"the integration did not start:\n{step.text[:2000]}")
    integrating = clicker.during(
        "e-connecteur integration", lambda: not run_finished(database, integration)
    )
    return [analysing, integrating]


def cli_import(clicker: Clicker, data: Path, articles: Path) -> Writes:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
    env.update(RELAIS_VAULT_BACKEND="file")
    command = [sys.executable, "-m", "webapp", "--data-dir", str(data), "backoffice", "import",
               "articles", str(articles)]  # fmt: skip
    log = articles.with_suffix(".log")
    with log.open("w", encoding="utf-8") as output:
        child = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)
        writes = clicker.during("back-office import (CLI)", lambda: child.poll() is None)
    if child.returncode:
        print(f"the import exited with {child.returncode}:\n{log.read_text()[-2000:]}")
    return writes


def print_writes(rows: list[Writes], baseline: Writes) -> None:
    base_save, base_read = Writes.cells(baseline.saves_ms), Writes.cells(baseline.reads_ms)
    print(f"{'while':<28} {'job s':>6} {'saves':>5}  {'save p50':>8} {'p95':>7} {'max':>8}"
          f" {'×base p95':>9}  {'read p50':>8} {'p95':>7} {'max':>8} {'×base p95':>9}")  # fmt: skip
    for row in rows:
        save, read = Writes.cells(row.saves_ms), Writes.cells(row.reads_ms)
        failed = f"  ({row.failures} failed)" if row.failures else ""
        print(f"{row.name:<28} {row.job_s:>6.1f} {len(row.saves_ms):>5}  {save[0]:>8.1f}"
              f" {save[1]:>7.1f} {save[2]:>8.1f} {save[1] / base_save[1]:>8.1f}×  {read[0]:>8.1f}"
              f" {read[1]:>7.1f} {read[2]:>8.1f} {read[1] / base_read[1]:>8.1f}×{failed}")  # fmt: skip
    print("(ms; a save is POST /settings/general, a read GET /history, one after the other)")
    for row in rows[1:]:
        p95 = Writes.cells(row.saves_ms)[1]
        holds = "yes" if p95 <= WRITE_GOAL_MS else "NO"
        print(f"save p95 <= {WRITE_GOAL_MS:.0f} ms while {row.name}: {holds} ({p95:.1f} ms)")
    print()


def prepare_jobs(root: Path, data: Path, lines: int, articles: int) -> Path:
    """benchmarks/econnector.py's shop in the same data folder: a connector WEB with its mapped
    articles and a documents file in its import folder; and an articles file to import."""
    inbox, outbox = root / "in", root / "out"
    for folder in (inbox, outbox):
        folder.mkdir(parents=True)
    shop.setup_shop(data, inbox, outbox, None)
    shop.write_documents(inbox / "orders.csv", max(lines // 10, 1), 10)
    catalogue = root / "catalogue"
    catalogue.mkdir()
    articles_file, _ = shop.write_catalogue(catalogue, articles, 0)
    return articles_file


def measure_jobs(server: Server, data: Path, articles_file: Path, lines: int, count: int) -> None:
    clicker = Clicker(server.url)
    baseline = Writes("nothing (baseline)", [], [], 0, 0.0)
    began = time.perf_counter()
    for _ in range(BASELINE_SAVES):
        clicker.once(baseline)
    baseline.job_s = time.perf_counter() - began
    print(f"writes: {lines:,}-line e-connecteur reception, then {count:,}-article import\n")
    rows = [baseline, *web_reception(clicker, resolve_data_dir(data).database)]
    rows.append(cli_import(clicker, data, articles_file))
    print_writes(rows, baseline)
