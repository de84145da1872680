"""Page latency for benchmarks/ui.py: each target asked by N parallel clients, then by one.

A target is a whole page as a visit asks it, or a page turn as the pager's htmx link asks it
(HX-Request, aimed at #history-results: the server answers with the results alone)."""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from webapp import history_queries
from webapp.history_queries import ItemFilter
from webapp.store import Store

WARMUP = 20
TARGET_BUDGET_S = 15.0  # per target: a pathological page cannot make the script run for ever
P95_GOAL_MS = 50.0
ALONE = 50  # sequential requests per target for the one-client column
NAGLE_SUSPECT_MS = 30.0
PAGE_HEADERS = {"accept": "text/html", "accept-encoding": "identity"}
TURN_HEADERS = {**PAGE_HEADERS, "HX-Request": "true", "HX-Target": "history-results"}


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    turn: bool = False  # asked as the pager's hx-get asks it, not as a visit

    @property
    def headers(self) -> dict[str, str]:
        return TURN_HEADERS if self.turn else PAGE_HEADERS


@dataclass
class Result:
    name: str
    path: str
    latencies_ms: list[float]
    wall_s: float
    failures: int
    sample_bytes: int
    server_cpu_s: float | None = None  # the server's CPU time over the measured requests

    @property
    def server_ms(self) -> str:
        if self.server_cpu_s is None or not self.latencies_ms:
            return "n/a"
        return f"{self.server_cpu_s / len(self.latencies_ms) * 1000:.1f}"

    @property
    def median(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[94]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_s


CpuClock = Callable[[], float | None]


def measure(
    base: str,
    target: Target,
    requests: int,
    concurrency: int,
    warmup: int = WARMUP,
    server_cpu: CpuClock | None = None,
) -> Result:
    latencies: list[float] = []
    failures = 0
    sizes: list[int] = []
    issued = 0
    lock = threading.Lock()
    deadline = time.monotonic() + TARGET_BUDGET_S
    path, headers = target.path, target.headers

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
    began, cpu_began = time.perf_counter(), server_cpu() if server_cpu else None
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu_ended = server_cpu() if server_cpu else None
    cpu = cpu_ended - cpu_began if cpu_began is not None and cpu_ended is not None else None
    return Result(target.name, path, latencies, wall, failures, sizes[0] if sizes else 0, cpu)


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
        "1 client p95",
        "server ms",
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
            f"{alone[r.name].p95:.1f}",
            alone[r.name].server_ms,
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


def measure_pages(
    base: str, targets: list[Target], args: argparse.Namespace, server_cpu: CpuClock | None = None
) -> None:
    print(
        f"{args.requests} requests per target, {args.concurrency} parallel clients, "
        f"after {WARMUP} warm-up requests (at most {TARGET_BUDGET_S:.0f} s per target)\n"
    )
    results = [measure(base, target, args.requests, args.concurrency) for target in targets]
    # One client, one request at a time: the service time, without queueing.
    alone = {target.name: measure(base, target, ALONE, 1, 3, server_cpu) for target in targets}
    print_table(results, results[0], alone)
    print(
        f"(1 client: {ALONE} sequential requests on one kept-alive connection; server ms: the"
        " server's CPU time per request meanwhile; a page turn is the pager's htmx request,"
        " answered with the results alone)\n"
    )
    by_name = {result.name: result for result in results}
    for result in results:
        if "history" in result.name:
            holds = "yes" if result.p95 <= P95_GOAL_MS else "NO"
            print(f"p95 <= {P95_GOAL_MS:.0f} ms ({result.name}): {holds} ({result.p95:.1f} ms)")
    for result in results:
        first = by_name.get(result.name.replace(", deep", ", first"))
        if ", deep" in result.name and first:
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
