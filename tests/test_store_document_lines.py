"""Document lines keep pointing at real articles without an index on their article (migration
0029): the foreign key is still checked when an article is deleted, by a scan."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.test_econnector import drop
from tests.test_econnector_batch import CHOICES, mixed_lines, open_shop
from webapp.econnector.receive import receive


def test_an_article_on_a_document_line_cannot_be_deleted(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        drop(inbox, "mixed.csv", mixed_lines())
        receive(services.store, connector, choices=CHOICES)
        with services.store.read() as db:
            indexes = [row[0] for row in db.execute("PRAGMA index_list(document_lines)")]
            used = db.execute("SELECT min(article_id) FROM document_lines").fetchone()[0]
            lines = db.execute("SELECT count(*) FROM document_lines").fetchone()[0]
            unused = db.execute(
                "SELECT id FROM articles WHERE id NOT IN"
                " (SELECT article_id FROM document_lines WHERE article_id IS NOT NULL)"
                " ORDER BY id LIMIT 1"
            ).fetchone()[0]
        assert "document_lines_article" not in indexes
        assert used is not None and lines > 0
        with pytest.raises(sqlite3.IntegrityError), services.store.write() as db:
            db.execute("DELETE FROM articles WHERE id = ?", [used])
        with services.store.write() as db:
            db.execute("DELETE FROM articles WHERE id = ?", [unused])
        with services.store.read() as db:
            assert db.execute("SELECT count(*) FROM document_lines").fetchone()[0] == lines
            kept = db.execute("SELECT count(*) FROM articles WHERE id IN (?, ?)", [used, unused])
            assert kept.fetchone()[0] == 1, "the used article is kept, the unused one is gone"
    finally:
        services.close()
