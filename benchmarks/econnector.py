"""E-connecteur: a 300,000-line documents file (30,000 documents) received end to end, and a send
of 200,000 articles and 100,000 customers.

The documents file mixes what web shops send: documents of 1 to 40 lines, customers met again and
again, homonyms of the shop's customers (same e-mail, or same names and postcode), seven VAT codes
(two through correspondences), and refusals (unmapped articles, an unknown VAT code, totals that do
not match the lines). Three cases are printed: that file, a quarter of it (memory), and the same file
received again after its first half was integrated (the "already" path).

    .venv/bin/python benchmarks/econnector.py [--documents N] [--lines-per-document N]
                                               [--articles N] [--customers N]

Each step runs in a fresh child process (its peak memory is its max RSS):
- baseline: `csv.reader` + `executemany` of the same lines into a bare table (same pragmas);
- analysis (a dry run, rolled back), a `relais connector receive` (process start included, on a
  copy) and the integration of the documents file;
- send: articles and customers files written from the back office;
- baseline of the send: `csv.writer` of the same rows read by one bare SELECT.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
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


# VAT codes as a web shop sends them: rates, with correspondences for the named ones.
VAT_CODES = ("20", "20", "20", "10", "5,5", "21", "6", "TVA20", "TVA10")
CORRESPONDENCES = {"TVA20": "FR20", "TVA10": "FR10"}
SHOP_CUSTOMERS = 1000  # customers already in the back office (homonyms are met among them)


def _size(rng: random.Random) -> int:
    """1 to 40 lines, 10 on average: mostly small documents, a few large ones."""
    return rng.randint(1, 15) if rng.random() < 0.9 else rng.randint(16, 40)


def write_documents(path: Path, documents: int, per_document: int, first: int = 0) -> None:
    """Documents `first`…`first + documents - 1` (the same ones for the same numbers): repeated
    customers, homonyms of the shop's customers, several VAT codes, documents of 1 to 40 lines
    (`per_document` on average), and refusals: unmapped articles, unknown VAT codes, totals that
    do not match the lines."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for number in range(first, first + documents):
            rng = random.Random(number)
            writer.writerows(_document(rng, number, documents, per_document))
    past = time.time() - 60
    os.utime(path, (past, past))


def _document(
    rng: random.Random, number: int, documents: int, per_document: int
) -> list[list[Any]]:
    customer = rng.randrange(max(documents // 6, 1))
    email, last, first = f"client{customer}@example.fr", f"Nom{customer}", "Jean"
    if customer % 30 == 0:  # the same person as a customer of the shop: homonyms
        email = f"c{customer % SHOP_CUSTOMERS}@example.fr"
    elif customer % 30 == 1:
        last, first = f"Nom{customer % SHOP_CUSTOMERS}", "Anne"
    size = max(1, round(_size(rng) * per_document / 10))
    problem = rng.random()
    lines, total = [], 0.0
    for line_no in range(1, size + 1):
        quantity, price_cents = rng.randint(1, 3), rng.randint(100, 5000)
        total += quantity * price_cents
        article = f"P-{rng.randrange(ARTICLES_IN_SHOP):05d}"
        vat = rng.choice(VAT_CODES)
        if problem < 0.004 and line_no == size:
            article = f"P-X{number % 50:03d}"  # no correspondence
        elif 0.004 <= problem < 0.006 and line_no == size:
            vat = "TVA99"  # unknown VAT code
        lines.append((line_no, article, quantity, price_cents, vat))
    if 0.006 <= problem < 0.011:
        total += 5  # the total does not match the lines
    total_text = f"{total / 100:.2f}".replace(".", ",")
    return [
        [
            f"WEB{number:07d}",
            "23/01/2026",
            f"CUST{customer:06d}",
            last,
            first,
            "",
            email,
            "1 rue",
            "59000",
            "Lille",
            "FR",
            line_no,
            article,
            "",
            "Article",
            quantity,
            "U" if line_no % 2 else "",
            f"{price_cents / 100:.2f}".replace(".", ","),
            vat,
            "CARD",
            total_text,
        ]
        for line_no, article, quantity, price_cents, vat in lines
    ]


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
            articles, customers = write_catalogue(data.parent, ARTICLES_IN_SHOP, SHOP_CUSTOMERS)
            import_csv(services.store, "articles", articles, record_history=False)
            import_csv(services.store, "customers", customers, record_history=False)
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
            db.conn.executemany(
                "INSERT INTO connector_codes (connector_id, kind, external, internal)"
                " VALUES (?, 'vat', ?, ?)",
                [(connector.id, code, internal) for code, internal in CORRESPONDENCES.items()],
            )
    finally:
        services.close()


def step_receive(data: Path, analyse: bool) -> dict[str, Any]:
    from webapp.econnector import connectors
    from webapp.econnector.receive import receive

    services = _services(data)
    holds = _watch_write_lock(services.store)
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
        "already": counts["already"],
        "homonyms": sum(1 for r in report.documents if r.customer_status == "homonym"),
        "lock_max_ms": max(holds, default=0) * 1000,
        "lock_count": len(holds),
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
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "connector", "receive", "WEB", "--json"], capture_output=True, cwd=REPO
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: some documents were not integrated
        raise RuntimeError(done.stderr.decode())
    shutil.rmtree(copy, ignore_errors=True)
    return {"seconds": seconds}


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
    baseline = run("baseline-receive", data, work, path)
    analysis = run("analyse", data, work)
    cli = cli_receive(data, work) if not half_first else {}
    integration = run("receive", data, work)
    return {"baseline": baseline, "analysis": analysis, "cli": cli, "integration": integration}


def print_case(title: str, case: dict[str, dict[str, Any]]) -> None:
    """The case's figures, each with its ratio to the case's baseline (same run, same file)."""
    lines = case["baseline"]["lines"]
    base_rate = lines / case["baseline"]["seconds"]
    analysis, integration = case["analysis"], case["integration"]
    rows = [
        ("baseline (csv.reader + executemany)", case["baseline"]),
        ("analysis (dry run)", analysis),
        ("integration", integration),
        (
            "analysis + integration",
            {
                "seconds": analysis["seconds"] + integration["seconds"],
                "max_rss_mb": max(analysis["max_rss_mb"], integration["max_rss_mb"]),
            },
        ),
    ]
    if case["cli"]:
        rows.append(("relais connector receive", {**case["cli"], "max_rss_mb": float("nan")}))
    print(f"-- {title}")
    for label, step in rows:
        rate = lines / step["seconds"]
        print(
            f"{label:<36} {lines:>8} {step['seconds']:>7.2f} {rate:>9.0f}"
            f" {base_rate / rate:>10.2f}× {step['max_rss_mb']:>8.1f}"
        )
    print(
        f"   documents {integration['documents']}: integrated {integration['integrated']},"
        f" not integrated {integration['refused']}, already {integration['already']},"
        f" homonyms {integration['homonyms']} in the report's detail (analysis: {analysis['integrated']} to integrate,"
        f" {analysis['refused']} not, {analysis['already']} already)"
    )
    print(
        f"   write lock held at most {analysis['lock_max_ms']:.0f} ms by the analysis"
        f" ({analysis['lock_count']} transactions), {integration['lock_max_ms']:.0f} ms by the"
        f" integration ({integration['lock_count']})"
    )


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
        documents, per_document = args.documents, args.lines_per_document
        full = reception(root, "full", documents, per_document)
        quarter = reception(root, "quarter", max(documents // 4, 1), per_document)
        again = reception(root, "again", documents, per_document, half_first=True)
        print(
            f"{'step':<36} {'lines':>8} {'s':>7} {'lines/s':>9} {'× baseline':>11} {'peak MB':>8}"
        )
        print_case("mixed file (refusals, homonyms, 7 VAT codes, 1-40 lines)", full)
        print_case("the same, 1/4 size (memory)", quarter)
        print_case("the same file again, its first half integrated before", again)
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
