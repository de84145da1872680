"""UI latency with a big history and while long jobs run: the real server, real HTTP on 127.0.0.1.

    .venv/bin/python benchmarks/ui.py [--items N] [--requests N] [--concurrency N]
                                      [--lines N] [--articles N] [--skip-pages] [--skip-jobs]

Seeds a temporary data folder straight through the store (one transaction, executemany), starts
`python -m webapp serve` as a child process, then measures:
- pages: the dashboard, history pages (filtered; first; page 200 reached by keyset, as its "next"
  links reach it; an old `?page=200` link) with a static file as the baseline;
- writes: a settings save (POST with its CSRF token) and a page read, one after the other, first
  with nothing running (the baseline), then while the server receives an e-connecteur file of
  --lines lines (analysis, then integration, started from the connector's reception page), then
  while `relais backoffice import articles` imports --articles articles in a child process;
- the connector's history, first and deep page, once the reception has written its items.
Prints tables with the ratio to the baseline of the same run; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import econnector as shop  # noqa: E402  (its data: a connector WEB, mapped articles, orders)

from webapp import history_queries  # noqa: E402
from webapp.config import resolve_data_dir  # noqa: E402
from webapp.history_queries import ItemFilter  # noqa: E402
from webapp.store import Store  # noqa: E402

DAYS = 60
ITEMS_PER_RUN = 100  # ~2,000 runs for 200,000 items
WARMUP = 20
TARGET_BUDGET_S = 15.0  # per target: a pathological page cannot make the script run for ever
P95_GOAL_MS = 50.0
ALONE = 50  # sequential requests per target for the one-client column
NAGLE_SUSPECT_MS = 30.0
WRITE_GOAL_MS = 300.0
WRITE_PAUSE_S = 0.05  # between two saves: a person clicking, not a load test
BASELINE_SAVES = 40
DEEP_PAGE = 200

# Business processes (invented: not registered yet) with their kinds of items and status mix.
BUSINESS_JOBS: dict[str, tuple[list[str], list[tuple[str, float]]]] = {
    "scrada_pull": (
        ["receipt", "cash_book"],
        [("received", 0.55), ("done", 0.40), ("skipped", 0.03), ("error", 0.02)],
    ),
    "pos_sync": (
        ["article", "price", "ticket", "customer"],
        [("sent", 0.50), ("received", 0.30), ("done", 0.15), ("skipped", 0.03), ("error", 0.02)],
    ),
    "connector_import": (
        ["order", "customer", "delivery"],
        [("received", 0.45), ("done", 0.45), ("skipped", 0.08), ("error", 0.02)],
    ),
    "connector_export": (
        ["article", "stock"],
        [("sent", 0.90), ("skipped", 0.08), ("error", 0.02)],
    ),
}
MESSAGES = {
    "received": "{kind} {reference} received",
    "sent": "{kind} {reference} sent",
    "done": "{kind} {reference} written",
    "skipped": "{kind} {reference} unchanged: skipped",
    "error": "{kind} {reference} refused: {reason}",
}
REASONS = ["HTTP 503 from the server", "invalid VAT number", "unknown article", "folder missing"]
COUNTER = {
    "received": "count_received",
    "sent": "count_sent",
    "done": "count_done",
    "skipped": "count_skipped",
    "error": "count_errors",
}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seed(store: Store, total_items: int, rng: random.Random) -> tuple[int, int]:
    """Runs spread over the last DAYS days, oldest first; returns (runs, items) written."""
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    business_runs = max(1, total_items // ITEMS_PER_RUN - 2 * DAYS)
    plan: list[tuple[datetime, str]] = []
    for day in range(DAYS):  # the platform's own nightly processes
        midnight = start + timedelta(days=day)
        plan.append((midnight + timedelta(hours=2), "database_backup"))
        plan.append((midnight + timedelta(hours=3, minutes=30), "history_purge"))
    span = (now - start).total_seconds() - 3600
    names = list(BUSINESS_JOBS)
    for _ in range(business_runs):
        plan.append((start + timedelta(seconds=rng.uniform(0, span)), rng.choice(names)))
    plan.sort()

    own_items = sum(1 if job == "history_purge" else 2 for _, job in plan if job not in names)
    left = max(0, total_items - own_items)
    shares = [rng.uniform(0.3, 1.7) if job in names else 0.0 for _, job in plan]
    weight = sum(shares) or 1.0
    sizes = [int(left * share / weight) for share in shares]
    business_indexes = [index for index, (_, job) in enumerate(plan) if job in names]
    for index in business_indexes[: left - sum(sizes)]:  # rounding remainder
        sizes[index] += 1

    runs: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    item_id = 0
    for run_id, ((started, job), size) in enumerate(zip(plan, sizes, strict=True), start=1):
        counts = dict.fromkeys(COUNTER.values(), 0)
        moment = started
        if job in names:
            kinds, mix = BUSINESS_JOBS[job]
            statuses = rng.choices([s for s, _ in mix], [w for _, w in mix], k=size)
            for number, status in enumerate(statuses):
                kind = rng.choice(kinds)
                moment += timedelta(milliseconds=rng.randint(5, 400))
                reference = f"{kind[:3].upper()}-{run_id:05d}-{number:04d}"
                params = {"kind": kind, "reference": reference}
                resolved = (None, None, None)
                if status == "error":
                    params["reason"] = rng.choice(REASONS)
                    if rng.random() < 0.3:
                        resolved = (iso(moment + timedelta(hours=5)), "marie", "Sent again by hand")
                item_id += 1
                items.append(
                    (item_id, run_id, job, iso(moment), kind, status, reference,
                     MESSAGES[status], json.dumps(params), *resolved)
                )  # fmt: skip
                counts[COUNTER[status]] += 1
        elif job == "database_backup":
            name = f"relais-{started:%Y%m%d-%H%M%S}.sqlite"
            for reference, message in (
                (name, "Backup written: {file}"),
                (name, "Old backup removed"),
            ):
                item_id += 1
                moment += timedelta(seconds=2)
                items.append(
                    (item_id, run_id, job, iso(moment), "backup", "done", reference, message,
                     json.dumps({"file": name}), None, None, None)
                )  # fmt: skip
                counts["count_done"] += 1
        else:
            item_id += 1
            moment += timedelta(seconds=1)
            items.append(
                (item_id, run_id, job, iso(moment), "history", "done", None,
                 "{items} entries older than {months} months deleted",
                 json.dumps({"items": 0, "months": 12}), None, None, None)
            )  # fmt: skip
            counts["count_done"] += 1
        finished = moment + timedelta(milliseconds=50)
        status = "warning" if counts["count_errors"] else "success"
        runs.append(
            (run_id, job, "schedule", status, iso(started), iso(finished), size, size, None,
             None, None, *counts.values())
        )  # fmt: skip

    with store.write() as db:
        db.execute("DELETE FROM run_items")
        db.execute("DELETE FROM runs")
        db.conn.executemany(
            "INSERT INTO runs (id, job_name, origin, status, started_at, finished_at,"
            " progress_done, progress_total, progress_label, message, params,"
            f" {', '.join(COUNTER.values())}) VALUES ({', '.join('?' * 16)})",
            runs,
        )
        db.conn.executemany(
            "INSERT INTO run_items (id, run_id, job_name, created_at, kind, status, reference,"
            " message, params, resolved_at, resolved_by, resolution)"
            f" VALUES ({', '.join('?' * 12)})",
            items,
        )
    return len(runs), len(items)


# -- the server --------------------------------------------------------------------------------


class Server:
    def __init__(self, data_dir: Path) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
        env.update(RELAIS_VAULT_BACKEND="file", PYTHONUNBUFFERED="1")
        self.log_path = data_dir.parent / "serve.out"
        self._log = open(self.log_path, "w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp", "--data-dir", str(data_dir), "serve", "--no-browser",
             "--port", "0"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )  # fmt: skip
        self.url = self._wait(30.0)

    @property
    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _wait(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"http://127\.0\.0\.1:\d+", self.output)
            if match:
                try:
                    response = httpx.get(match.group(0) + "/healthz", timeout=2, trust_env=False)
                    if response.status_code == 200:
                        return match.group(0)
                except httpx.HTTPError:
                    pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.output}")
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.output}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    path: str
    latencies_ms: list[float]
    wall_s: float
    failures: int
    sample_bytes: int

    @property
    def median(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[94]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_s


def measure(
    base: str, name: str, path: str, requests: int, concurrency: int, warmup: int = WARMUP
) -> Result:
    headers = {"accept": "text/html", "accept-encoding": "identity"}
    latencies: list[float] = []
    failures = 0
    sizes: list[int] = []
    issued = 0
    lock = threading.Lock()
    deadline = time.monotonic() + TARGET_BUDGET_S

    def worker() -> None:
        nonlocal issued, failures
        with httpx.Client(base_url=base, headers=headers, timeout=30, trust_env=False) as client:
            for _ in range(-(-warmup // concurrency)):
                client.get(path)
            barrier.wait()
            while True:
                with lock:
                    if issued >= requests or time.monotonic() > deadline:
                        return
                    issued += 1
                began = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures += 1
                    elif not sizes:
                        sizes.append(len(response.content))

    barrier = threading.Barrier(concurrency + 1)
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()  # every worker warmed up: the clock starts now
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return Result(name, path, latencies, wall, failures, sizes[0] if sizes else 0)


def print_table(results: list[Result], baseline: Result, alone: dict[str, Result]) -> None:
    header = (
        "target",
        "path",
        "n",
        "median ms",
        "p95 ms",
        "req/s",
        "×static med",
        "×static p95",
        "1 client ms",
        "KiB",
    )
    rows = [
        (
            r.name,
            r.path if len(r.path) <= 58 else r.path[:55] + "...",
            str(len(r.latencies_ms)) + (f" ({r.failures} failed)" if r.failures else ""),
            f"{r.median:.1f}",
            f"{r.p95:.1f}",
            f"{r.rate:.0f}",
            f"{r.median / baseline.median:.1f}",
            f"{r.p95 / baseline.p95:.1f}",
            f"{alone[r.name].median:.1f}",
            f"{r.sample_bytes / 1024:.0f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    left = {0, 1}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def keyset_link(store: Store, path: str, filters: ItemFilter, number: int) -> str:
    """Page ``number``'s link as the pages' own "next" links reach it, one page after the other."""
    result = history_queries.query_page(store, filters)
    while result.number < number - 1 and result.next_cursor:
        result = history_queries.query_page(
            store, filters, after=result.next_cursor, number=result.number + 1
        )
    if result.next_cursor is None:  # fewer pages: the last one
        result = history_queries.query_page(
            store, filters, before=result.previous_cursor, number=result.number - 1
        )
    if result.next_cursor is None:
        return path
    print(f"deep page of {path}: page {result.number + 1}, reached by keyset")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}after={quote(result.next_cursor.token())}&page={result.number + 1}"


def measure_pages(base: str, targets: list[tuple[str, str]], args: argparse.Namespace) -> None:
    print(
        f"{args.requests} requests per target, {args.concurrency} parallel clients, "
        f"after {WARMUP} warm-up requests (at most {TARGET_BUDGET_S:.0f} s per target)\n"
    )
    results = [measure(base, name, path, args.requests, args.concurrency) for name, path in targets]
    # One client, one request at a time: the service time, without queueing.
    alone = {name: measure(base, name, path, ALONE, 1, 3) for name, path in targets}
    print_table(results, results[0], alone)
    print(f"(1 client ms: median of {ALONE} sequential requests on one kept-alive connection)\n")
    by_name = {result.name: result for result in results}
    for result in results:
        if "history" in result.name:
            holds = "yes" if result.p95 <= P95_GOAL_MS else "NO"
            print(f"p95 <= {P95_GOAL_MS:.0f} ms ({result.name}): {holds} ({result.p95:.1f} ms)")
    for result in results:
        first = by_name.get(result.name.replace(", deep", ", first"))
        if result.name.endswith(", deep") and first:
            print(f"{result.name} / {first.name}: p95 ×{result.p95 / first.p95:.2f}")
    if alone["static file"].median > NAGLE_SUSPECT_MS:
        print(
            f"note: a static file takes {alone['static file'].median:.0f} ms for one client:"
            " about 40 ms per kept-alive response is Nagle's algorithm meeting delayed ACKs"
        )
    failed = sum(result.failures for result in results)
    if failed:
        print(f"{failed} requests did not answer 200")
    print()


# -- writes while a job runs --------------------------------------------------------------------


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
        self.client = httpx.Client(base_url=base, timeout=300, trust_env=False)
        page = self.client.get("/settings").text
        match = re.search(r'"x-csrftoken": "([^"]+)"', page)
        if not match:
            raise RuntimeError("the settings page carries no CSRF token")
        self.headers = {"x-csrftoken": match.group(1), "HX-Request": "true"}
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000, help="history items to seed")
    parser.add_argument("--requests", type=int, default=400, help="requests per target")
    parser.add_argument("--concurrency", type=int, default=8, help="parallel clients")
    parser.add_argument("--lines", type=int, default=300_000, help="lines of the received file")
    parser.add_argument("--articles", type=int, default=200_000, help="articles imported")
    parser.add_argument("--skip-pages", action="store_true", help="no page measurements")
    parser.add_argument("--skip-jobs", action="store_true", help="no writes while jobs run")
    args = parser.parse_args()
    if args.items < 1 or args.requests < 20 or args.concurrency < 1:
        parser.error("--items >= 1, --requests >= 20, --concurrency >= 1")

    temp = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    server: Server | None = None
    try:
        data_dir = resolve_data_dir(temp / "data")
        store = Store(data_dir.database)
        began = time.perf_counter()
        runs, items = seed(store, args.items, random.Random(20240601))
        seeded = time.perf_counter() - began
        month_ago = (date.today() - timedelta(days=30)).isoformat()
        errors = ItemFilter(
            job_name="scrada_pull", status="error", date_from=date.fromisoformat(month_ago)
        )
        filtered = f"/history?job=scrada_pull&status=error&date_from={month_ago}"
        targets = [
            ("static file", "/static/app.css"),
            ("dashboard", "/"),
            ("history filtered, first", filtered),
            ("history filtered, deep", keyset_link(store, filtered, errors, 10)),
            ("history, first", "/history"),
            ("history, deep", keyset_link(store, "/history", ItemFilter(), DEEP_PAGE)),
            (f"history ?page={DEEP_PAGE} (old link)", f"/history?page={DEEP_PAGE}"),
        ]  # fmt: skip
        store.close()
        size = data_dir.database.stat().st_size + sum(
            path.stat().st_size for path in data_dir.path.glob("relais.sqlite-*")
        )
        print(
            f"seeded {items:,} items in {runs:,} runs over {DAYS} days in {seeded:.2f} s "
            f"({items / seeded:,.0f} items/s, database {size / 2**20:.0f} MiB)"
        )
        articles_file = None
        if not args.skip_jobs:
            began = time.perf_counter()
            articles_file = prepare_jobs(temp, data_dir.path, args.lines, args.articles)
            print(
                f"shop, {args.lines:,}-line file and articles written in {time.perf_counter() - began:.1f} s"
            )

        began = time.perf_counter()
        server = Server(data_dir.path)
        print(f"server ready at {server.url} in {time.perf_counter() - began:.2f} s")
        if not args.skip_pages:
            measure_pages(server.url, targets, args)
        if articles_file is not None:
            measure_jobs(server, data_dir.path, articles_file, args.lines, args.articles)
            if not args.skip_pages:
                store = Store(data_dir.database)
                received = ItemFilter(
                    subject="WEB",
                    status="received",
                    date_from=date.today() - timedelta(days=61),
                    date_to=date.today(),
                )
                connector = [
                    ("static file", "/static/app.css"),
                    ("connector history, first", "/connectors/WEB/history"),
                    ("connector history, deep", keyset_link(store, "/connectors/WEB/history?tab=reception", received, 100)),
                ]  # fmt: skip
                store.close()
                measure_pages(server.url, connector, args)
    finally:
        if server is not None:
            code = server.stop()
            print(f"server stopped with SIGTERM (exit code {code})")
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
