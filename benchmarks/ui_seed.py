"""The history of a busy shop for benchmarks/ui.py: runs over DAYS days and their items, written
straight through the store (one transaction, executemany)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from webapp.store import Store

DAYS = 60
ITEMS_PER_RUN = 100  # ~2,000 runs for 200,000 items

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
