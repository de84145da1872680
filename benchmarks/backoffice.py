"""Back-office CSV import and export: 200,000 articles and 100,000 customers, against a baseline.

    .venv/bin/python benchmarks/backoffice.py [--articles N] [--customers N]

For each kind it writes a CSV file (French habits: `;`, decimal comma, UTF-8 with BOM) with the
mixtures of real files: homonyms (labels and names given to several codes), references spelled
several ways (`VINS`, `vins`, `Vins`; `BT`, `bt`; `FR`, `France`), labels of 2 to 120
characters, optional columns left empty; then times
in a fresh child process each:
- baseline: `csv.reader` + `executemany` of the same rows into a bare SQLite table (same pragmas);
- schema floor: the same rows, typed but unchecked, staged into the real tables the import fills
  (articles, their family, prices and stock; parties with every column), with their indexes,
  FTS5 and change-log triggers, by executemany: what the store costs on its own;
- the same without the full-text index and the change log (their triggers off): the tables and
  their own indexes, what any import of these rows pays before its full-text rows;
- import: `relais`' importer into a fresh data folder (validation, reference lookups, upsert, FTS),
  with the longest time it held the one writer at once ("lock ms": the UI waits at most that);
- re-import of the same file (every row an update, nothing changed), then of the file with 1 %
  of its rows changed (label, price or stock): only those are written;
- import of the file with 1 % of its rows refused (a bad price, an unknown unit) with skip_bad,
  into a fresh data folder: the other 99 % go in, each refusal reported with its line;
- export: the exporter writing the rows back to CSV.
Then the cost of the bulk_writes guard (migration 0018) for the other writers: a per-row writer
(one INSERT per article and per price, as the UI or a register push) on a store at version 17
and at 18, alternated, as the median ratio of nine rounds.
Beside the wall-clock ratios, `cpu×fl` is the step's CPU seconds per row over the floor's: steadier
when other processes share the machine (it leaves out waits for the disk).
Peak memory (max RSS of the child) is measured at full size and at a quarter of it: a streamed
import has the same peak for both. Prints a table with each step's ratio to the baseline and
to the schema floor of the same run; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FAMILIES = ["VINS", "BLANCS", "CREMANTS", "MIEL", "EPICERIE", "COFFRETS", "SERVICES"]
UNITS = ["BT", "U", "KG", "L"]
RATES = ["20", "5,5", "10"]
CITIES = [("21200", "Beaune"), ("21000", "Dijon"), ("75011", "Paris"), ("69002", "Lyon")]
COUNTRIES = ["FR", "FR", "fr", "France", "BE", "Belgique"]
COUNTRY_CODES = {"FR": "FR", "fr": "FR", "France": "FR", "BE": "BE", "Belgique": "BE"}
LONG_LABEL = " — cuvée des Ducs, élevé 12 mois en fût de chêne, à servir à 16 °C avec une viande"
LONG_LABEL += " rouge ou un fromage affiné"


def write_articles(path: Path, count: int, variant: str = "") -> None:
    """`variant`: "changed" alters 1 % of the rows, "refused" makes 1 % of them bad."""
    rng = random.Random(1)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["code", "libellé", "unit", "vat_rate", "prix_ht", "family", "tags", "stock"]
        )
        label = ""
        for number in range(count):
            price = f"{rng.randint(100, 99999) / 100:.2f}".replace(".", ",")
            family = rng.choice(FAMILIES)
            family = rng.choice([family, family, family.lower(), family.title()])
            unit = rng.choice(UNITS)
            unit = rng.choice([unit, unit, unit.lower()])
            if number % 7 or not label:  # else a homonym: the label of the article before
                label = f"Article {number} {rng.choice(['rouge', 'blanc', 'miel', 'coffret'])}"
                label += rng.choice(["", "", " 75 cl", LONG_LABEL[: rng.randint(10, 100)]])
            stock = str(rng.randint(0, 500))
            tags = rng.choice(["bio", "promo bio", ""])
            if number % 100 == 50 and variant == "changed":
                label, price, stock = label + " (nouveau)", "1,00", "7"
            if number % 100 == 50 and variant == "refused":
                price, unit = ("12,3,4", unit) if number % 200 == 50 else (price, "XX")
            writer.writerow(
                [f"ART{number:07d}", label, unit, rng.choice(RATES), price, family, tags, stock]
            )


def write_customers(path: Path, count: int, variant: str = "") -> None:
    """`variant`: "changed" alters 1 % of the rows, "refused" makes 1 % of them bad."""
    rng = random.Random(2)
    header = ["code", "last_name", "first_name", "company", "email", "phone", "address"]
    header += ["postcode", "city", "country", "vat_number"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for number in range(count):
            postcode, city = rng.choice(CITIES)
            email = f"client{number}@example.fr"
            last_name = f"Nom{number % 5000}"  # homonyms: 5,000 names for every code
            company = rng.choice(["", "", "", f"Cave {last_name}"])
            address = f"{number % 200} rue des Vignes"
            if number % 100 == 50 and variant == "changed":
                address = f"{number % 200} place du Marché"
            if number % 100 == 50 and variant == "refused":
                email = f"client{number}.example.fr"
            writer.writerow(
                [
                    f"C{number:07d}",
                    last_name,
                    rng.choice(["Claire", "Louis", "Anne", "Marc", "Élodie"]),
                    company,
                    email,
                    rng.choice(["03 80 22 00 00", ""]),
                    address,
                    postcode,
                    city,
                    rng.choice(COUNTRIES),
                    "",
                ]
            )


# -- measured steps, each run in a child process ------------------------------------------------


def step_baseline(path: Path, work: Path) -> dict[str, Any]:
    conn = sqlite3.connect(work / "baseline.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    started, cpu = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        columns = ", ".join(f"c{index} TEXT" for index in range(len(header)))
        conn.execute(f"CREATE TABLE rows ({columns})")
        sql = f"INSERT INTO rows VALUES ({', '.join('?' for _ in header)})"
        conn.execute("BEGIN")
        rows = 0
        batch = []
        for row in reader:
            batch.append(row)
            if len(batch) == 1000:
                conn.executemany(sql, batch)
                rows += len(batch)
                batch = []
        conn.executemany(sql, batch)
        rows += len(batch)
        conn.execute("COMMIT")
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def step_floor(path: Path, work: Path, kind: str, indexed: bool = True) -> dict[str, Any]:
    """The same rows, typed but unchecked, into the real schema in one pass: every table the
    import fills (articles with their family, prices and stock; parties with every column), with
    their indexes, FTS5 and change-log triggers. What the store alone costs, whatever the
    importer does in Python. Not `indexed`: the full-text and change-log triggers kept off (the
    row of bulk_writes the import sets, migration 0018), so neither is written: the tables and
    their own indexes alone, the part of the floor no importer can leave out."""
    from webapp.clock import now_iso
    from webapp.store import Store

    store = Store(work / "floor.sqlite")
    conn = store._writer
    units = {code: ident for ident, code in conn.execute("SELECT id, code FROM units")}
    rates = {"20": 5, "5,5": 7, "10": 6}  # FR20, FR5.5, FR10
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO article_families (code, label) VALUES (?, ?)", [(f, f) for f in FAMILIES]
    )
    families = {
        code: ident for ident, code in conn.execute("SELECT id, code FROM article_families")
    }
    conn.execute("COMMIT")
    now = now_iso()  # the import's timestamps: rows as long as the import's
    started, cpu = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        conn.execute("BEGIN")
        if kind == "articles":
            conn.execute(
                "CREATE TEMP TABLE stage (code TEXT COLLATE NOCASE, label, unit_id, vat_rate_id,"
                " family_id, tags, price, stock)"
            )
            insert = "INSERT INTO stage VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            moves = [
                "INSERT INTO articles (code, label, unit_id, vat_rate_id, family_id, tags,"
                " created_at, updated_at) SELECT code, label, unit_id, vat_rate_id, family_id,"
                " tags, :now, :now FROM stage WHERE true ON CONFLICT (code) DO NOTHING",
                "INSERT INTO article_prices SELECT a.id, 1, s.price FROM temp.stage s"
                " JOIN articles a ON a.code = s.code WHERE true ON CONFLICT DO NOTHING",
                "INSERT INTO stock SELECT a.id, 1, s.stock FROM temp.stage s"
                " JOIN articles a ON a.code = s.code WHERE true ON CONFLICT DO NOTHING",
            ]

            def convert(row: list[str]) -> tuple[Any, ...]:
                price = float(row[4].replace(",", "."))
                family = families[row[5].upper()]
                return (
                    row[0],
                    row[1],
                    units[row[2].upper()],
                    rates[row[3]],
                    family,
                    row[6],
                    price,
                    float(row[7]),
                )
        else:
            names = "code, last_name, first_name, company, email, phone, address, postcode, city"
            names += ", country, vat_number"
            conn.execute(f"CREATE TEMP TABLE stage ({names})")
            insert = f"INSERT INTO stage VALUES ({', '.join('?' * 11)})"
            moves = [
                f"INSERT INTO parties (kind, {names}, created_at, updated_at)"
                f" SELECT 'customer', {names}, :now, :now FROM stage WHERE true ON CONFLICT DO NOTHING"
            ]

            def convert(row: list[str]) -> tuple[Any, ...]:
                return (*row[:9], COUNTRY_CODES[row[9]], row[10])

        rows = 0
        if not indexed:
            conn.execute("INSERT INTO bulk_writes (active) VALUES (1)")
        while batch := [convert(row) for _, row in zip(range(1000), reader, strict=False)]:
            conn.executemany(insert, batch)
            for move in moves:
                conn.execute(move, {"now": now})
            conn.execute("DELETE FROM stage")
            rows += len(batch)
        if not indexed:
            conn.execute("DELETE FROM bulk_writes")
        conn.execute("COMMIT")
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def step_import(path: Path, work: Path, kind: str, skip_bad: bool = False) -> dict[str, Any]:
    from webapp.backoffice.importer import import_csv
    from webapp.store import Store

    store = Store(work / "relais.sqlite")
    started, cpu = time.perf_counter(), time.process_time()
    report = import_csv(store, kind, path, record_history=False, skip_bad=skip_bad)
    seconds = time.perf_counter() - started
    assert report.committed and (skip_bad or not report.errors_total), report.as_dict()
    return {
        "rows": report.rows,
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "created": report.created,
        "refused": report.errors_total,
        "lock_ms": report.longest_write * 1000,
    }


def step_export(path: Path, work: Path, kind: str) -> dict[str, Any]:
    from webapp.backoffice.exporter import export_csv
    from webapp.store import Store

    store = Store(work / "relais.sqlite")
    started, cpu = time.perf_counter(), time.process_time()
    report = export_csv(store, kind, work / f"export-{kind}.csv")
    seconds = time.perf_counter() - started
    return {"rows": report.rows, "seconds": seconds, "cpu": time.process_time() - cpu}


def per_row_writes(work: Path, version: int, count: int = 5000) -> float:
    """Seconds for `count` articles and their prices inserted one statement at a time."""
    from webapp.store import Store

    store = Store(work / f"per-row-{version}.sqlite", migrate=False)
    store.migrate(target=version)
    conn = store._writer
    started = time.perf_counter()
    conn.execute("BEGIN")
    for number in range(count):
        conn.execute(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, tags, created_at,"
            " updated_at) VALUES (?, ?, 1, 5, 'bio', 'now', 'now')",
            (f"A{number:07d}", f"Article {number} rouge"),
        )
        conn.execute("INSERT INTO article_prices VALUES (last_insert_rowid(), 1, 9.5)")
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    store.close()
    (work / f"per-row-{version}.sqlite").unlink()
    return seconds


def guard_cost(root: Path) -> None:
    ratios = []
    for round_number in range(9):
        versions = (17, 18) if round_number % 2 else (18, 17)
        seconds = {version: per_row_writes(root, version) for version in versions}
        ratios.append(seconds[18] / seconds[17])
    ratios.sort()
    print(
        f"per-row writer with the bulk_writes guard: {ratios[4]:.3f}× without"
        f" (median of 9; range {ratios[0]:.2f}–{ratios[-1]:.2f})"
    )


def child(args: argparse.Namespace) -> None:
    path, work = Path(args.file), Path(args.work)
    if args.step == "baseline":
        result = step_baseline(path, work)
    elif args.step in ("import", "import-skip-bad"):
        result = step_import(path, work, args.kind, skip_bad=args.step == "import-skip-bad")
    elif args.step in ("floor", "floor-tables"):
        result = step_floor(path, work, args.kind, indexed=args.step == "floor")
    else:
        result = step_export(path, work, args.kind)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_step(step: str, kind: str, path: Path, work: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", step, "--kind", kind]
    command += ["--file", str(path), "--work", str(work)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def measure(kind: str, count: int, root: Path) -> list[tuple[str, dict[str, Any]]]:
    writer = write_articles if kind == "articles" else write_customers
    path, changed, refused = (root / f"{kind}{name}.csv" for name in ("", "-changed", "-refused"))
    writer(path, count)
    writer(changed, count, "changed")
    writer(refused, count, "refused")
    results: list[tuple[str, dict[str, Any]]] = []
    relais = root / f"{kind}-relais"
    steps = [("baseline", "baseline", path, root / f"{kind}-baseline")]
    steps += [("schema floor", "floor", path, root / f"{kind}-floor")]
    steps += [("floor, no FTS/log", "floor-tables", path, root / f"{kind}-floor-tables")]
    steps += [("import", "import", path, relais), ("re-import", "import", path, relais)]
    steps += [("re-import, 1% chg", "import", changed, relais)]
    steps += [("1% refused, skip", "import-skip-bad", refused, root / f"{kind}-refused")]
    for label, step, source, work in steps:
        work.mkdir(exist_ok=True)
        results.append((label, run_step(step, kind, source, work)))
    results.append(("export", run_step("export", kind, path, relais)))
    small = root / f"{kind}-quarter.csv"
    writer(small, count // 4)
    quarter_work = root / f"{kind}-quarter"
    quarter_work.mkdir()
    results.append(("import, 1/4 size", run_step("import", kind, small, quarter_work)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--child", dest="step")
    parser.add_argument("--kind")
    parser.add_argument("--file")
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.step:
        child(args)
        return
    root = Path(tempfile.mkdtemp(prefix="relais-bench-backoffice-"))
    try:
        print(
            f"{'kind':<10} {'step':<17} {'rows':>8} {'s':>7} {'rows/s':>9} {'× baseline':>11}"
            f" {'× floor':>8} {'cpu×fl':>7} {'peak MB':>8} {'lock ms':>8} {'created':>8} {'refused':>8}"
        )
        for kind, count in (("articles", args.articles), ("customers", args.customers)):
            results = measure(kind, count, root)
            base_rate = results[0][1]["rows"] / results[0][1]["seconds"]
            floor_rate = results[1][1]["rows"] / results[1][1]["seconds"]
            floor_cpu = results[1][1]["cpu"] / results[1][1]["rows"]
            for label, result in results:
                rate = result["rows"] / result["seconds"]
                lock = f"{result['lock_ms']:>8.0f}" if "lock_ms" in result else f"{'':>8}"
                if "created" in result:
                    lock += f" {result['created']:>8} {result['refused']:>8}"
                print(
                    f"{kind:<10} {label:<17} {result['rows']:>8} {result['seconds']:>7.2f}"
                    f" {rate:>9.0f} {base_rate / rate:>10.2f}× {floor_rate / rate:>7.2f}×"
                    f" {result['cpu'] / result['rows'] / floor_cpu:>6.2f}×"
                    f" {result['max_rss_mb']:>8.1f} {lock}"
                )
        guard_cost(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
