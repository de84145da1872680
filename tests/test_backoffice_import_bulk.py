"""The bulk import (issue 14): articles and parties checked off the write lock, then written in
short chunks. The full-text index and the change log the registers' packages read stay exact; the
UI can write while a file is checked and between chunks; an import cut short between two chunks
is finished by importing the same file again."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, relais_env
from webapp import history
from webapp.backoffice import handlers, import_apply
from webapp.backoffice.columns import KINDS
from webapp.backoffice.import_stage import staging_connection
from webapp.backoffice.importer import ImportReport, ImportStopped, _check, import_csv
from webapp.csvio import CsvReader
from webapp.i18n import language
from webapp.pos.package_rows import changed_keys
from webapp.pos.packages import last_seq
from webapp.services import Services
from webapp.store import Store

HEADER = "code;label;unit;vat_rate;price_excl_vat;family;tags;stock\n"


def articles_file(path: Path, count: int, *, label: str = "Vin", changed: int = -1) -> Path:
    lines = [HEADER]
    for number in range(count):
        name = f"{label} rouge {number}" if number != changed else f"Miel doré {number}"
        family = "ROUGES" if number % 2 else "Blancs"
        lines.append(f"A{number:05d};{name};BT;20;{number % 90 + 1},50;{family};bio;{number % 7}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def fts_codes(store: Store, table: str, query: str) -> set[str]:
    content = table.removesuffix("_fts")
    with store.read() as db:
        found = db.execute(
            f"SELECT c.code FROM {table} JOIN {content} c ON c.id = {table}.rowid"
            f" WHERE {table} MATCH ?",
            [query],
        ).fetchall()
    return {row[0] for row in found}


def fts_is_exact(store: Store, table: str) -> None:
    """FTS5's own check against its content table: raises if one row's entry is off."""
    with store.write() as db:
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")


def changed_since(store: Store, entity: str, seq: int) -> list[str]:
    with store.read() as db:
        return sorted(changed_keys(db, entity, seq, last_seq(db)))


def current_seq(store: Store) -> int:
    with store.read() as db:
        return last_seq(db)


def test_fts_and_change_log_after_import_and_reimport(services: Services, tmp_path: Path) -> None:
    store = services.store
    path = articles_file(tmp_path / "a.csv", 2500)
    start = current_seq(store)
    report = import_csv(store, "articles", path)
    assert report.committed and (report.created, report.updated) == (2500, 0)
    assert sorted(report.created_references) == [
        "article_families:Blancs",
        "article_families:ROUGES",
    ]
    fts_is_exact(store, "articles_fts")
    assert len(fts_codes(store, "articles_fts", "rouge")) == 2500
    assert changed_since(store, "articles", start) == [f"A{n:05d}" for n in range(2500)]

    again = current_seq(store)
    report = import_csv(store, "articles", path)
    assert (report.created, report.updated) == (0, 2500)
    assert changed_since(store, "articles", again) == [], "an unchanged file changes nothing"

    again = current_seq(store)
    articles_file(tmp_path / "b.csv", 2500, changed=1234)
    text = (
        (tmp_path / "b.csv")
        .read_text(encoding="utf-8")
        .replace("A00007;Vin rouge 7;BT;20;8,50", "A00007;Vin rouge 7;BT;20;9,75")
    )
    (tmp_path / "b.csv").write_text(text, encoding="utf-8")
    import_csv(store, "articles", tmp_path / "b.csv")
    fts_is_exact(store, "articles_fts")
    assert fts_codes(store, "articles_fts", "miel") == {"A01234"}
    assert "A01234" not in fts_codes(store, "articles_fts", "rouge")
    assert changed_since(store, "articles", again) == ["A00007", "A01234"], "label and price"
    with store.read() as db:
        price = db.execute(
            "SELECT p.price_excl_vat FROM article_prices p JOIN articles a ON a.id = p.article_id"
            " WHERE a.code = 'A00007'"
        ).fetchone()[0]
        families = db.execute("SELECT count(*) FROM article_families").fetchone()[0]
    assert price == 9.75 and families == 2


def test_customers_fts_and_change_log(services: Services, tmp_path: Path) -> None:
    store = services.store
    header = "code;last_name;first_name;company;email;phone;address;postcode;city;country;"
    lines = [header + "vat_number;family\n"]
    lines += [
        f"C{n:05d};Martin{n};Claire;;c{n}@example.fr;;{n} rue;21200;Beaune;FR;;"
        + ("VIP" if n % 3 else "vip")
        + "\n"
        for n in range(1500)
    ]
    path = tmp_path / "c.csv"
    path.write_text("".join(lines), encoding="utf-8")
    start = current_seq(store)
    report = import_csv(store, "customers", path)
    assert report.committed and report.created == 1500
    assert report.created_references == ["party_families:vip"], "one family, whatever its case"
    fts_is_exact(store, "parties_fts")
    assert len(fts_codes(store, "parties_fts", "beaune")) == 1500
    assert len(changed_since(store, "customers", start)) == 1500
    again = current_seq(store)
    path.write_text("".join(lines).replace("Martin7;", "Dupont7;"), encoding="utf-8")
    assert import_csv(store, "customers", path).updated == 1500
    fts_is_exact(store, "parties_fts")
    assert fts_codes(store, "parties_fts", "dupont7") == {"C00007"}
    assert changed_since(store, "customers", again) == ["C00007"]


def _write_from_elsewhere(store: Store, code: str) -> bool:
    """A UI save from another thread; whether it got the writer within 10 s."""

    def save() -> None:
        with store.write() as db:
            db.execute("INSERT INTO units (code, label) VALUES (?, ?)", [code, code])

    thread = threading.Thread(target=save)
    thread.start()
    thread.join(10)
    return not thread.is_alive()


def test_the_ui_writes_while_the_file_is_checked(services: Services, tmp_path: Path) -> None:
    store = services.store
    path = articles_file(tmp_path / "a.csv", 5000)
    saved: list[bool] = []

    def progress(rows: int) -> None:
        if rows < 5000:
            saved.append(_write_from_elsewhere(store, f"UI{rows}"))

    report = import_csv(store, "articles", path, progress=progress)
    assert report.committed and report.created == 5000
    assert saved and all(saved), "the writer is free while the file is read and checked"


def test_the_ui_writes_between_chunks(services: Services, tmp_path: Path) -> None:
    store = services.store
    path = articles_file(tmp_path / "a.csv", 3000)
    kind = KINDS["articles"]
    report = ImportReport("articles", str(path))
    saved: list[bool] = []

    def after_chunk(result: import_apply.ApplyResult) -> None:
        saved.append(_write_from_elsewhere(store, f"C{result.chunks}"))

    with (
        CsvReader(path, decimal_columns=kind.decimal_columns) as reader,
        staging_connection(store) as staging,
    ):
        handler = _check(staging, kind, reader, report, None)
        result = import_apply.apply_staged(store, handler, after_chunk=after_chunk)
    assert handlers.is_bulk("articles") and result.chunks >= 2
    assert all(saved) and len(saved) == result.chunks
    assert result.longest_hold > 0
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 3000


def test_a_bad_last_row_writes_nothing(services: Services, tmp_path: Path) -> None:
    store = services.store
    path = articles_file(tmp_path / "a.csv", 3000)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("Z1;Bad;CAISSE;20;1;;;\n")
    start = current_seq(store)
    report = import_csv(store, "articles", path)
    assert not report.committed and report.errors_total == 1
    assert (report.errors[0].line, report.errors[0].column) == (3002, "unit")
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM article_families").fetchone()[0] == 0
    assert current_seq(store) == start
    dry = import_csv(store, "articles", path, dry_run=True, skip_bad=True)
    assert (dry.created, dry.rejected, dry.committed) == (3000, 1, False)
    assert sorted(dry.created_references) == ["article_families:Blancs", "article_families:ROUGES"]
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


CUT_SHORT = """
import os, sys
from pathlib import Path
from webapp.backoffice import import_apply, importer
from webapp.store import Store

apply_staged = import_apply.apply_staged

def cut_after_first_chunk(*args, **kwargs):
    kwargs["after_chunk"] = lambda result: os._exit(9)  # as a kill -9 would, between two chunks
    return apply_staged(*args, **kwargs)

import_apply.apply_staged = cut_after_first_chunk
importer.import_csv(Store(Path(sys.argv[1])), "articles", Path(sys.argv[2]))
"""


def test_an_import_cut_between_chunks_is_finished_by_importing_again(tmp_path: Path) -> None:
    database = tmp_path / "relais.sqlite"
    Store(database).close()
    path = articles_file(tmp_path / "a.csv", 4000)
    child = subprocess.run(
        [sys.executable, "-c", CUT_SHORT, str(database), str(path)],
        env=relais_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert child.returncode == 9, child.stderr
    store = Store(database)
    with store.read() as db:
        written = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert 0 < written < 4000, "the first chunk was committed, the rest not"
    fts_is_exact(store, "articles_fts")
    history.interrupt_unfinished(store)
    with store.read() as db:
        run: Any = db.execute("SELECT job_name, status FROM runs").fetchone()
    assert tuple(run) == ("backoffice_import", "interrupted"), "the cut leaves a trace"

    report = import_csv(store, "articles", path)
    assert (report.created, report.updated) == (4000 - written, written)
    fts_is_exact(store, "articles_fts")
    assert len(fts_codes(store, "articles_fts", "rouge")) == 4000
    assert len(changed_since(store, "articles", 0)) == 4000
    store.close()


def test_a_bad_value_repeated_is_refused_on_every_line(services: Services, tmp_path: Path) -> None:
    """Each distinct text is parsed once per column; its refusal still names every line."""
    text = HEADER + "".join(
        f"R{n};Vin;BT;20;{'dix' if n % 2 else '10'};;;{'' if n % 3 else 'x'}\n" for n in range(6)
    )
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    report = import_csv(services.store, "articles", path)
    where = sorted((error.line, error.column) for error in report.errors)
    assert where == [
        (2, "stock"),
        (3, "price_excl_vat"),
        (5, "price_excl_vat"),
        (5, "stock"),
        (7, "price_excl_vat"),
    ]
    assert all("dix" in error.translated() for error in report.errors if error.line in (3, 7))
    assert not report.committed


def test_a_unit_removed_during_the_check_stops_the_import_clearly(
    services: Services, tmp_path: Path
) -> None:
    """The file was checked against a unit deleted before its rows are written: the chunk is
    rolled back, the import says how far it went, and importing again finishes it."""
    store = services.store
    with store.write() as db:
        db.execute("INSERT INTO units (code, label) VALUES ('CAISSE', 'Caisse')")
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "".join(f"K{n};Vin;CAISSE;20;1;;;\n" for n in range(50)), "utf-8")

    def remove_the_unit(rows: int) -> None:
        with store.write() as db:  # as the UI could, while the file is checked
            db.execute("DELETE FROM units WHERE code = 'CAISSE'")

    with pytest.raises(ImportStopped) as stopped:
        import_csv(store, "articles", path, progress=remove_the_unit)
    assert stopped.value.params["done"] == 0 and stopped.value.params["rows"] == 50
    with language("en"):
        assert "import the file again" in stopped.value.translated()
    with language("fr"):
        assert "importez à nouveau le fichier" in stopped.value.translated()
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
        status, message = tuple(db.execute("SELECT status, message FROM runs").fetchone())
    assert status == "failed" and "stopped after" in message
    with store.write() as db:
        db.execute("INSERT INTO units (code, label) VALUES ('CAISSE', 'Caisse')")
    assert import_csv(store, "articles", path).created == 50
