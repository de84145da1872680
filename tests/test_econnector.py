"""The e-connecteur through its command line and its functions (ECN-2 to ECN-7): connectors,
correspondences, reception in two steps, homonyms, missing correspondences, totals, payments,
.bak files, files still being written, kill -9 in the middle of a file, and sends."""

from __future__ import annotations

import codecs
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, relais, relais_env
from webapp import i18n
from webapp.backoffice.importer import import_csv
from webapp.config import resolve_data_dir
from webapp.econnector import connectors, mappings
from webapp.econnector.receive import Choices, integrated_documents, receive
from webapp.econnector.send import send
from webapp.services import Services, open_services

HEADER = (
    "doc_ref;doc_date;customer_ref;last_name;first_name;company;email;address;postcode;city;country;"
    "line_no;article_ref;variant_ref;label;quantity;unit;unit_price_incl_vat;vat_code;payment_method;"
    "total_incl_vat"
)
ARTICLES = """code;label;unit;vat_rate;price_excl_vat;tags;stock
VR1;Bourgogne rouge;BT;20;12,5;vin pub;10
MI1;Miel;U;5,5;8;;3
SV1;Dégustation;H;20;20;pub;
"""
CUSTOMERS = """code;last_name;first_name;company;email;phone;address;postcode;city;country;vat_number
ANDPA;André;Patrick;;patrick@example.fr;;1 rue;59950;Auby;FR;
"""


def line(
    doc: str,
    customer: str,
    last: str,
    no: int,
    article: str,
    qty: str,
    price: str,
    total: str,
    **extra: str,
) -> str:
    values = {
        "doc_ref": doc,
        "doc_date": "23/01/2026",
        "customer_ref": customer,
        "last_name": last,
        "first_name": extra.get("first", "Jean"),
        "company": "",
        "email": extra.get("email", ""),
        "address": "2 rue",
        "postcode": extra.get("postcode", "62000"),
        "city": "Lens",
        "country": extra.get("country", "FR"),
        "line_no": str(no),
        "article_ref": article,
        "variant_ref": extra.get("variant", ""),
        "label": "x",
        "quantity": qty,
        "unit": extra.get("unit", ""),
        "unit_price_incl_vat": price,
        "vat_code": extra.get("vat", "20"),
        "payment_method": "CARD",
        "total_incl_vat": total,
    }
    return ";".join(values[name] for name in HEADER.split(";"))


def drop(folder: Path, name: str, lines: list[str], *, age: float = 60) -> Path:
    path = folder / name
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    past = time.time() - age
    os.utime(path, (past, past))
    return path


@pytest.fixture
def shop(services: Services, tmp_path: Path) -> tuple[Services, connectors.Connector, Path, Path]:
    for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
        source = tmp_path / f"{kind}.csv"
        source.write_text(text, encoding="utf-8")
        assert import_csv(services.store, kind, source).committed
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    connector = connectors.save(
        services.store,
        connectors.Connector(
            code="WEB", partner="Prestashop", import_dir=str(inbox), export_dir=str(outbox)
        ),
    )
    mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    mappings.set_mapping(services.store, connector, "article", "P-MI1", "MI1", variant="500G")
    return services, connector, inbox, outbox


def count(services: Services, sql: str) -> int:
    with services.store.read() as db:
        return int(db.execute(sql).fetchone()[0])


def test_connector_rules(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    base = connectors.Connector(
        code="A", partner="X", import_dir=str(folder), export_dir=str(folder)
    )
    connectors.save(services.store, base)
    for bad, field in (
        (base, "code"),
        (
            connectors.Connector(
                code="bad code!", partner="X", import_dir=str(folder), export_dir=str(folder)
            ),
            "code",
        ),
        (
            connectors.Connector(
                code="B", partner="", import_dir=str(folder), export_dir=str(folder)
            ),
            "partner",
        ),
        (
            connectors.Connector(
                code="C", partner="X", import_dir=str(tmp_path / "nope"), export_dir=str(folder)
            ),
            "import_dir",
        ),
        (
            connectors.Connector(
                code="D", partner="X", import_dir="relative", export_dir=str(folder)
            ),
            "import_dir",
        ),
        (
            connectors.Connector(
                code="E",
                partner="X",
                import_dir=str(folder),
                export_dir=str(folder),
                send_articles="filter",
            ),
            "article_filter",
        ),
    ):
        with pytest.raises(connectors.ConnectorError) as caught:
            connectors.save(services.store, bad)
        assert caught.value.field == field
    copy = connectors.duplicate(services.store, "A", "A2")
    assert copy.partner == "X" and copy.id != base.id
    connectors.delete(services.store, "A2")
    assert [item.code for item in connectors.list_all(services.store)] == ["A"]


def test_analysis_writes_nothing_then_integration(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    path = drop(
        inbox,
        "orders.csv",
        [
            line("CW1", "ANDPA", "André", 1, "P-VR1", "2", "15,00", "38,44", first="Patrick"),
            line(
                "CW1",
                "ANDPA",
                "André",
                2,
                "P-MI1",
                "1",
                "8,44",
                "38,44",
                first="Patrick",
                variant="500G",
                vat="5,5",
            ),
            line("CW2", "NEW1", "Neuf", 1, "P-VR1", "1", "15,00", "15,00"),
        ],
    )
    analysis = receive(services.store, connector, analyse_only=True)
    assert [result.status for result in analysis.documents] == ["will_integrate", "will_integrate"]
    assert count(services, "SELECT count(*) FROM documents") == 0
    assert path.exists()
    report = receive(services.store, connector)
    assert [result.status for result in report.documents] == ["integrated", "integrated"]
    assert not path.exists() and (inbox / "orders.bak").exists()
    docs = {row["doc_ref"]: row for row in integrated_documents(services.store, connector)}
    assert docs["CW1"]["total_incl_vat"] == "38.44" and docs["CW1"]["lines"] == 2
    assert docs["CW2"]["customer"] == "NEW1"
    again = drop(
        inbox, "orders-again.csv", [line("CW2", "NEW1", "Neuf", 1, "P-VR1", "1", "15,00", "15,00")]
    )
    repeat = receive(services.store, connector)
    assert [result.status for result in repeat.documents] == ["already"]
    assert count(services, "SELECT count(*) FROM documents") == 2
    assert not again.exists()


def test_missing_correspondences_keep_the_document_and_the_file(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    path = drop(
        inbox,
        "orders.csv",
        [
            line("D1", "ANDPA", "André", 1, "P-UNKNOWN", "1", "5", "5", first="Patrick"),
            line("D2", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick", vat="V2"),
            line("D3", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick", unit="UNI"),
            line(
                "D4",
                "ANDPA",
                "André",
                1,
                "P-VR1",
                "1",
                "15",
                "15",
                first="Patrick",
                country="Atlantis",
            ),
            line("D5", "ANDPA", "André", 1, "P-VR1", "2", "15", "31", first="Patrick"),
            line("D6", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick"),
        ],
    )
    report = receive(services.store, connector)
    statuses = {result.doc_ref: result.status for result in report.documents}
    assert statuses == {
        "D1": "not_integrated",
        "D2": "not_integrated",
        "D3": "not_integrated",
        "D4": "not_integrated",
        "D5": "not_integrated",
        "D6": "integrated",
    }
    assert report.articles_without_correspondence == [
        {"article_ref": "P-UNKNOWN", "variant_ref": "", "label": "x"}
    ]
    assert {(c["kind"], c["external"]) for c in report.correspondences_to_give} == {
        ("vat", "V2"),
        ("unit", "UNI"),
        ("country", "Atlantis"),
    }
    reasons = {result.doc_ref: " ".join(result.reasons) for result in report.documents}
    # In the reader's decimal mark (30,00 in French).
    assert re.search(r"30[.,]00", reasons["D5"]) and "31" in reasons["D5"], "total checked"
    assert path.exists(), "a file with documents left stays .csv"
    mappings.set_mapping(services.store, connector, "vat", "V2", "FR20")
    mappings.set_mapping(services.store, connector, "unit", "UNI", "U")
    mappings.set_mapping(services.store, connector, "article", "P-UNKNOWN", "SV1")
    report = receive(services.store, connector)
    statuses = {result.doc_ref: result.status for result in report.documents}
    assert statuses["D1"] == statuses["D2"] == statuses["D3"] == "integrated"
    assert statuses["D6"] == "already" and statuses["D4"] == statuses["D5"] == "not_integrated"
    assert count(services, "SELECT count(*) FROM documents") == 4


def test_homonyms_new_by_default_or_linked(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    drop(
        inbox,
        "a.csv",
        [
            line(
                "H1",
                "EXT-9",
                "André",
                1,
                "P-VR1",
                "1",
                "15",
                "15",
                first="Patrick",
                email="PATRICK@example.fr",
            )
        ],
    )
    analysis = receive(services.store, connector, analyse_only=True)
    assert analysis.documents[0].customer_status == "homonym"
    assert analysis.documents[0].candidates == ["ANDPA"]
    receive(services.store, connector)
    assert count(services, "SELECT count(*) FROM parties WHERE last_name = 'André'") == 2
    drop(
        inbox,
        "b.csv",
        [
            line(
                "H2",
                "EXT-10",
                "André",
                1,
                "P-VR1",
                "1",
                "15",
                "15",
                first="Patrick",
                email="patrick@example.fr",
            )
        ],
    )
    linked = receive(services.store, connector, choices=Choices(link_homonyms=True))
    assert linked.documents[0].customer_status == "linked"
    assert count(services, "SELECT count(*) FROM parties WHERE last_name = 'André'") == 2


def test_payment_generation_and_document_kind(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    connector = connectors.save(
        services.store,
        connectors.replace(connector, generate_payment=True, doc_type="delivery"),
        code="WEB",
    )
    drop(
        inbox, "a.csv", [line("P1", "ANDPA", "André", 1, "P-VR1", "2", "15", "30", first="Patrick")]
    )
    receive(services.store, connector)
    with services.store.read() as db:
        kind, paid = db.execute(
            "SELECT d.kind, (SELECT sum(amount) FROM document_payments p WHERE p.document_id = d.id)"
            " FROM documents d"
        ).fetchone()
    assert (kind, paid) == ("delivery", 30.0)


def test_a_file_still_being_written_waits(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    path = drop(
        inbox, "fresh.csv", [line("F1", "ANDPA", "André", 1, "P-VR1", "1", "15", "15")], age=0
    )
    report = receive(services.store, connector)
    assert report.waiting == ["fresh.csv"] and not report.documents and path.exists()


def test_bad_files_are_reported(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    bad = inbox / "bad.csv"
    bad.write_text("doc_ref;foo\nA;B\n", encoding="utf-8")
    past = time.time() - 60
    os.utime(bad, (past, past))
    drop(
        inbox,
        "scattered.csv",
        [
            line("S1", "ANDPA", "André", 1, "P-VR1", "1", "15", "30"),
            line("S2", "ANDPA", "André", 1, "P-VR1", "1", "15", "15"),
            line("S1", "ANDPA", "André", 2, "P-VR1", "1", "15", "30"),
        ],
    )
    with i18n.language("en"):
        report = receive(services.store, connector)
    errors = {entry["name"]: entry.get("error") for entry in report.files}
    assert errors["bad.csv"] and "doc_date" in errors["bad.csv"]
    assert any("not together" in " ".join(r.reasons) for r in report.documents if r.doc_ref == "S1")
    assert bad.exists()


def test_send_honours_filters_and_writes_atomically(shop: Any) -> None:
    services, connector, _inbox, outbox = shop
    report = send(services.store, connector)
    files = {entry["kind"]: Path(entry["file"]) for entry in report.files}
    assert set(files) == {"articles", "customers"}
    articles = files["articles"].read_text(encoding="utf-8-sig").splitlines()
    assert articles[0].startswith("article_code;external_ref;variant_ref;label")
    assert any(row.startswith("VR1;P-VR1;;Bourgogne rouge;BT;12,5;15,00;20;10") for row in articles)
    filtered = send(
        services.store,
        connector,
        overrides={"send_articles": "filter", "article_filter": "pub", "send_customers": "none"},
    )
    rows = Path(filtered.files[0]["file"]).read_text(encoding="utf-8-sig").splitlines()[1:]
    assert sorted(row.split(";")[0] for row in rows) == ["SV1", "VR1"]
    assert len(filtered.files) == 1
    assert not list(outbox.glob(".*.tmp"))


def test_cli_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
        source = tmp_path / f"{kind}.csv"
        source.write_text(text, encoding="utf-8")
        assert relais("backoffice", "import", kind, str(source), data_dir=data).returncode == 0
    added = relais(
        "connector",
        "add",
        "WEB",
        "--mode",
        "csv",
        "--import-dir",
        str(inbox),
        "--export-dir",
        str(outbox),
        "--doc-type",
        "deliveries",
        "--json",
        data_dir=data,
    )
    assert added.returncode == 0, added.stderr
    assert (
        relais(
            "connector",
            "add",
            "WEB",
            "--import-dir",
            str(inbox),
            "--export-dir",
            str(outbox),
            data_dir=data,
        ).returncode
        == 2
    )
    assert (
        relais(
            "connector",
            "add",
            "X",
            "--import-dir",
            str(tmp_path / "nope"),
            "--export-dir",
            str(outbox),
            data_dir=data,
        ).returncode
        == 2
    )
    listed = json.loads(relais("connector", "list", "--json", data_dir=data).stdout)
    assert [item["code"] for item in listed] == ["WEB"] and listed[0]["doc_type"] == "delivery"
    assert (
        relais("connector", "map", "WEB", "article", "P-VR1", "VR1", data_dir=data).returncode == 0
    )
    assert (
        relais("connector", "map", "WEB", "article", "P-X", "NOPE", data_dir=data).returncode == 2
    )
    assert relais("connector", "map", "WEB", "vat", "TVA20", "FR20", data_dir=data).returncode == 0
    shown = json.loads(relais("connector", "mappings", "WEB", "--json", data_dir=data).stdout)
    assert {(m["kind"], m["external"], m["internal"]) for m in shown} == {
        ("article", "P-VR1", "VR1"),
        ("vat", "TVA20", "FR20"),
    }
    drop(
        inbox,
        "orders.csv",
        [
            line("C1", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick", vat="TVA20"),
            line("C2", "ANDPA", "André", 1, "P-NOPE", "1", "15", "15", first="Patrick"),
        ],
    )
    analysed = relais("connector", "receive", "WEB", "--analyse-only", "--json", data_dir=data)
    assert analysed.returncode == 1
    assert json.loads(analysed.stdout)["will_integrate"] == 1
    received = relais("connector", "receive", "WEB", "--json", data_dir=data)
    assert received.returncode == 1
    result = json.loads(received.stdout)
    assert (result["integrated"], result["not_integrated"]) == (1, 1)
    docs = json.loads(relais("connector", "documents", "WEB", "--json", data_dir=data).stdout)
    assert [d["doc_ref"] for d in docs] == ["C1"] and docs[0]["number"].startswith("BL")
    sent = relais(
        "connector", "send", "WEB", "--export-dir", str(tmp_path), "--json", data_dir=data
    )
    assert sent.returncode == 0, sent.stderr
    assert all(Path(entry["file"]).parent == tmp_path for entry in json.loads(sent.stdout)["files"])
    assert relais("connector", "receive", "NOPE", data_dir=data).returncode == 2


def test_kill_9_in_the_middle_of_a_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        source = tmp_path / "articles.csv"
        source.write_text(ARTICLES, encoding="utf-8")
        import_csv(services.store, "articles", source)
        inbox = tmp_path / "in"
        inbox.mkdir()
        connector = connectors.save(
            services.store,
            connectors.Connector(
                code="WEB", partner="X", import_dir=str(inbox), export_dir=str(inbox)
            ),
        )
        mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    finally:
        services.close()
    lines = [
        line(f"K{n:05d}", f"CUST{n % 50}", f"Nom{n % 50}", 1, "P-VR1", "1", "15", "15")
        for n in range(3000)
    ]
    drop(inbox, "big.csv", lines)
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp", "--data-dir", str(data), "connector", "receive", "WEB"],
        env=relais_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, "the reception ended before it could be killed"
        assert time.monotonic() < deadline
        probe = open_services(resolve_data_dir(data), vault_backend="file")
        try:
            with probe.store.read() as db:
                done = db.execute("SELECT count(*) FROM connector_documents").fetchone()[0]
        finally:
            probe.close()
        if done >= 100:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = relais("connector", "receive", "WEB", "--json", data_dir=data)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        with services.store.read() as db:
            documents, refs = db.execute(
                "SELECT count(*), count(DISTINCT external_ref) FROM documents"
            ).fetchone()
    finally:
        services.close()
    assert documents == refs == 3000, "every document exactly once"
    assert (inbox / "big.bak").exists()


PARTIES = """customer_ref;kind;last_name;first_name;company;email;phone;address;postcode;city;country;vat_number
ANDPA-WEB;client;André;Patrick;;patrick@example.fr;;1 rue;59950;Auby;FR;
BERTH;fournisseur;Berthet;Thomas;Berthet SA;;;;;;BE;BE 0403.170.701
BAD;client;Faux;;;;;;;;FR;FR00000000000
"""


def test_customers_and_suppliers_received(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    path = inbox / "tiers.csv"
    path.write_text(PARTIES, encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))
    analysis = receive(services.store, connector, analyse_only=True)
    statuses = {
        result.doc_ref: (result.status, result.customer_status) for result in analysis.documents
    }
    assert statuses == {
        "ANDPA-WEB": ("will_integrate", "homonym"),
        "BERTH": ("will_integrate", "new"),
        "BAD": ("not_integrated", "mapped"),
    }
    report = receive(services.store, connector, choices=Choices(links={"ANDPA-WEB": "ANDPA"}))
    assert report.count("integrated") == 2 and report.count("not_integrated") == 1
    assert path.exists(), "a row left keeps the file"
    with services.store.read() as db:
        supplier = db.execute(
            "SELECT kind, vat_number FROM parties WHERE code = 'BERTH'"
        ).fetchone()
        linked = db.execute(
            "SELECT p.code FROM connector_customers m JOIN parties p ON p.id = m.party_id"
            " WHERE m.external_ref = 'ANDPA-WEB'"
        ).fetchone()
    assert tuple(supplier) == ("supplier", "BE0403170701")
    assert linked[0] == "ANDPA"
    assert count(services, "SELECT count(*) FROM parties WHERE last_name = 'André'") == 1


def test_receptions_older_than_the_retention_go_with_the_platform_history(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    drop(
        inbox, "a.csv", [line("O1", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick")]
    )
    receive(services.store, connector)
    send(services.store, connector)
    with services.store.write() as db:
        db.execute(
            "UPDATE run_items SET created_at = '2020-01-01T00:00:00Z' WHERE subject = ?"
            " AND status = 'received'",
            [connector.code],
        )
    assert "connector_history_purge" not in services.runner.registry
    services.runner.run("history_purge")
    with services.store.read() as db:
        left = [
            row[0]
            for row in db.execute(
                "SELECT status FROM run_items WHERE subject = ?", [connector.code]
            )
        ]
    assert left and all(status == "sent" for status in left), "recent sends are kept"


def test_the_specification_example_integrates(shop: Any, tmp_path: Path) -> None:
    from webapp.econnector import spec

    services, connector, inbox, _outbox = shop
    mappings.set_mapping(services.store, connector, "article", "MIEL-500", "MI1")
    mappings.set_mapping(services.store, connector, "article", "ARRO", "SV1")
    mappings.set_mapping(services.store, connector, "vat", "20", "FR20")
    example = spec.example_csv("documents")
    assert example is not None
    path = inbox / "example.csv"
    path.write_text(example, encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))
    report = receive(services.store, connector)
    assert [result.status for result in report.documents] == ["integrated"], report.as_dict()
    spec_md = relais("connector", "spec", data_dir=tmp_path / "cli")
    assert spec_md.returncode == 0 and "doc_ref" in spec_md.stdout


# -- bad input: one bad file stops only itself; numbers and VAT codes never crash a reception --

CRASHING_FILES = {
    "a-bom-then-cp1252.csv": codecs.BOM_UTF8 + (HEADER + "\nD1;Mâcon\n").encode("cp1252"),
    "b-odd-utf16.csv": codecs.BOM_UTF16_LE + (HEADER + "\n").encode("utf-16-le") + b"A",
    "c-long-header.csv": b"doc_ref;" + b"x" * 200_000 + b"\nA;b\n",
}


def drop_bytes(folder: Path, name: str, content: bytes, *, age: float = 120) -> Path:
    path = folder / name
    path.write_bytes(content)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def test_a_file_that_used_to_crash_stops_only_itself(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    for name, content in CRASHING_FILES.items():
        drop_bytes(inbox, name, content)
    (inbox / "d-folder.csv").mkdir()  # a folder matches *.csv too
    os.utime(inbox / "d-folder.csv", (time.time() - 120, time.time() - 120))
    drop(inbox, "z-good.csv", [line("G1", "ANDPA", "André", 1, "P-VR1", "1", "15", "15")])
    with i18n.language("en"):
        report = receive(services.store, connector)
    errors = {entry["name"]: entry.get("error") or "" for entry in report.files}
    assert "Cannot read the file" in errors.pop("d-folder.csv")
    for name in CRASHING_FILES:
        assert "line" in errors[name].lower() and "column" in errors[name], errors
        assert (inbox / name).exists(), "a refused file stays for the next scan"
    assert report.count("integrated") == 1 and (inbox / "z-good.bak").exists()
    with services.store.read() as db:
        refs = {
            row[0] for row in db.execute("SELECT reference FROM run_items WHERE status = 'error'")
        }
    assert refs == {f"WEB:{name}" for name in (*CRASHING_FILES, "d-folder.csv")}


def test_cli_reception_goes_on_after_a_bad_file_and_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    services = open_services(resolve_data_dir(data))
    try:
        source = tmp_path / "articles.csv"
        source.write_text(ARTICLES, encoding="utf-8")
        import_csv(services.store, "articles", source)
        inbox = tmp_path / "in"
        inbox.mkdir()
        connector = connectors.save(
            services.store,
            connectors.Connector(
                code="WEB", partner="Shop", import_dir=str(inbox), export_dir=str(tmp_path)
            ),
        )
        mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    finally:
        services.close()
    drop_bytes(inbox, "a-bad.csv", CRASHING_FILES["a-bom-then-cp1252.csv"])
    drop(inbox, "b-good.csv", [line("G1", "", "Roy", 1, "P-VR1", "1", "15", "15")])
    result = relais("connector", "receive", "WEB", "--json", data_dir=data)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["integrated"] == 1
    assert [entry["name"] for entry in report["files"] if entry.get("error")] == ["a-bad.csv"]


@pytest.mark.parametrize(
    ("quantity", "price", "vat"),
    [
        ("1234567890123456789012345", "15", "20"),
        ("1", "12345678901234567890123456", "20"),
        ("1", "15", "sNaN"),
        ("1", "15", "1e400"),
        ("1", "15", "99999999999999999999999999%"),
    ],
)
def test_bad_numbers_refuse_the_document_not_the_reception(
    shop: Any, quantity: str, price: str, vat: str
) -> None:
    services, connector, inbox, _outbox = shop
    drop(
        inbox,
        "orders.csv",
        [
            line("N1", "ANDPA", "André", 1, "P-VR1", quantity, price, "15", vat=vat),
            line("N2", "ANDPA", "André", 1, "P-VR1", "1", "15", "15"),
        ],
    )
    report = receive(services.store, connector)
    assert {r.doc_ref: r.status for r in report.documents} == {
        "N1": "not_integrated",
        "N2": "integrated",
    }


def test_a_fully_integrated_file_becomes_a_numbered_bak_when_the_name_was_seen(
    shop: Any,
) -> None:
    services, connector, inbox, _outbox = shop
    (inbox / "orders.bak").write_text("received last week\n", encoding="utf-8")
    for number, ref in enumerate(("B1", "B2"), start=1):
        drop(inbox, "orders.csv", [line(ref, "ANDPA", "André", 1, "P-VR1", "1", "15", "15")])
        assert receive(services.store, connector).count("integrated") == 1
        assert ref in (inbox / f"orders.{number}.bak").read_text(encoding="utf-8")
    assert (inbox / "orders.bak").read_text(encoding="utf-8") == "received last week\n"
    assert not (inbox / "orders.csv").exists()


def test_the_service_refuses_what_the_wizard_refuses(shop: Any) -> None:
    """A site of another company: refused when saved, and by a reception if it changed since."""
    services, connector, inbox, _outbox = shop
    with services.store.write() as db:
        first = db.execute(
            "INSERT INTO companies (code, name) VALUES ('C1', 'Un') RETURNING id"
        ).fetchone()[0]
        second = db.execute(
            "INSERT INTO companies (code, name) VALUES ('C2', 'Deux') RETURNING id"
        ).fetchone()[0]
        site = db.execute(
            "INSERT INTO sites (company_id, code, name) VALUES (?, 'S1', 'Lens') RETURNING id",
            [first],
        ).fetchone()[0]
    wrong = connectors.replace(connector, company_id=second, site_id=site)
    with pytest.raises(connectors.ConnectorError) as refused:
        connectors.save(services.store, wrong, code=connector.code)
    assert refused.value.field == "site_id"
    with pytest.raises(connectors.ConnectorError) as refused:
        connectors.save(services.store, connectors.replace(connector, carrier_id=999), code="WEB")
    assert refused.value.field == "carrier_id"
    saved = connectors.save(
        services.store, connectors.replace(connector, company_id=first, site_id=site), code="WEB"
    )
    with services.store.write() as db:  # the site moves to the other company afterwards
        db.execute("UPDATE sites SET company_id = ? WHERE id = ?", [second, site])
    path = drop(
        inbox, "a.csv", [line("O1", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick")]
    )
    for analyse_only in (True, False):
        with pytest.raises(connectors.ConnectorError) as refused:
            receive(services.store, saved, analyse_only=analyse_only)
        assert refused.value.field == "site_id"
    assert count(services, "SELECT count(*) FROM documents") == 0
    assert path.exists(), "the file waits for the connector to be corrected"


def test_the_command_line_receives_through_the_same_task_one_at_a_time(shop: Any) -> None:
    services, connector, inbox, _outbox = shop
    drop(
        inbox, "a.csv", [line("O1", "ANDPA", "André", 1, "P-VR1", "1", "15", "15", first="Patrick")]
    )
    with services.store.write() as db:  # a browser integration of the connector under way
        busy = db.execute(
            "INSERT INTO runs (job_name, status, started_at, owner_pid, subject)"
            " VALUES ('connector_receive', 'running', '2026-01-01T00:00:00Z', ?, ?)",
            [os.getpid(), connector.code],
        ).lastrowid
    refused = relais("connector", "receive", connector.code, data_dir=services.data_dir.path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert count(services, "SELECT count(*) FROM documents") == 0
    with services.store.write() as db:
        db.execute("UPDATE runs SET status = 'success' WHERE id = ?", [busy])
    done = relais("connector", "receive", connector.code, "--json", data_dir=services.data_dir.path)
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    task = services.tasks.get(run_id)
    assert task is not None and (task.subject, task.status) == (connector.code, "success")
    assert task.run["origin"] == "command" and task.result["report"]["integrated"] == 1
