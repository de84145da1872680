"""The full-text indexes of articles and parties without their column sizes (migration 0030):
a database migrated to it finds what it found before, and its triggers keep the index exact."""

from __future__ import annotations

from pathlib import Path

from tests.test_backoffice_import_bulk import fts_codes as found
from tests.test_backoffice_import_bulk import fts_is_exact as exact
from webapp.store import Store

ARTICLE = (
    "INSERT INTO articles (code, label, unit_id, vat_rate_id, tags, created_at, updated_at)"
    " SELECT ?, ?, (SELECT min(id) FROM units), (SELECT min(id) FROM vat_rates), 'bio', 'now', 'now'"
)
PARTY = (
    "INSERT INTO parties (kind, code, last_name, city, email, created_at, updated_at)"
    " VALUES ('customer', ?, ?, 'Beaune', ?, 'now', 'now')"
)


def test_a_database_migrated_finds_what_it_found_before(tmp_path: Path) -> None:
    path = tmp_path / "relais.sqlite"
    old = Store(path, migrate=False)
    old.migrate(target=29)
    with old.write() as db:
        db.conn.executemany(
            ARTICLE, [("A1", "Crémant de Bourgogne"), ("A2", "Miel de châtaignier")]
        )
        db.conn.executemany(PARTY, [("C1", "Durand", "durand@example.fr"), ("C2", "Dupont", "")])
    before = [found(old, "articles_fts", "cre*"), found(old, "parties_fts", "du*")]
    old.close()

    store = Store(path)
    try:
        assert [found(store, "articles_fts", "cre*"), found(store, "parties_fts", "du*")] == before
        assert before == [{"A1"}, {"C1", "C2"}]
        assert found(store, "articles_fts", "chataignier") == {"A2"}  # diacritics still removed
        assert found(store, "parties_fts", "beaune") == {"C1", "C2"}
        with store.read() as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            merge = db.execute("SELECT v FROM articles_fts_config WHERE k = 'automerge'")
            assert merge.fetchone()[0] == 8
        assert not {"articles_fts_docsize", "parties_fts_docsize"} & tables
        for table in ("articles_fts", "parties_fts"):
            exact(store, table)
    finally:
        store.close()


def test_the_triggers_keep_the_index_exact(tmp_path: Path) -> None:
    store = Store(tmp_path / "relais.sqlite")
    try:
        with store.write() as db:
            db.conn.executemany(ARTICLE, [("A1", "Vin rouge"), ("A2", "Vin blanc")])
            db.conn.executemany(PARTY, [("C1", "Martin", "m@example.fr")])
        with store.write() as db:
            db.execute("UPDATE articles SET label = 'Miel doré' WHERE code = 'A1'")
            db.execute("DELETE FROM articles WHERE code = 'A2'")
            db.execute("UPDATE parties SET last_name = 'Bernard' WHERE code = 'C1'")
        assert found(store, "articles_fts", "vin") == set()
        assert found(store, "articles_fts", "mi*") == {"A1"}
        assert found(store, "parties_fts", "bernard") == {"C1"}
        assert found(store, "parties_fts", "martin") == set()
        for table in ("articles_fts", "parties_fts"):
            exact(store, table)
    finally:
        store.close()
