"""Reception by chunks (ECN-6, issue 14): the set-based path writes what the per-document path
writes, an analysis announces what the integration does across chunks, a chunk that fails
unexpectedly is replayed document by document, and the write lock is free between chunks."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, relais, relais_env
from tests.test_econnector import ARTICLES, CUSTOMERS, drop, line
from webapp import history
from webapp.backoffice import documents
from webapp.backoffice.importer import import_csv
from webapp.config import resolve_data_dir
from webapp.econnector import batch, connectors, mappings
from webapp.econnector.inbox import read_documents
from webapp.econnector.integration import integrate_one
from webapp.econnector.receive import Choices, ReceiveReport, receive
from webapp.services import Services, open_services

CHOICES = Choices(links={"EXT-7": "ANDPA", "EXT-8": "NOPE", "EXT-12": "NEWA"})


def mixed_lines() -> list[str]:
    """Mapped, new, repeated and homonym customers, links chosen, refusals of every kind,
    several VAT codes and documents of one to four lines, a document seen twice."""
    two = [
        line("M2", "NEWA", "Neuf", 1, "P-VR1", "2", "15,00", "38,44", email="neuf@example.fr"),
        line(
            "M2",
            "NEWA",
            "Neuf",
            2,
            "P-MI1",
            "1",
            "8,44",
            "38,44",
            variant="500G",
            vat="5,5",
            email="neuf@example.fr",
        ),
    ]
    four = [
        line("M9", "EXT-7", "Autre", no, "P-VR1", "1", "3,33", "13,32", vat=vat)
        for no, vat in ((1, "20"), (2, "V20"), (3, "FR20"), (4, "20 %"))
    ]
    return [
        line("M1", "NEWA", "Neuf", 1, "P-VR1", "1", "15", "15", email="neuf@example.fr"),
        *two,
        line("M3", "", "Sansref", 1, "P-VR1", "1", "15", "15"),
        line(
            "M4",
            "EXT-9",
            "André",
            1,
            "P-VR1",
            "1",
            "15",
            "15",
            first="Patrick",
            email="PATRICK@example.fr",
        ),
        line("M5", "NEWB", "Autre", 1, "P-VR1", "1", "15", "15", email="NEUF@example.fr"),
        line("M6", "NEWC", "Neuf", 1, "P-UNKNOWN", "1", "15", "15"),
        line("M7", "NEWC", "Neuf", 1, "P-VR1", "1", "15", "15", vat="V99"),
        line("M8", "NEWC", "Neuf", 1, "P-VR1", "2", "15", "31"),
        *four,
        line(
            "M10", "EXT-8", "André", 1, "P-VR1", "1", "15", "15", first="Patrick", postcode="59950"
        ),
        line("M11", "W000010", "Dix", 1, "P-VR1", "1", "15", "15"),
        line("M12", "", "Sansref", 1, "P-VR1", "1", "15", "15"),
        line("M13", "NEWA", "Neuf", 1, "P-VR1", "1", "15", "15", email="neuf@example.fr"),
        line("M14", "NEWD", "Loin", 1, "P-VR1", "1", "15", "15", country="Atlantis"),
        line("M15", "NEWD", "Loin", 1, "P-VR1", "1", "15", "15", unit="UNI"),
        line("M16", "EXT-12", "Neuf", 1, "P-VR1", "1", "15", "15", email="neuf@example.fr"),
        line("M17", "NEWE", "Zero", 1, "P-VR1", "0", "15", "0"),
        line("M1", "NEWA", "Neuf", 1, "P-VR1", "1", "15", "15", email="neuf@example.fr"),
        line("M18", "NEWF", "Tard", 1, "P-VR1", "1,5", "10", "15"),
    ]


def open_shop(root: Path) -> tuple[Services, connectors.Connector, Path]:
    services = open_services(resolve_data_dir(root / "data"))
    for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
        source = root / f"{kind}.csv"
        source.write_text(text, encoding="utf-8")
        assert import_csv(services.store, kind, source).committed
    inbox = root / "in"
    inbox.mkdir()
    connector = connectors.save(
        services.store,
        connectors.Connector(
            code="WEB",
            partner="Shop",
            import_dir=str(inbox),
            export_dir=str(root),
            generate_payment=True,
        ),
    )
    mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    mappings.set_mapping(services.store, connector, "article", "P-MI1", "MI1", variant="500G")
    mappings.set_mapping(services.store, connector, "vat", "V20", "FR20")
    return services, connector, inbox


def per_document(services: Services, connector: connectors.Connector, path: Path) -> ReceiveReport:
    """The per-document path (integrate_one, one document at a time), as receptions were."""
    report = ReceiveReport(connector.code, False)
    report.run_id = history.start_run(services.store, "connector_receive", "command")
    with services.store.write() as db:
        db.execute("UPDATE runs SET subject = ? WHERE id = ?", [connector.code, report.run_id])
    with documents.remembered_lookups():
        for document in read_documents(path, connector):
            with services.store.write() as db:
                report.add(integrate_one(db, connector, document, CHOICES, report))
    return report


TABLES = {
    "documents": "SELECT * FROM documents ORDER BY id",
    "document_lines": "SELECT * FROM document_lines ORDER BY id",
    "document_payments": "SELECT * FROM document_payments ORDER BY id",
    "document_sequences": "SELECT * FROM document_sequences ORDER BY company_id, kind",
    "parties": "SELECT * FROM parties ORDER BY id",
    "connector_customers": "SELECT * FROM connector_customers ORDER BY external_ref",
    "connector_documents": "SELECT * FROM connector_documents ORDER BY doc_ref",
    "run_items": "SELECT * FROM run_items WHERE job_name = 'connector_receive' ORDER BY id",
    "runs": "SELECT id, count_received, count_errors FROM runs ORDER BY id",
    "change_log": "SELECT seq, entity, key, op FROM change_log ORDER BY seq",
    # The full-text index itself (not the content it points to): each customer found by its
    # name and its e-mail, and the index consistent with its table.
    "parties_fts": "SELECT p.id, (SELECT group_concat(rowid) FROM parties_fts"
    " WHERE parties_fts MATCH '\"' || replace(p.last_name, '\"', '') || '\"') AS by_name,"
    " (SELECT group_concat(rowid) FROM parties_fts WHERE parties_fts MATCH"
    " 'email:\"' || replace(p.email, '\"', '') || '\"') AS by_email FROM parties p"
    " WHERE p.last_name != '' AND p.email != '' ORDER BY p.id",
}
STAMPS = {"created_at", "updated_at", "integrated_at"}


def contents(services: Services) -> dict[str, list[dict[str, Any]]]:
    with services.store.write() as db:  # raises when the index and its table disagree
        db.execute("INSERT INTO parties_fts (parties_fts, rank) VALUES ('integrity-check', 1)")
    with services.store.read() as db:
        return {
            table: [
                {key: value for key, value in dict(row).items() if key not in STAMPS}
                for row in db.execute(sql).fetchall()
            ]
            for table, sql in TABLES.items()
        }


def results(report: ReceiveReport) -> list[dict[str, Any]]:
    return [result.as_dict() for result in report.documents]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CHUNK_DOCUMENTS", 3)


@pytest.mark.usefixtures("small_chunks")
def test_chunks_write_what_the_per_document_path_writes(tmp_path: Path) -> None:
    chunked, one_by_one = tmp_path / "chunked", tmp_path / "one_by_one"
    for root in (chunked, one_by_one):
        root.mkdir()
    first, connector, inbox = open_shop(chunked)
    second, connector_b, inbox_b = open_shop(one_by_one)
    try:
        lines = mixed_lines()
        half = drop(inbox, "half.csv", lines[: len(lines) // 2])
        shutil.copy(half, inbox_b / "half.csv")
        receive(first.store, connector, choices=CHOICES)
        per_document(second, connector_b, inbox_b / "half.csv")
        for folder in (inbox, inbox_b):  # refusals keep it: the full file comes in its place
            (folder / "half.csv").unlink(missing_ok=True)
        full = drop(inbox, "full.csv", lines)
        shutil.copy(full, inbox_b / "full.csv")
        report = receive(first.store, connector, choices=CHOICES)
        expected = per_document(second, connector_b, inbox_b / "full.csv")
        assert results(report) == results(expected)
        assert report.counts == expected.counts
        assert report.count("already") > 0 and report.count("not_integrated") >= 7
        assert contents(first) == contents(second)
        statuses = {result.customer_status for result in report.documents}
        assert {"mapped", "new", "homonym", "linked"} <= statuses
    finally:
        first.close()
        second.close()


@pytest.mark.usefixtures("small_chunks")
def test_the_analysis_announces_what_the_integration_does_across_chunks(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        drop(inbox, "orders.csv", mixed_lines())
        before = contents(services)
        analysis = receive(services.store, connector, analyse_only=True, choices=CHOICES)
        assert contents(services) == before, "the analysis leaves nothing behind"
        report = receive(services.store, connector, choices=CHOICES)
        announced = results(analysis)
        for result in announced:
            if result["status"] == "will_integrate":
                result["status"] = "integrated"
        assert announced == results(report)
        assert analysis.correspondences_to_give == report.correspondences_to_give
        assert analysis.articles_without_correspondence == report.articles_without_correspondence
    finally:
        services.close()


def drop_with_a_boom(services: Services, inbox: Path) -> None:
    """Seven documents R0-R6; R4's line meets a failure no check foresees (a trigger)."""
    with services.store.write() as db:
        db.execute(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON document_lines"
            " WHEN NEW.label = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
        )
    lines = [line(f"R{n}", f"C{n}", "Nom", 1, "P-VR1", "1", "15", "15") for n in range(7)]
    lines[4] = lines[4].replace(";x;", ";boom;")
    drop(inbox, "orders.csv", lines)


@pytest.mark.usefixtures("small_chunks")
def test_a_chunk_that_fails_unexpectedly_is_replayed_document_by_document(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        drop_with_a_boom(services, inbox)
        report = receive(services.store, connector)
        statuses = {result.doc_ref: result.status for result in report.documents}
        assert statuses.pop("R4") == "not_integrated"
        assert set(statuses.values()) == {"integrated"}
        refused = next(result for result in report.documents if result.doc_ref == "R4")
        assert "boom refused" in " ".join(refused.reasons)
        with services.store.read() as db:
            numbers = [row[0] for row in db.execute("SELECT number FROM documents ORDER BY id")]
            errors = db.execute("SELECT reference FROM run_items WHERE status = 'error'").fetchall()
        assert numbers == [f"CO{n:06d}" for n in range(1, 7)], "no number lost"
        assert [row[0] for row in errors] == ["WEB:R4"]
    finally:
        services.close()


@pytest.mark.usefixtures("small_chunks")
def test_the_analysis_lets_other_writers_in_between_chunks(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        lines = [line(f"L{n}", f"C{n}", "Nom", 1, "P-VR1", "1", "15", "15") for n in range(10)]
        drop(inbox, "orders.csv", lines)
        written: list[int] = []

        def write_from_another_thread(done: int) -> None:
            def save() -> None:
                with services.store.write() as db:
                    db.execute("INSERT INTO settings (key, value) VALUES (?, '1')", [f"k{done}"])
                written.append(done)

            other = threading.Thread(target=save)
            other.start()
            other.join(timeout=30)
            assert not other.is_alive(), "another writer waited for the analysis"

        analysis = receive(
            services.store, connector, analyse_only=True, progress=write_from_another_thread
        )
        assert analysis.count("will_integrate") == 10
        assert written == [3, 6, 9, 10], "one write between each chunk"
    finally:
        services.close()


def test_kill_9_between_chunks_leaves_each_document_whole_and_once(tmp_path: Path) -> None:
    services, _connector, inbox = open_shop(tmp_path)
    services.close()
    lines = [
        line(f"K{n:05d}", f"CUST{n % 70}", f"Nom{n % 70}", no, "P-VR1", "1", "5", "15")
        for n in range(2000)
        for no in (1, 2, 3)
    ]
    drop(inbox, "big.csv", lines)
    data = tmp_path / "data"
    command = [sys.executable, "-m", "webapp", "--data-dir", str(data), "connector", "receive"]
    process = subprocess.Popen(
        [*command, "WEB"],
        env=relais_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, "the reception ended before it could be killed"
        assert time.monotonic() < deadline
        probe = open_services(resolve_data_dir(data))
        try:
            with probe.store.read() as db:
                done = db.execute("SELECT count(*) FROM connector_documents").fetchone()[0]
        finally:
            probe.close()
        if done:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = relais("connector", "receive", "WEB", "--json", data_dir=data)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr
    services = open_services(resolve_data_dir(data))
    try:
        with services.store.read() as db:
            documents, refs, numbers = db.execute(
                "SELECT count(*), count(DISTINCT external_ref), count(DISTINCT number)"
                " FROM documents"
            ).fetchone()
            uneven = db.execute(
                "SELECT count(*) FROM documents d WHERE (SELECT count(*) FROM document_lines l"
                " WHERE l.document_id = d.id) != 3 OR (SELECT count(*) FROM document_payments p"
                " WHERE p.document_id = d.id) != 1 OR d.total_incl_vat != 15"
            ).fetchone()[0]
            items = db.execute(
                "SELECT count(*), count(DISTINCT reference) FROM run_items"
                " WHERE kind = 'document' AND status = 'received'"
            ).fetchone()
            customers = db.execute("SELECT count(*) FROM connector_customers").fetchone()[0]
    finally:
        services.close()
    assert documents == refs == numbers == 2000, "every document exactly once, numbered once"
    assert uneven == 0, "each document whole: its three lines, its payment, its total"
    assert tuple(items) == (2000, 2000), "one history item per document"
    assert customers == 70
    assert (inbox / "big.bak").exists()
