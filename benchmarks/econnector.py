"""E-connecteur: a 300,000-line documents file (30,000 documents) received end to end, and a send
of 200,000 articles and 100,000 customers.

    .venv/bin/python benchmarks/econnector.py [--documents N] [--lines-per-document N]
                                               [--articles N] [--customers N]

Each step runs in a fresh child process (its peak memory is its max RSS):
- baseline: `csv.reader` + `executemany` of the same lines into a bare table (same pragmas);
- analysis (a dry run, rolled back) and integration of the documents file;
- the same reception with a file a quarter of the size, for the memory;
- send: articles and customers files written from the back office;
- baseline of the send: `csv.writer` of the same rows read by one bare SELECT.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
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

HEADER = [
    "doc_ref",
    "doc_date",
    "customer_ref",
    "last_name",
    "first_name",
    "company",
    "email",
    "address",
    "postcode",
    "city",
    "country",
    "line_no",
    "article_ref",
    "variant_ref",
    "label",
    "quantity",
    "unit",
    "unit_price_incl_vat",
    "vat_code",
    "payment_method",
    "total_incl_vat",
]
ARTICLES_IN_SHOP = 2000


def write_documents(path: Path, documents: int, per_document: int) -> None:
    rng = random.Random(3)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for number in range(documents):
            customer = rng.randrange(max(documents // 6, 1))
            lines = []
            total = 0
            for line_no in range(1, per_document + 1):
                quantity = rng.randint(1, 3)
                price_cents = rng.randint(100, 5000)
                total += quantity * price_cents
                lines.append((line_no, rng.randrange(ARTICLES_IN_SHOP), quantity, price_cents))
            for line_no, article, quantity, price_cents in lines:
                writer.writerow(
                    [
                        f"WEB{number:07d}",
                        "23/01/2026",
                        f"CUST{customer:06d}",
                        f"Nom{customer}",
                        "Jean",
                        "",
                        f"client{customer}@example.fr",
                        "1 rue",
                        "59000",
                        "Lille",
                        "FR",
                        line_no,
                        f"P-{article:05d}",
                        "",
                        "Article",
                        quantity,
                        "U",
                        f"{price_cents / 100:.2f}".replace(".", ","),
                        "20",
                        "CARD",
                        f"{total / 100:.2f}".replace(".", ","),
                    ]
                )
    past = time.time() - 60
    os.utime(path, (past, past))


def write_catalogue(folder: Path, articles: int, customers: int) -> tuple[Path, Path]:
    article_file, customer_file = folder / "articles.csv", folder / "customers.csv"
    with article_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["code", "label", "unit", "vat_rate", "price_excl_vat", "stock"])
        for number in range(articles):
            writer.writerow([f"A{number:06d}", f"Article {number}", "U", "20", "12,5", "4"])
    with customer_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "code",
                "last_name",
                "first_name",
                "company",
                "email",
                "phone",
                "address",
                "postcode",
                "city",
                "country",
                "vat_number",
            ]
        )
        for number in range(customers):
            writer.writerow(
                [
                    f"C{number:06d}",
                    f"Nom{number}",
                    "Anne",
                    "",
                    f"c{number}@example.fr",
                    "",
                    "1 rue",
                    "59000",
                    "Lille",
                    "FR",
                    "",
                ]
            )
    return article_file, customer_file


# -- child steps -------------------------------------------------------------------------------


def _services(data: Path) -> Any:
    from webapp.config import resolve_data_dir
    from webapp.services import open_services

    return open_services(resolve_data_dir(data), vault_backend="file")


def setup_shop(data: Path, inbox: Path, outbox: Path, catalogue: tuple[Path, Path] | None) -> None:
    from webapp.backoffice.importer import import_csv
    from webapp.econnector import connectors

    services = _services(data)
    try:
        if catalogue:
            for kind, path in zip(("articles", "customers"), catalogue, strict=True):
                import_csv(services.store, kind, path, record_history=False)
        else:
            source = data.parent / "shop-articles.csv"
            write_catalogue(data.parent, ARTICLES_IN_SHOP, 0)
            (data.parent / "articles.csv").rename(source)
            import_csv(services.store, "articles", source, record_history=False)
        connector = connectors.save(
            services.store,
            connectors.Connector(
                code="WEB", partner="Shop", import_dir=str(inbox), export_dir=str(outbox)
            ),
        )
        with services.store.write() as db:
            db.execute(
                "INSERT INTO connector_articles (connector_id, external_code, variant_code, article_id)"
                " SELECT ?, 'P-' || printf('%05d', CAST(substr(code, 2) AS INTEGER)), '', id FROM articles"
                " WHERE CAST(substr(code, 2) AS INTEGER) < ?",
                [connector.id, ARTICLES_IN_SHOP],
            )
    finally:
        services.close()


def step_receive(data: Path, analyse: bool) -> dict[str, Any]:
    from webapp.econnector import connectors
    from webapp.econnector.receive import receive

    services = _services(data)
    try:
        connector = connectors.get(services.store, "WEB")
        started = time.perf_counter()
        report = receive(services.store, connector, analyse_only=analyse, settle=0)
        seconds = time.perf_counter() - started
    finally:
        services.close()
    counts = report.as_dict()
    return {
        "seconds": seconds,
        "documents": report.total,
        "integrated": counts["integrated"] + counts["will_integrate"],
        "refused": counts["not_integrated"],
    }


def step_send(data: Path) -> dict[str, Any]:
    from webapp.econnector import connectors
    from webapp.econnector.send import send

    services = _services(data)
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
    conn = sqlite3.connect(work / "baseline.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    started = time.perf_counter()
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
    return {"seconds": time.perf_counter() - started, "lines": rows}


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
    elif step == "send":
        result = step_send(data)
    elif step == "baseline-receive":
        result = step_baseline_receive(Path(args.file), work)
    else:
        result = step_baseline_send(data, work)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(step: str, data: Path, work: Path, file: Path | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", step, "--data", str(data), "--work", str(work)]
    if file:
        command += ["--file", str(file)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def reception(
    root: Path, name: str, documents: int, per_document: int
) -> dict[str, dict[str, Any]]:
    work = root / name
    data, inbox, outbox = work / "data", work / "in", work / "out"
    for folder in (inbox, outbox):
        folder.mkdir(parents=True)
    setup_shop(data, inbox, outbox, None)
    path = inbox / "orders.csv"
    write_documents(path, documents, per_document)
    baseline = run("baseline-receive", data, work, path)
    analysis = run("analyse", data, work)
    integration = run("receive", data, work)
    return {"baseline": baseline, "analysis": analysis, "integration": integration}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=30_000)
    parser.add_argument("--lines-per-document", type=int, default=10)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--child", dest="step")
    parser.add_argument("--data")
    parser.add_argument("--work")
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.step:
        child(args)
        return
    root = Path(tempfile.mkdtemp(prefix="relais-bench-econnector-"))
    try:
        full = reception(root, "full", args.documents, args.lines_per_document)
        quarter = reception(root, "quarter", max(args.documents // 4, 1), args.lines_per_document)
        lines = full["baseline"]["lines"]
        base_rate = lines / full["baseline"]["seconds"]
        print(
            f"{'step':<34} {'lines':>8} {'s':>7} {'lines/s':>9} {'× baseline':>11} {'peak MB':>8}"
        )
        both = full["analysis"]["seconds"] + full["integration"]["seconds"]
        rows = [
            (
                "baseline (csv.reader + executemany)",
                lines,
                full["baseline"]["seconds"],
                full["baseline"]["max_rss_mb"],
            ),
            (
                "analysis (dry run)",
                lines,
                full["analysis"]["seconds"],
                full["analysis"]["max_rss_mb"],
            ),
            (
                "integration",
                lines,
                full["integration"]["seconds"],
                full["integration"]["max_rss_mb"],
            ),
            (
                "analysis + integration",
                lines,
                both,
                max(full["analysis"]["max_rss_mb"], full["integration"]["max_rss_mb"]),
            ),
            (
                "integration, 1/4 size file",
                quarter["baseline"]["lines"],
                quarter["integration"]["seconds"],
                quarter["integration"]["max_rss_mb"],
            ),
        ]
        for label, count, seconds, memory in rows:
            rate = count / seconds
            print(
                f"{label:<34} {count:>8} {seconds:>7.2f} {rate:>9.0f} {base_rate / rate:>10.2f}× {memory:>8.1f}"
            )
        print(
            f"documents: {full['integration']['documents']} read,"
            f" {full['integration']['integrated']} integrated, {full['integration']['refused']} refused"
        )
        work = root / "send"
        data, inbox, outbox = work / "data", work / "in", work / "out"
        for folder in (inbox, outbox):
            folder.mkdir(parents=True)
        catalogue = write_catalogue(work, args.articles, args.customers)
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
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
