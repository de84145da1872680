"""E-connecteur: a 300,000-line documents file (30,000 documents) received end to end, and a send
of 200,000 articles and 100,000 customers.

The documents file mixes what web shops send: documents of 1 to 40 lines, customers met again and
again, homonyms of the shop's customers (same e-mail, or same names and postcode), seven VAT codes
(two through correspondences), and refusals (unmapped articles, an unknown VAT code, totals that do
not match the lines). Three cases are printed: that file, a quarter of it (memory), and the same file
received again after its first half was integrated (the "already" path).

    .venv/bin/python benchmarks/econnector.py [--documents N] [--lines-per-document N]
                                               [--articles N] [--customers N]
                                               [--cases full,quarter,again,send]

Each step runs in a fresh child process (its peak memory is its max RSS):
- baseline: `csv.reader` + `executemany` of the same lines into a bare table (same pragmas),
  measured again just before each step, which is compared with it (the machine's speed drifts);
- analysis (a dry run, rolled back), a `relais connector receive` (process start included, on a
  copy) and the integration of the documents file;
- store floor: the rows the integration added, inserted again by executemany into the database as
  it was before it (econnector_floor.py): SQLite's own cost of them, beside the integration's;
- reading + checks: the file read and its documents checked as the analysis does, nothing written
  (econnector_checks.py); with the store floor, the least a single receive (checks + floor) and
  the pair (checks + 2 × floor: the analysis writes and rolls back, the integration writes) take;
- send: articles and customers files written from the back office;
- baseline of the send: `csv.writer` of the same rows read by one bare SELECT.
Prints a table (wall seconds, and CPU seconds: other programs on the machine slow the first, not
the second); asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import csv
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from econnector_checks import step_checks
from econnector_data import (  # benchmarks/ui.py uses the shop through this module
    REPO,
    setup_shop,
    shop_services,
    write_catalogue,
    write_documents,
)
from econnector_floor import step_floor

__all__ = ["setup_shop", "write_catalogue", "write_documents"]

LOCK_GOAL = 0.25  # seconds a UI save may wait for a job's transaction


def step_receive(data: Path, analyse: bool) -> dict[str, Any]:
    from webapp.econnector import connectors
    from webapp.econnector.receive import receive

    services = shop_services(data)
    holds = _watch_write_lock(services.store)
    try:
        connector = connectors.get(services.store, "WEB")
        started, cpu = time.perf_counter(), time.process_time()
        report = receive(services.store, connector, analyse_only=analyse, settle=0)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        services.close()
    counts = report.as_dict()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "documents": report.total,
        "integrated": counts["integrated"] + counts["will_integrate"],
        "refused": counts["not_integrated"],
        "already": counts["already"],
        "homonyms": sum(1 for r in report.documents if r.customer_status == "homonym"),
        "lock_max_ms": max(holds, default=0) * 1000,
        "lock_count": len(holds),
        "lock_over": sum(1 for hold in holds if hold > LOCK_GOAL),
        "lock_median_ms": sorted(holds)[len(holds) // 2] * 1000 if holds else 0,
    }


def _watch_write_lock(store: Any) -> list[float]:
    """How long each store.write() of this process holds the write lock (seconds)."""
    holds: list[float] = []
    write = store.write

    @contextlib.contextmanager
    def timed() -> Any:
        started = None
        try:
            with write() as db:
                started = time.perf_counter()  # the lock is taken: its commit counts too
                yield db
        finally:
            if started is not None:
                holds.append(time.perf_counter() - started)

    store.write = timed
    return holds


def step_send(data: Path) -> dict[str, Any]:
    from webapp.econnector import connectors
    from webapp.econnector.send import send

    services = shop_services(data)
    try:
        connector = connectors.get(services.store, "WEB")
        connector = connectors.replace(connector, send_articles="filter", article_filter="")
        started = time.perf_counter()
        report = send(services.store, connectors.replace(connector, send_articles="export"))
        seconds = time.perf_counter() - started
    finally:
        services.close()
    return {"seconds": seconds, "rows": sum(entry["rows"] for entry in report.files)}


def step_baseline_receive(path: Path, work: Path) -> dict[str, Any]:
    for suffix in ("", "-wal", "-shm"):  # measured again before each step
        (work / f"baseline.sqlite{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(work / "baseline.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    started, cpu = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        conn.execute(f"CREATE TABLE lines ({', '.join(f'c{i}' for i in range(len(header)))})")
        sql = f"INSERT INTO lines VALUES ({', '.join('?' for _ in header)})"
        conn.execute("BEGIN")
        rows = 0
        while batch := [row for _, row in zip(range(1000), reader, strict=False)]:
            conn.executemany(sql, batch)
            rows += len(batch)
        conn.execute("COMMIT")
    cpu = time.process_time() - cpu
    return {"seconds": time.perf_counter() - started, "cpu": cpu, "lines": rows}


def step_baseline_send(data: Path, work: Path) -> dict[str, Any]:
    from webapp.config import resolve_data_dir

    conn = sqlite3.connect(resolve_data_dir(data).database)
    started = time.perf_counter()
    rows = 0
    for name, sql in (
        (
            "a",
            "SELECT a.code, a.label, p.price_excl_vat FROM articles a LEFT JOIN article_prices p ON p.article_id = a.id",
        ),
        ("c", "SELECT code, last_name, first_name, email, city FROM parties"),
    ):
        with (work / f"baseline-{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            for row in conn.execute(sql):
                writer.writerow(row)
                rows += 1
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child(args: argparse.Namespace) -> None:
    data, work = Path(args.data), Path(args.work)
    step = args.step
    if step == "receive":
        result = step_receive(data, analyse=False)
    elif step == "analyse":
        result = step_receive(data, analyse=True)
    elif step == "checks":
        result = step_checks(data)
    elif step == "send":
        result = step_send(data)
    elif step == "baseline-receive":
        result = step_baseline_receive(Path(args.file), work)
    elif step == "floor":
        result = step_floor(_database(data), _database(work / "before"), args.transactions)
    else:
        result = step_baseline_send(data, work)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _database(data: Path) -> Path:
    from webapp.config import resolve_data_dir

    return resolve_data_dir(data).database


def run(
    step: str, data: Path, work: Path, file: Path | None = None, transactions: int = 1
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", step, "--data", str(data), "--work", str(work)]
    command += ["--transactions", str(transactions)]
    if file:
        command += ["--file", str(file)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cli_receive(data: Path, work: Path) -> dict[str, Any]:
    """A single `relais connector receive WEB`, process start included, on a copy of the shop."""
    from webapp.config import resolve_data_dir

    copy = work / "cli"
    shutil.copytree(data, copy / "data")
    shutil.copytree(work / "in", copy / "in")
    conn = sqlite3.connect(resolve_data_dir(copy / "data").database)
    conn.execute("UPDATE connectors SET import_dir = ?", [str(copy / "in")])
    conn.commit()
    conn.close()
    command = [sys.executable, "-m", "webapp", "--data-dir", str(copy / "data")]
    # An installed relais starts from compiled modules (pip compiles them at install, the bundle
    # ships them); a checkout run with PYTHONDONTWRITEBYTECODE compiled ~270 at each start.
    compileall.compile_dir(REPO / "webapp", quiet=1)
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        [*command, "connector", "receive", "WEB", "--json"], capture_output=True, cwd=REPO
    )
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode not in (0, 1):  # 1: some documents were not integrated
        raise RuntimeError(done.stderr.decode())
    shutil.rmtree(copy, ignore_errors=True)
    return {"seconds": seconds, "cpu": cpu}


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def reception(
    root: Path, name: str, documents: int, per_document: int, *, half_first: bool = False
) -> dict[str, dict[str, Any]]:
    """One case: the file's baseline, its analysis, a `relais connector receive` of it, then its
    integration. `half_first`: the first half of its documents were integrated before."""
    work = root / name
    data, inbox, outbox = work / "data", work / "in", work / "out"
    for folder in (inbox, outbox):
        folder.mkdir(parents=True)
    setup_shop(data, inbox, outbox, None)
    path = inbox / "orders.csv"
    if half_first:
        write_documents(path, documents // 2, per_document)
        run("receive", data, work)
        for left in inbox.iterdir():
            left.unlink()
    write_documents(path, documents, per_document)
    # A baseline just before each step: the machine's speed drifts within a run (other programs),
    # and a step is compared with the floor measured in the same minute.
    steps: dict[str, dict[str, Any]] = {}
    for name, measure in (
        ("analysis", lambda: run("analyse", data, work)),
        ("checks", lambda: run("checks", data, work)),
        ("cli", lambda: cli_receive(data, work)),
        ("integration", lambda: run("receive", data, work)),
    ):
        if name == "cli" and half_first:
            continue
        if name == "integration":  # the store's floor inserts its rows again into this copy
            shutil.copytree(data, work / "before")
        steps[f"baseline-{name}"] = run("baseline-receive", data, work, path)
        steps[name] = measure()
    steps["baseline-floor"] = run("baseline-receive", data, work, path)
    steps["floor"] = run("floor", data, work, transactions=steps["integration"]["lock_count"])
    shutil.rmtree(work / "before")
    return steps


def _sum(*steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "seconds": sum(step["seconds"] for step in steps),
        "cpu": sum(step["cpu"] for step in steps),
        "max_rss_mb": max(step.get("max_rss_mb", float("nan")) for step in steps),
    }


def _mean(*steps: dict[str, Any]) -> dict[str, Any]:
    return {key: sum(step[key] for step in steps) / len(steps) for key in ("seconds", "cpu")}


def print_case(title: str, case: dict[str, dict[str, Any]]) -> None:
    """The case's figures, each with its ratio to the baseline measured just before it (same
    run, same file); the baseline row is their mean."""
    analysis, integration = case["analysis"], case["integration"]
    bases = [case["baseline-analysis"], case["baseline-integration"]]
    rows = [
        ("analysis (dry run)", analysis, bases[0]),
        ("integration", integration, bases[1]),
        # compared with one load of the file: the mean of the two steps' baselines
        ("analysis + integration", _sum(analysis, integration), _mean(*bases)),
    ]
    if "cli" in case:
        cli = {**case["cli"], "max_rss_mb": float("nan")}
        rows.append(("relais connector receive", cli, case["baseline-cli"]))
        bases.append(case["baseline-cli"])
    floor = case["floor"]
    rows.append(("store floor (integration's rows)", floor, case["baseline-floor"]))
    bases.append(case["baseline-floor"])
    checks = case["checks"]
    rows.append(("reading + checks (no writes)", checks, case["baseline-checks"]))
    bases.append(case["baseline-checks"])
    # The least each figure above could be, its rules kept (econnector_checks.py): one reading
    # and its checks, and the store floor once per step that writes.
    around = _mean(case["baseline-checks"], case["baseline-floor"])
    rows.append(("least receive (checks + floor)", _sum(checks, floor), around))
    rows.append(("least pair (checks + 2 × floor)", _sum(checks, floor, floor), around))
    lines = bases[0]["lines"]
    mean = _mean(*bases)
    seconds = ", ".join(f"{base['seconds']:.2f}" for base in bases)
    print(f"-- {title}")
    peak = max(base["max_rss_mb"] for base in bases)
    _row("baseline (csv.reader + executemany)", lines, {**mean, "max_rss_mb": peak}, mean)
    print(f"   (the baseline before each step: {seconds} s)")
    for label, step, base in rows:
        _row(label, lines, step, base)
    print(
        f"   documents {integration['documents']}: integrated {integration['integrated']},"
        f" not integrated {integration['refused']}, already {integration['already']},"
        f" homonyms {integration['homonyms']} in the report's detail (analysis: {analysis['integrated']} to integrate,"
        f" {analysis['refused']} not, {analysis['already']} already)"
    )
    print(
        f"   store floor: {floor['rows']:,} rows in {floor['transactions']} transactions;"
        f" integration / store floor {integration['seconds'] / floor['seconds']:.2f}×"
        f" (cpu {integration['cpu'] / floor['cpu']:.2f}×): the rest is the program's own work;"
        f" reading + checks went through {checks['documents']} documents"
    )
    print(
        f"   write lock held at most {analysis['lock_max_ms']:.0f} ms by the analysis"
        f" ({analysis['lock_count']} transactions, {analysis['lock_over']} over"
        f" {LOCK_GOAL * 1000:.0f} ms, median {analysis['lock_median_ms']:.0f} ms),"
        f" {integration['lock_max_ms']:.0f} ms by the integration ({integration['lock_count']},"
        f" {integration['lock_over']} over, median {integration['lock_median_ms']:.0f} ms)"
    )


def _row(label: str, lines: int, step: dict[str, Any], base: dict[str, Any]) -> None:
    # CPU seconds too: on a machine other programs load, wall seconds say more of them than of us
    rate = lines / step["seconds"]
    print(
        f"{label:<36} {lines:>8} {step['seconds']:>7.2f} {rate:>9.0f}"
        f" {step['seconds'] / base['seconds']:>10.2f}× {step['max_rss_mb']:>8.1f}"
        f" {step['cpu']:>7.2f} {step['cpu'] / base['cpu']:>6.2f}×"
    )


def print_send(work: Path, articles: int, customers: int) -> None:
    data, inbox, outbox = work / "data", work / "in", work / "out"
    for folder in (inbox, outbox):
        folder.mkdir(parents=True)
    catalogue = write_catalogue(work, articles, customers)
    setup_shop(data, inbox, outbox, catalogue)
    sent = run("send", data, work)
    baseline = run("baseline-send", data, work)
    rate, base = sent["rows"] / sent["seconds"], baseline["rows"] / baseline["seconds"]
    print(
        f"{'send baseline (SELECT + csv.writer)':<34} {baseline['rows']:>8} {baseline['seconds']:>7.2f} {base:>9.0f} {1:>10.2f}× {baseline['max_rss_mb']:>8.1f}"
    )
    print(
        f"{'send (articles + customers)':<34} {sent['rows']:>8} {sent['seconds']:>7.2f} {rate:>9.0f} {base / rate:>10.2f}× {sent['max_rss_mb']:>8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=30_000)
    parser.add_argument("--lines-per-document", type=int, default=10)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--cases", default="full,quarter,again,send")
    parser.add_argument("--child", dest="step")
    parser.add_argument("--data")
    parser.add_argument("--work")
    parser.add_argument("--file")
    parser.add_argument("--transactions", type=int, default=1)
    args = parser.parse_args()
    if args.step:
        child(args)
        return
    root = Path(tempfile.mkdtemp(prefix="relais-bench-econnector-"))
    cases = set(args.cases.split(","))
    try:
        documents, per_document = args.documents, args.lines_per_document
        printed = [
            (title, reception(root, name, size, per_document, half_first=name == "again"))
            for name, title, size in (
                ("full", "mixed file (refusals, homonyms, 7 VAT codes, 1-40 lines)", documents),
                ("quarter", "the same, 1/4 size (memory)", max(documents // 4, 1)),
                ("again", "the same file again, its first half integrated before", documents),
            )
            if name in cases
        ]
        print(
            f"{'step':<36} {'lines':>8} {'s':>7} {'lines/s':>9} {'× baseline':>11} {'peak MB':>8}"
            f" {'cpu s':>7} {'cpu ×':>7}"
        )
        for title, case in printed:
            print_case(title, case)
        if "send" in cases:
            print_send(root / "send", args.articles, args.customers)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
