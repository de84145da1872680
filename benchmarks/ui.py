"""UI latency with a big history and while long jobs run: the real server, real HTTP on 127.0.0.1.

    .venv/bin/python benchmarks/ui.py [--items N] [--requests N] [--concurrency N]
                                      [--lines N] [--articles N] [--skip-pages] [--skip-jobs]

Seeds a temporary data folder straight through the store (one transaction, executemany), starts
`python -m webapp serve` as a child process, then measures:
- pages: the dashboard, history pages (filtered; first; page 200 reached by keyset, as its "next"
  links reach it; an old `?page=200` link) with a static file as the baseline; each history
  page twice: as a visit asks it (the whole page) and as the pager's htmx link asks it (a page
  turn: the results alone);
- writes: a settings save (POST with its CSRF token) and a page read, one after the other, first
  with nothing running (the baseline), then while the server receives an e-connecteur file of
  --lines lines (analysis, then integration, started from the connector's reception page), then
  while `relais backoffice import articles` imports --articles articles in a child process;
- the connector's history, first and deep page, once the reception has written its items.
Prints tables with the ratio to the baseline of the same run; asserts nothing.

The parts: ui_seed.py (the history), ui_server.py (the server, a CSRF session), ui_history.py
(page latency), ui_saves.py (writes while jobs run).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from ui_history import Target, keyset_link, measure_pages  # noqa: E402
from ui_saves import measure_jobs, prepare_jobs  # noqa: E402
from ui_seed import DAYS, seed  # noqa: E402
from ui_server import Server  # noqa: E402

from webapp.config import DataDir, resolve_data_dir  # noqa: E402
from webapp.history_queries import ItemFilter  # noqa: E402
from webapp.store import Store  # noqa: E402

DEEP_PAGE = 200
STATIC = Target("static file", "/static/app.css")


def visit_and_turn(name: str, path: str) -> list[Target]:
    """A history page as a visit asks it, then as the pager's htmx link asks it."""
    return [Target(name, path), Target(f"{name} (htmx turn)", path, turn=True)]


def history_targets(store: Store) -> list[Target]:
    month_ago = date.today() - timedelta(days=30)
    errors = ItemFilter(job_name="scrada_pull", status="error", date_from=month_ago)
    filtered = f"/history?job=scrada_pull&status=error&date_from={month_ago.isoformat()}"
    deep = keyset_link(store, "/history", ItemFilter(), DEEP_PAGE)
    return [
        STATIC,
        Target("dashboard", "/"),
        *visit_and_turn("history filtered, first", filtered),
        *visit_and_turn("history filtered, deep", keyset_link(store, filtered, errors, 10)),
        *visit_and_turn("history, first", "/history"),
        *visit_and_turn("history, deep", deep),
        Target(f"history ?page={DEEP_PAGE} (old link)", f"/history?page={DEEP_PAGE}"),
    ]


def connector_targets(data_dir: DataDir) -> list[Target]:
    store = Store(data_dir.database)
    received = ItemFilter(
        subject="WEB",
        status="received",
        date_from=date.today() - timedelta(days=61),
        date_to=date.today(),
    )
    deep = keyset_link(store, "/connectors/WEB/history?tab=reception", received, 100)
    store.close()
    return [
        STATIC,
        *visit_and_turn("connector history, first", "/connectors/WEB/history"),
        *visit_and_turn("connector history, deep", deep),
    ]


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
        targets = history_targets(store)
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
            measure_pages(server.url, targets, args, server.cpu_seconds)
        if articles_file is not None:
            measure_jobs(server, data_dir.path, articles_file, args.lines, args.articles)
            if not args.skip_pages:
                measure_pages(server.url, connector_targets(data_dir), args, server.cpu_seconds)
    finally:
        if server is not None:
            code = server.stop()
            print(f"server stopped with SIGTERM (exit code {code})")
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
