"""benchmarks/econnector.py's data: a web shop's documents file (mixed documents, refusals,
homonyms, several VAT codes), its catalogue, and the shop set up with a connector WEB whose
articles and named VAT codes have correspondences. benchmarks/ui.py uses the same shop."""

from __future__ import annotations

import csv
import os
import random
import sys
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


def shop_services(data: Path) -> Any:
    from webapp.config import resolve_data_dir
    from webapp.services import open_services

    return open_services(resolve_data_dir(data), vault_backend="file")


def setup_shop(data: Path, inbox: Path, outbox: Path, catalogue: tuple[Path, Path] | None) -> None:
    from webapp.backoffice.importer import import_csv
    from webapp.econnector import connectors

    services = shop_services(data)
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
