"""Back-office list latency with 200,000 articles and 100,000 customers, over real HTTP.

    .venv/bin/python benchmarks/backoffice_ui.py [--articles N] [--customers N] [--requests N]
                                                  [--concurrency N]

Seeds a temporary data folder with plain SQL through the store (the FTS triggers fill the search
indexes as they would for an import), starts `python -m webapp serve` as a child process, then
measures list pages (first, sorted, filtered, searched, deep) and detail pages beside a static
file as the baseline, with the same measuring code as benchmarks/ui.py. Prints a table; asserts
nothing.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ui import ALONE, P95_GOAL_MS, WARMUP, Server, measure, print_table

from webapp.config import resolve_data_dir
from webapp.store import Store

NOW = "2024-06-01T08:00:00.000000Z"


def words(text: str) -> list[str]:
    return text.split()


PRODUCTS = words(
    "Chocolat Café Thé Biscuit Confiture Miel Farine Sucre Sel Poivre Huile Vinaigre Moutarde"
    " Pâtes Riz Lentilles Pois Haricots Tomate Sauce Soupe Jus Eau Limonade Bière Vin Cidre"
    " Savon Shampooing Bougie Carnet Stylo Crayon Gomme Cahier Classeur Ampoule Pile Câble"
)
QUALITIES = words("bio noir blanc lait extra fin doux fort nature vanille citron framboise fraise")
SIZES = words("100g 250g 500g 1kg 33cl 50cl 75cl 1L 1,5L lot-de-2 lot-de-6 x10 x24")
LAST_NAMES = words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre"
    " Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont"
    " Lambert Bonnet François Martinez Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens"
    " Wouters Dubois Lambert Dupuis Renard Lemaire Leclercq Hermans Desmet Declercq"
)
FIRST_NAMES = words(
    "Marie Jean Pierre Sophie Luc Anne Paul Julie Marc Claire Louis Emma Hugo Léa Lucas Chloé"
    " Nathalie Philippe Isabelle Thomas Camille Nicolas Sarah Antoine Laura Julien Manon"
)
CITIES = [
    ("4000", "Liège", "BE"), ("1000", "Bruxelles", "BE"), ("5000", "Namur", "BE"),
    ("7000", "Mons", "BE"), ("6000", "Charleroi", "BE"), ("9000", "Gand", "BE"),
    ("2000", "Anvers", "BE"), ("59000", "Lille", "FR"), ("75011", "Paris", "FR"),
    ("69003", "Lyon", "FR"), ("13001", "Marseille", "FR"), ("67000", "Strasbourg", "FR"),
    ("1204", "Genève", "CH"), ("1234", "Luxembourg", "LU"),
]  # fmt: skip


def seed(store: Store, articles: int, customers: int, documents: int, rng: random.Random) -> None:
    with store.write() as db:
        families = [
            int(
                db.execute(
                    "INSERT INTO article_families (code, label) VALUES (?, ?)",
                    [f"F{n:02d}", f"{PRODUCTS[n % len(PRODUCTS)]} et assimilés {n}"],
                ).lastrowid
                or 0
            )
            for n in range(40)
        ]
        units = [row[0] for row in db.execute("SELECT id FROM units")]
        vats = [row[0] for row in db.execute("SELECT id FROM vat_rates")]
        article_rows: list[tuple[Any, ...]] = []
        price_rows: list[tuple[Any, ...]] = []
        stock_rows: list[tuple[Any, ...]] = []
        for number in range(1, articles + 1):
            label = (
                f"{rng.choice(PRODUCTS)} {rng.choice(QUALITIES)} {rng.choice(SIZES)} {number % 997}"
            )
            article_rows.append(
                (number, f"A{number:06d}", label, rng.choice(families), rng.choice(units),
                 rng.choice(vats), f"{rng.randrange(10**12, 10**13)}", rng.random() < 0.9,
                 rng.choice(["", "promo", "bio local", "saison"]), rng.random() < 0.95, NOW, NOW)
            )  # fmt: skip
            price_rows.append((number, 1, round(rng.uniform(0.2, 80), 4)))
            stock_rows.append((number, 1, rng.randrange(0, 500)))
        db.conn.executemany(
            "INSERT INTO articles (id, code, label, family_id, unit_id, vat_rate_id, barcode,"
            " export, tags, active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            article_rows,
        )
        db.conn.executemany("INSERT INTO article_prices VALUES (?, ?, ?)", price_rows)
        db.conn.executemany("INSERT INTO stock VALUES (?, ?, ?)", stock_rows)

        party_rows: list[tuple[Any, ...]] = []
        for number in range(1, customers + 1):
            postcode, city, country = rng.choice(CITIES)
            company = f"{rng.choice(LAST_NAMES)} {rng.choice(['SA', 'SPRL', 'SARL', 'SRL'])}"
            party_rows.append(
                (number, "customer", f"C{number:06d}", rng.choice(LAST_NAMES),
                 rng.choice(FIRST_NAMES), company if rng.random() < 0.3 else "",
                 f"client{number}@example.org", postcode, city, country, NOW, NOW)
            )  # fmt: skip
        db.conn.executemany(
            "INSERT INTO parties (id, kind, code, last_name, first_name, company, email,"
            " postcode, city, country, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            party_rows,
        )
        document_rows = [
            (number, 1, "order" if number % 3 else "delivery", f"D{number:07d}",
             f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}", 1 + number % (customers // 10),
             10.0, 2.1, 12.1, NOW)
            for number in range(1, documents + 1)
        ]  # fmt: skip
        db.conn.executemany(
            "INSERT INTO documents (id, company_id, kind, number, doc_date, party_id,"
            " total_excl_vat, total_vat, total_incl_vat, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            document_rows,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per target")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel clients")
    args = parser.parse_args()
    if min(args.articles, args.customers, args.documents) < 1000 or args.requests < 20:
        parser.error("--articles/--customers/--documents >= 1000, --requests >= 20")

    temp = Path(tempfile.mkdtemp(prefix="relais-bench-bo-"))
    server: Server | None = None
    try:
        data_dir = resolve_data_dir(temp / "data")
        store = Store(data_dir.database)
        began = time.perf_counter()
        seed(store, args.articles, args.customers, args.documents, random.Random(20240601))
        store.close()
        size = data_dir.database.stat().st_size / 2**20
        print(
            f"seeded {args.articles:,} articles, {args.customers:,} customers and"
            f" {args.documents:,} documents in {time.perf_counter() - began:.1f} s"
            f" (database {size:.0f} MiB)"
        )
        server = Server(data_dir.path)
        deep_articles = args.articles // 50 // 2
        targets = [
            ("static file", "/static/app.css"),
            ("articles page 1", "/articles"),
            ("articles by code desc", "/articles?sort=-code"),
            (f"articles page {deep_articles}", f"/articles?page={deep_articles}"),
            ("articles family", "/articles?family=7"),
            ("articles inactive", "/articles?active=0"),
            ("articles search word", "/articles?q=chocolat+noir"),
            ("articles search 1 letter", "/articles?q=c"),
            ("articles search code", f"/articles?q=A{args.articles // 3:06d}"),
            ("article detail", f"/articles/{args.articles // 2}"),
            ("customers page 1", "/customers"),
            ("customers search", "/customers?q=dupont+marie"),
            ("customers search common", "/customers?q=ma"),
            ("customers city", "/customers?city=Namur&sort=code"),
            ("customers page 500", "/customers?page=500"),
            ("customer detail", f"/customers/{args.customers // 2}"),
            ("documents page 1", "/documents"),
            ("documents by customer", "/documents?customer=C000042"),
        ]
        print(
            f"{args.requests} requests per target, {args.concurrency} parallel clients, "
            f"after {WARMUP} warm-up requests\n"
        )
        results = [
            measure(server.url, name, path, args.requests, args.concurrency)
            for name, path in targets
        ]
        alone = {name: measure(server.url, name, path, ALONE, 1, 3) for name, path in targets}
        print_table(results, results[0], alone)
        print(f"(1 client ms: median of {ALONE} sequential requests on one kept-alive connection)")
        print()
        for result in results[1:]:
            holds = "yes" if result.p95 < P95_GOAL_MS else "NO"
            print(f"{result.name}: p95 {result.p95:.1f} ms < {P95_GOAL_MS:.0f} ms? {holds}")
        return 0
    finally:
        if server:
            server.stop()
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
