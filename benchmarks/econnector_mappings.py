"""Correspondences in bulk (issue 14): import (analysis and real import) and export of 5,000 and
50,000 article correspondences, against a baseline of the same run.

    .venv/bin/python benchmarks/econnector_mappings.py [--sizes 5000,50000] [--repeat 3]

Baselines, in a bare database with the same pragmas (WAL, synchronous FULL):
- import: `csv.reader` of the same file + `executemany` into a bare table, committed;
- export: one bare SELECT of those rows + `csv.writer` to a file.
"lock held" is how long the import holds the write lock (its one transaction).
Each figure is the best of `--repeat` runs. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def setup(root: Path, count: int) -> tuple[Any, Any, Path]:
    """A data folder with `count` articles and a connector; the correspondence file to import."""
    from webapp.config import resolve_data_dir
    from webapp.econnector import connectors
    from webapp.services import open_services

    services = open_services(resolve_data_dir(root / f"data-{count}"), vault_backend="file")
    with services.store.write() as db:
        unit = db.execute("SELECT id FROM units ORDER BY id LIMIT 1").fetchone()[0]
        vat = db.execute("SELECT id FROM vat_rates ORDER BY id LIMIT 1").fetchone()[0]
        db.conn.executemany(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [(f"A{n:07d}", f"Article {n}", unit, vat) for n in range(count)],
        )
    folder = root / f"shop-{count}"
    folder.mkdir()
    connector = connectors.save(
        services.store,
        connectors.Connector(
            code="SHOP", partner="Prestashop", import_dir=str(folder), export_dir=str(folder)
        ),
    )
    path = root / f"map-{count}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(["kind", "external", "variant", "internal", "label"])
        for n in range(count):
            variant = "75CL" if n % 3 == 0 else ""
            writer.writerow(["article", f"PS-{n:07d}", variant, f"A{n:07d}", f"Article {n}"])
    return services, connector, path


def _bare(root: Path) -> sqlite3.Connection:
    path = root / "bare.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE mappings (kind TEXT, external TEXT, variant TEXT, internal TEXT, label TEXT)"
    )
    return conn


def baseline_import(root: Path, path: Path) -> int:
    conn = _bare(root)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle, delimiter=";")
        next(rows)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO mappings VALUES (?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    count = int(conn.execute("SELECT count(*) FROM mappings").fetchone()[0])
    conn.close()
    return count


def baseline_export(root: Path, target: Path) -> int:
    conn = sqlite3.connect(root / "bare.sqlite")
    written = 0
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(["kind", "external", "variant", "internal", "label"])
        for row in conn.execute("SELECT * FROM mappings ORDER BY external, variant"):
            writer.writerow(row)
            written += 1
    conn.close()
    return written


def best(repeat: int, step: Callable[[], Any], before: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(root: Path, count: int, repeat: int) -> list[tuple[str, float]]:
    from webapp.econnector.mapping_files import export_mapping_file
    from webapp.econnector.mapping_import import import_mapping_file

    services, connector, path = setup(root, count)

    def clear() -> None:
        with services.store.write() as db:
            db.execute("DELETE FROM connector_articles")

    locks: list[float] = []
    write = services.store.write

    @contextlib.contextmanager
    def timed_write() -> Iterator[Any]:
        """The store's write, timed: how long the import holds the write lock."""
        start = time.perf_counter()
        with write() as db:
            yield db
        locks.append(time.perf_counter() - start)

    def real_import() -> None:
        services.store.write = timed_write
        try:
            report = import_mapping_file(services.store, connector, path)
        finally:
            services.store.write = write
        assert report.committed and report.imported == count, report.as_dict()

    try:
        results = [("baseline import", best(repeat, lambda: baseline_import(root, path)))]
        results.append(
            (
                "analysis",
                best(
                    repeat,
                    lambda: import_mapping_file(services.store, connector, path, dry_run=True),
                ),
            )
        )
        results.append(("import", best(repeat, real_import, clear)))
        results.append(("  lock held", min(locks)))
        results.append(
            ("baseline export", best(repeat, lambda: baseline_export(root, root / "bare.csv")))
        )
        results.append(
            (
                "export",
                best(
                    repeat, lambda: export_mapping_file(services.store, connector, root / "out.csv")
                ),
            )
        )
    finally:
        services.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="relais-bench-mappings-"))
    try:
        print(f"{'rows':>7} {'step':<16} {'s':>7} {'rows/s':>9} {'× baseline':>11}")
        for size in (int(value) for value in args.sizes.split(",")):
            results = measure(root, size, args.repeat)
            base = {"import": results[0][1], "export": results[4][1]}
            for label, seconds in results:
                ratio = seconds / base["export" if "export" in label else "import"]
                print(
                    f"{size:>7} {label:<16} {seconds:>7.3f} {size / seconds:>9.0f} {ratio:>10.2f}×"
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
