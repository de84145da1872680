"""The bulk import writes its chunks with the per-row FTS and change-log triggers off (migration
0018, webapp/backoffice/handler_changes.py) and fills the FTS index and the change log itself.
These tests hold it to what the triggers give: the same rows, written one by one with the
triggers on into a second store, must leave the same FTS answers and the same changed keys. And
the triggers are off for the import's own chunk transaction only: the UI between two chunks, a
dry run, a chunk that fails leave them on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_backoffice_import_bulk import changed_since, current_seq, fts_codes, fts_is_exact
from webapp.backoffice import import_apply
from webapp.backoffice.columns import KINDS
from webapp.backoffice.import_stage import staging_connection
from webapp.backoffice.importer import ImportReport, ImportStopped, _check, import_csv
from webapp.csvio import CsvReader
from webapp.services import Services
from webapp.store import Store

ARTICLES = "code;label;unit;vat_rate;price_excl_vat;price_pro;family;barcode;tags;stock\n"
ARTICLE_COLUMNS = ["code", "label", "unit_id", "vat_rate_id", "family_id", "barcode", "tags"]
ARTICLE_COLUMNS += ["created_at", "updated_at"]
PARTY_COLUMNS = ["kind", "code", "last_name", "first_name", "company", "email", "city"]
PARTY_COLUMNS += ["created_at", "updated_at"]
ARTICLE_QUERIES = ["rouge", "miel", "bio", "promo", "A001*", "376*", "doré", "blanc"]
PARTY_QUERIES = ["beaune", "dijon", "martin*", "dupont", "claire", "C0001*", "example"]


def article_line(n: int, label: str, price: str, pro: str, tags: str) -> str:
    family = "ROUGES" if n % 2 else "BLANCS"
    barcode = f"376{n:08d}" if n % 3 else ""  # 11 digits: no check digit
    return f"A{n:04d};{label};BT;20;{price};{pro};{family};{barcode};{tags};{n % 5}\n"


def first_articles(count: int) -> str:
    return ARTICLES + "".join(
        article_line(n, f"Vin rouge {n}", f"{n % 40 + 1},50", f"{n % 30 + 1}", "bio")
        for n in range(count)
    )


def changed_articles(count: int) -> str:
    """Labels, prices (one emptied), tags and barcodes changed on some rows; the rest the same;
    a few new articles at the end."""
    lines = [ARTICLES]
    for n in range(count + 20):
        label, price, pro, tags = f"Vin rouge {n}", f"{n % 40 + 1},50", f"{n % 30 + 1}", "bio"
        if n < 30:
            label = f"Miel doré {n}"
        elif n < 60:
            price = "99,99"
        elif n < 80:
            pro = ""
        elif n < 100:
            tags = "promo blanc"
        lines.append(article_line(n, label, price, pro, tags))
    return "".join(lines)


def store_with_pro_prices(path: Path) -> Store:
    store = Store(path)
    with store.write() as db:
        db.execute("INSERT INTO price_categories (code, label) VALUES ('PRO', 'Pro')")
    return store


def mirror_articles(source: Store, target: Store) -> None:
    """The source's articles and prices written into `target` one row at a time, only where a
    value differs (as the import does), with the per-row triggers on."""
    names = ", ".join(ARTICLE_COLUMNS)
    with source.read() as db:
        families = db.execute("SELECT id, code, label FROM article_families").fetchall()
        articles = db.execute(f"SELECT {names} FROM articles").fetchall()
        prices = db.execute(
            "SELECT a.code, c.id, p.price_excl_vat FROM articles a"
            " CROSS JOIN price_categories c LEFT JOIN article_prices p"
            " ON p.article_id = a.id AND p.price_category_id = c.id"
        ).fetchall()
    updated = [name for name in ARTICLE_COLUMNS[1:] if name != "created_at"]
    sets = ", ".join(f"{name} = excluded.{name}" for name in updated)
    differs = " OR ".join(f"articles.{name} IS NOT excluded.{name}" for name in updated[:-1])
    with target.write() as db:
        db.conn.executemany(
            "INSERT INTO article_families (id, code, label) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [tuple(row) for row in families],
        )
        for row in articles:
            db.execute(
                f"INSERT INTO articles ({names}) VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))})"
                f" ON CONFLICT (code) DO UPDATE SET {sets} WHERE {differs}",
                tuple(row),
            )
        for code, category, price in prices:
            if price is None:
                db.execute(
                    "DELETE FROM article_prices WHERE price_category_id = ? AND article_id ="
                    " (SELECT id FROM articles WHERE code = ?)",
                    (category, code),
                )
                continue
            db.execute(
                "INSERT INTO article_prices SELECT id, ?, ? FROM articles WHERE code = ?"
                " ON CONFLICT DO UPDATE SET price_excl_vat = excluded.price_excl_vat"
                " WHERE price_excl_vat IS NOT excluded.price_excl_vat",
                (category, price, code),
            )


def mirror_parties(source: Store, target: Store) -> None:
    names = ", ".join(PARTY_COLUMNS)
    with source.read() as db:
        parties = db.execute(f"SELECT {names} FROM parties").fetchall()
    updated = [name for name in PARTY_COLUMNS[2:] if name != "created_at"]
    sets = ", ".join(f"{name} = excluded.{name}" for name in updated)
    differs = " OR ".join(f"parties.{name} IS NOT excluded.{name}" for name in updated[:-1])
    with target.write() as db:
        for row in parties:
            db.execute(
                f"INSERT INTO parties ({names}) VALUES ({', '.join('?' * len(PARTY_COLUMNS))})"
                f" ON CONFLICT (kind, code) DO UPDATE SET {sets} WHERE {differs}",
                tuple(row),
            )


def same_as_triggers(
    imported: Store, reference: Store, entity: str, since: tuple[int, int]
) -> list[str]:
    """The FTS answers and the keys logged since `since` match; the keys logged."""
    fts, queries = (
        ("articles_fts", ARTICLE_QUERIES)
        if entity == "articles"
        else ("parties_fts", PARTY_QUERIES)
    )
    for store in (imported, reference):
        fts_is_exact(store, fts)
    for query in queries:
        assert fts_codes(imported, fts, query) == fts_codes(reference, fts, query), query
    keys = changed_since(imported, entity, since[0])
    assert keys == changed_since(reference, entity, since[1])
    return keys


def test_articles_index_and_log_as_the_triggers_do(tmp_path: Path) -> None:
    imported = store_with_pro_prices(tmp_path / "imported.sqlite")
    reference = store_with_pro_prices(tmp_path / "reference.sqlite")
    path = tmp_path / "a.csv"
    for text, expected in [
        (first_articles(2400), 2400),  # all new: two chunks at least
        (changed_articles(2400), 120),  # 100 changed, 20 new
        (changed_articles(2400), 0),  # the same file again: nothing changes, nothing is logged
    ]:
        path.write_text(text, encoding="utf-8")
        since = (current_seq(imported), current_seq(reference))
        report = import_csv(imported, "articles", path)
        assert report.committed and not report.errors_total
        mirror_articles(imported, reference)
        keys = same_as_triggers(imported, reference, "articles", since)
        assert len(keys) == expected
    with imported.read() as db:
        logged = db.execute("SELECT count(*), count(DISTINCT key) FROM change_log").fetchone()
        assert db.execute("SELECT count(*) FROM bulk_writes").fetchone()[0] == 0
    assert tuple(logged) == (2400 + 120, 2420), "one row per article changed, not one per price"
    assert fts_codes(imported, "articles_fts", "miel") == {f"A{n:04d}" for n in range(30)}
    imported.close()
    reference.close()


def test_parties_index_and_log_as_the_triggers_do(tmp_path: Path) -> None:
    imported = Store(tmp_path / "imported.sqlite")
    reference = Store(tmp_path / "reference.sqlite")
    path = tmp_path / "c.csv"
    header = "code;last_name;first_name;company;email;phone;address;postcode;city;country;"
    header += "vat_number\n"

    def parties(renamed: int) -> str:
        return header + "".join(
            f"C{n:04d};{'Dupont' if n < renamed else 'Martin'}{n};Claire;;c{n}@example.fr;;"
            f"{n} rue;21000;{'Dijon' if n % 2 else 'Beaune'};FR;\n"
            for n in range(1500)
        )

    for kind in ("customers", "suppliers"):
        for text, expected in [(parties(0), 1500), (parties(40), 40), (parties(40), 0)]:
            path.write_text(text, encoding="utf-8")
            since = (current_seq(imported), current_seq(reference))
            assert import_csv(imported, kind, path).committed
            mirror_parties(imported, reference)
            keys = same_as_triggers(imported, reference, "customers", since)
            assert len(keys) == (expected if kind == "customers" else 0), "suppliers: no log"
    imported.close()
    reference.close()


def test_the_ui_between_chunks_still_fires_the_triggers(services: Services, tmp_path: Path) -> None:
    store = services.store
    path = tmp_path / "a.csv"
    path.write_text(first_articles(3000), encoding="utf-8")
    kind = KINDS["articles"]
    report = ImportReport("articles", str(path))
    seen: list[tuple[int, list[str], set[str]]] = []

    def ui_saves(result: import_apply.ApplyResult) -> None:
        code = f"UI{result.chunks}"
        start = current_seq(store)
        with store.write() as db:  # as the article form does: a row, then its price
            db.execute(
                "INSERT INTO articles (code, label, unit_id, vat_rate_id, created_at, updated_at)"
                " VALUES (?, 'Coffret cadeau', 1, 5, 'now', 'now')",
                [code],
            )
            db.execute(
                "INSERT INTO article_prices SELECT id, 1, 12.5 FROM articles WHERE code = ?",
                [code],
            )
            active = db.execute("SELECT count(*) FROM bulk_writes").fetchone()[0]
        seen.append((active, changed_since(store, "articles", start), set()))
        seen[-1][2].update(fts_codes(store, "articles_fts", "coffret"))

    with (
        CsvReader(path, decimal_columns=kind.decimal_columns) as reader,
        staging_connection(store) as staging,
    ):
        handler = _check(staging, kind, reader, report, None)
        result = import_apply.apply_staged(store, handler, after_chunk=ui_saves)
    assert result.chunks >= 2
    for number, (active, logged, found) in enumerate(seen, start=1):
        assert active == 0
        assert logged == [f"UI{number}"]
        assert f"UI{number}" in found
    fts_is_exact(store, "articles_fts")


def test_a_dry_run_or_a_stopped_chunk_leaves_the_triggers_on(
    services: Services, tmp_path: Path
) -> None:
    store = services.store
    path = tmp_path / "a.csv"
    path.write_text(first_articles(1500), encoding="utf-8")
    start = current_seq(store)
    dry = import_csv(store, "articles", path, dry_run=True)
    assert dry.created == 1500 and not dry.committed
    assert current_seq(store) == start and not fts_codes(store, "articles_fts", "rouge")

    def remove_the_unit(rows: int) -> None:
        with store.write() as db:  # the unit goes while the file is checked
            db.execute("DELETE FROM units WHERE code = 'BT'")

    with pytest.raises(ImportStopped):
        import_csv(store, "articles", path, progress=remove_the_unit)
    with store.write() as db:
        assert db.execute("SELECT count(*) FROM bulk_writes").fetchone()[0] == 0
        db.execute(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, created_at, updated_at)"
            " VALUES ('X1', 'Miel', (SELECT min(id) FROM units), 5, 'now', 'now')"
        )
    assert changed_since(store, "articles", start) == ["X1"]
    assert fts_codes(store, "articles_fts", "miel") == {"X1"}
