"""The Scrada simulator over real HTTP: the contract the Scrada client is written against, and the
validity of the documents it serves (checked here independently of the generator)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from webapp.simulators.scrada import ScradaSimulator

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "corpus"
AUTH = {"X-API-KEY": "demo-key", "X-PASSWORD": "demo-password"}
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
START = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC, a fixed "now" for the fake clock


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> Iterator[ScradaSimulator]:
    simulator = ScradaSimulator(rate_limit=None, clock=FakeClock())
    simulator.start()
    yield simulator
    simulator.stop()


def client(simulator: ScradaSimulator, **options: Any) -> httpx.Client:
    assert simulator.url
    options.setdefault("headers", AUTH)
    return httpx.Client(base_url=f"{simulator.url}/v1", **options)


# --- independent checks (not the generator's code) -------------------------------------------


def is_company_number(number: str) -> bool:
    return len(number) == 10 and 97 - int(number[:8]) % 97 == int(number[8:])


def is_iban(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


@dataclass
class Statement:
    sequence: int
    old: Decimal
    new: Decimal
    debits: Decimal
    credits: Decimal


def coda_amount(field: str) -> Decimal:
    value = Decimal(field[1:]) / 1000
    return -value if field[0] == "1" else value


def check_coda(data: bytes, *, crlf: bool = True) -> list[Statement]:
    """Every rule a CODA reader relies on; raises AssertionError on the first broken one."""
    text = data.decode("latin-1")
    if crlf:
        assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    records = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    statements: list[Statement] = []
    counted = 0
    movements: list[Decimal] = []
    old = Decimal(0)
    for record in records:
        assert len(record) == 128, (len(record), record)
        kind = record[0]
        if kind == "0":
            assert record[127] == "2", "CODA version 2"
            counted, movements = 0, []
        elif kind == "1":
            counted += 1
            old = coda_amount(record[42:58])
            sequence = int(record[2:5])
        elif kind == "2":
            counted += 1
            assert record[1] in "123"
            if record[1] == "1" and record[6:10] == "0000":
                movements.append(coda_amount(record[31:47]))
        elif kind == "3":
            counted += 1
        elif kind == "8":
            counted += 1
            new = coda_amount(record[41:57])
        elif kind == "9":
            assert int(record[16:22]) == counted, "record 9 count"
            debits = Decimal(record[22:37]) / 1000
            credits = Decimal(record[37:52]) / 1000
            assert debits == -sum(m for m in movements if m < 0), "record 9 debit sum"
            assert credits == sum(m for m in movements if m > 0), "record 9 credit sum"
            assert old - debits + credits == new, "old - debits + credits = new"
            statements.append(Statement(sequence, old, new, debits, credits))
    return statements


def check_invoice(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser)
    assert etree.QName(root).localname == "Invoice"

    def amount(node: etree._Element, path: str) -> Decimal:
        return Decimal(node.findtext(path, namespaces=NS) or "nan")

    lines = root.findall("cac:InvoiceLine", NS)
    assert lines
    by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        quantity = amount(line, "cbc:InvoicedQuantity")
        price = amount(line, "cac:Price/cbc:PriceAmount")
        line_amount = amount(line, "cbc:LineExtensionAmount")
        assert (quantity * price).quantize(Decimal("0.01")) == line_amount
        rate = amount(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent")
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + line_amount
    net = sum(by_rate.values(), Decimal(0))
    totals = root.find("cac:LegalMonetaryTotal", NS)
    assert totals is not None
    assert amount(totals, "cbc:LineExtensionAmount") == net
    assert amount(totals, "cbc:TaxExclusiveAmount") == net
    vat = Decimal(0)
    subtotals = root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert len(subtotals) == len(by_rate)
    for subtotal in subtotals:
        rate = amount(subtotal, "cac:TaxCategory/cbc:Percent")
        assert amount(subtotal, "cbc:TaxableAmount") == by_rate[rate]
        expected = (by_rate[rate] * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert amount(subtotal, "cbc:TaxAmount") == expected
        vat += expected
    assert amount(root, "cac:TaxTotal/cbc:TaxAmount") == vat
    assert amount(totals, "cbc:TaxInclusiveAmount") == net + vat
    assert amount(totals, "cbc:PayableAmount") == net + vat
    return root


def test_the_checkers_catch_what_they_should() -> None:
    """The CODA checker accepts a real bank's statement and flags the corpus's unbalanced one."""
    good = (CORPUS / "coda" / "pycoda__Coda_v2_3_single_statement.txt").read_bytes()
    assert len(check_coda(good)) == 1
    bad = (
        CORPUS / "coda" / "oca-l10n-belgium__Ontvangen_CODA.2012-01-11-18.59.15.txt"
    ).read_bytes()
    with pytest.raises(AssertionError, match="old - debits"):
        check_coda(bad, crlf=False)
    check_invoice(
        (CORPUS / "ubl" / "deinte-scrada-postman__Get_sales_invoice_UBL.xml").read_bytes()
    )
    assert is_company_number("0403170701") and is_iban("BE71096123456769")


# --- the API ---------------------------------------------------------------------------------


def test_wrong_credentials_get_scrada_401(sim: ScradaSimulator) -> None:
    company = sim.add_company("Boulangerie Dupont")
    with client(sim) as http:
        for headers in ({"X-PASSWORD": "wrong"}, {"X-API-KEY": "other"}):
            answer = http.get(f"/company/{company.id}", headers=headers)
            assert answer.status_code == 401
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json() == {
                "errorCode": 401,
                "defaultFormat": "Invalid API key or password",
                "innerErrors": [],
            }
            assert "x-ratelimit-remaining" in answer.headers
        bare = httpx.get(f"{sim.url}/v1/partner/company")
        assert bare.status_code == 401
        missing = http.get("/company/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert set(missing.json()) == {"errorCode", "defaultFormat", "innerErrors"}
        assert missing.json()["errorCode"] == 404
        assert http.get(f"/company/{company.id}/journal/nope/document").status_code == 404


def test_company_journals_and_cash_books(sim: ScradaSimulator) -> None:
    company = sim.add_company("Cave Lambert", journals=2, cash_books=1, documents=3)
    with client(sim, headers={**AUTH, "Language": "FR"}) as http:
        answer = http.get(f"/company/{company.id}/")
        assert answer.status_code == 200
        body = answer.json()
        assert body == {
            "id": company.id,
            "code": body["code"],
            "name": "Cave Lambert",
            "taxNumber": body["taxNumber"],
            "vatNumber": f"BE{body['taxNumber']}",
        }
        assert is_company_number(body["taxNumber"])
        journals = http.get(f"/company/{company.id}/journal").json()
        assert [j["name"] for j in journals] == ["Recettes boutique", "Recettes marché"]
        for journal in journals:
            assert journal["active"] is True
            assert journal["invoiceGenerationPeriodType"] == 1
            assert journal["lastLineDate"] == journal["invoicedTill"] == "2026-11-17"
        (book,) = http.get(f"/company/{company.id}/cashBook").json()
        assert set(book) == {
            "id",
            "name",
            "iban",
            "currentBalance",
            "lastLineDate",
            "codaGenerationPeriodType",
        }
        assert book["name"] == "Caisse" and is_iban(book["iban"]) and book["iban"][:2] == "BE"
        listing = http.get(f"/company/{company.id}/cashBook/{book['id']}/statement").json()
        last = listing["results"][-1]
        coda = http.get(f"/company/{company.id}/cashBook/{book['id']}/statement/{last['id']}")
        assert check_coda(coda.content)[-1].new == Decimal(str(book["currentBalance"]))


def test_partner_feed_pages_with_after(sim: ScradaSimulator) -> None:
    shop = sim.add_company("Librairie Martin", documents=250, cash_books=0)
    sim.add_company("Not a client", partner=False)
    journal = shop.journals[0].id
    with client(sim) as http:
        partner = http.get("/partner/company").json()
        assert partner["__count"] == 1
        assert [c["id"] for c in partner["results"]] == [shop.id]

        url = f"/company/{shop.id}/journal/{journal}/document"
        first = http.get(url).json()
        assert (len(first["results"]), first["__count"], first["hasMore"]) == (100, 250, True)
        sequences = [d["sequence"] for d in first["results"]]
        assert sequences == list(range(1, 101))
        assert set(first["results"][0]) == {"id", "sequence", "date", "fileName", "createdOn"}
        seen = sequences
        after = sequences[-1]
        while True:
            page = http.get(url, params={"after": after}).json()
            assert all(d["sequence"] > after for d in page["results"])
            seen += [d["sequence"] for d in page["results"]]
            if not page["hasMore"]:
                break
            after = page["results"][-1]["sequence"]
        assert seen == list(range(1, 251))
        assert http.get(url, params={"after": 250}).json() == {
            "results": [],
            "__count": 0,
            "hasMore": False,
        }
        dates = [d["date"] for d in first["results"]]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)

        new_id = sim.add_document(shop.id, journal)
        newer = http.get(url, params={"after": 250}).json()["results"]
        assert [(d["id"], d["sequence"], d["date"]) for d in newer] == [(new_id, 251, "2026-11-18")]
        assert http.get(url, params={"after": "x"}).status_code == 400


def test_daily_receipts_are_valid_ubl_invoices(sim: ScradaSimulator) -> None:
    company = sim.add_company("Fromagerie Dubois", documents=5)
    journal = company.journals[0].id
    with client(sim) as http:
        listing = http.get(f"/company/{company.id}/journal/{journal}/document").json()["results"]
        numbers = set()
        for summary in listing:
            answer = http.get(f"/company/{company.id}/journal/{journal}/document/{summary['id']}")
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "application/xml"
            root = check_invoice(answer.content)
            assert root.findtext("cbc:IssueDate", namespaces=NS) == summary["date"]
            supplier = "cac:AccountingSupplierParty/cac:Party/"
            assert root.findtext(supplier + "cbc:EndpointID", namespaces=NS) == company.tax_number
            assert root.findtext(supplier + "cac:PartyName/cbc:Name", namespaces=NS) == (
                "Fromagerie Dubois"
            )
            assert "billing:3.0" in (root.findtext("cbc:CustomizationID", namespaces=NS) or "")
            numbers.add(root.findtext("cbc:ID", namespaces=NS))
        assert len(numbers) == 5


def test_cash_book_statements_are_valid_chained_coda(sim: ScradaSimulator) -> None:
    company = sim.add_company("Épicerie Renard", journals=0, documents=40)
    book = company.cash_books[0].id
    statements: list[Statement] = []
    with client(sim) as http:
        listing = http.get(f"/company/{company.id}/cashBook/{book}/statement").json()["results"]
        for summary in listing:
            answer = http.get(f"/company/{company.id}/cashBook/{book}/statement/{summary['id']}")
            assert answer.headers["content-type"] == "text/plain; charset=latin-1"
            (statement,) = check_coda(answer.content)
            statements.append(statement)
    assert [s.sequence for s in statements] == list(range(1, 41))
    for earlier, later in itertools.pairwise(statements):
        assert later.old == earlier.new, "consecutive statements chain their balances"
    assert any(s.debits for s in statements) and all(s.new >= 0 for s in statements)


def test_malformed_documents_are_served_as_given(sim: ScradaSimulator) -> None:
    company = sim.add_company("Fleurs Peeters", documents=2)
    journal, book = company.journals[0].id, company.cash_books[0].id
    bad_xml = sim.add_document(company.id, journal, data=b"<Invoice><unclosed>")
    bad_coda = sim.add_document(company.id, book, data=b"0 not a coda file\r\n")
    sim.add_document(company.id, book)
    with client(sim) as http:
        base = f"/company/{company.id}"
        assert http.get(f"{base}/journal/{journal}/document/{bad_xml}").content == (
            b"<Invoice><unclosed>"
        )
        assert http.get(f"{base}/cashBook/{book}/statement/{bad_coda}").content.startswith(b"0 not")
        statements = []
        for summary in http.get(f"{base}/cashBook/{book}/statement").json()["results"]:
            if summary["id"] != bad_coda:
                data = http.get(f"{base}/cashBook/{book}/statement/{summary['id']}").content
                statements += check_coda(data)
        assert statements[1].new == statements[2].old  # the bad one in between broke nothing


def test_peppol_inbox_and_confirm(sim: ScradaSimulator) -> None:
    company = sim.add_company("Café Leclercq", peppol=2)
    extra = sim.add_peppol_document(company.id)
    base = f"/company/{company.id}/peppol/inbound/document"
    with client(sim) as http:
        inbox = http.get(f"{base}/unconfirmed").json()
        assert inbox["__count"] == 3 and len(inbox["results"]) == 3
        assert set(inbox["results"][0]) == {"id", "receivedOn", "fileName"}
        assert inbox["results"][0]["receivedOn"] == "2026-11-18T11:06:40Z"
        answer = http.get(f"{base}/{extra}")
        assert answer.headers["content-type"] == "application/xml"
        root = check_invoice(answer.content)
        customer = "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"
        assert root.findtext(customer, namespaces=NS) == company.tax_number
        supplier = root.findtext(
            "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", namespaces=NS
        )
        assert supplier and is_company_number(supplier) and supplier != company.tax_number

        assert http.get(f"{base}/{extra}/confirm").status_code == 405
        assert http.put(f"{base}/{extra}/confirm").status_code == 200
        assert extra in sim.confirmed
        left = http.get(f"{base}/unconfirmed").json()
        assert left["__count"] == 2 and extra not in [d["id"] for d in left["results"]]
        assert http.get(f"{base}/{extra}").status_code == 200  # still downloadable
        assert http.put(f"{base}/nope/confirm").status_code == 404


def test_rate_limit_token_bucket_with_fake_clock() -> None:
    clock = FakeClock()
    simulator = ScradaSimulator(clock=clock)
    company = simulator.add_company("Cave Janssens")
    simulator.start()
    try:
        with client(simulator) as http:
            for expected in range(59, -1, -1):
                answer = http.get(f"/company/{company.id}")
                assert answer.status_code == 200
                assert answer.headers["x-ratelimit-limit"] == "60"
                assert answer.headers["x-ratelimit-remaining"] == str(expected)
                assert answer.headers["x-ratelimit-reset"] == str(int(START) + 10)
            limited = http.get(f"/company/{company.id}")
            assert limited.status_code == 429
            assert limited.json() == {
                "errorCode": 429,
                "defaultFormat": "Too many requests",
                "innerErrors": [],
            }
            assert limited.headers["x-ratelimit-remaining"] == "0"
            assert limited.headers["x-ratelimit-reset"] == str(int(START) + 10)
            assert limited.headers["retry-after"] == "10"
            clock.now += 10
            statuses = [http.get(f"/company/{company.id}").status_code for _ in range(11)]
            assert statuses == [200] * 10 + [429]
            assert http.get("/partner/company").headers["x-ratelimit-reset"] == str(int(START) + 20)
            # The bucket is per API key: another key has its own (and is then refused as 401).
            assert http.get("/partner/company", headers={"X-API-KEY": "k2"}).status_code == 401
            clock.now += 600  # a long pause refills to the capacity, not beyond
            remaining = http.get("/partner/company").headers["x-ratelimit-remaining"]
            assert remaining == "59"
    finally:
        simulator.stop()


def test_unlimited_still_sends_the_headers(sim: ScradaSimulator) -> None:
    with client(sim) as http:
        for _ in range(100):
            answer = http.get("/partner/company")
            assert answer.status_code == 200
        assert int(answer.headers["x-ratelimit-remaining"]) > 0
        assert int(answer.headers["x-ratelimit-reset"]) == int(START) + 10


def test_fail_next_and_delay_next(sim: ScradaSimulator) -> None:
    company = sim.add_company("Boulangerie Martin")
    sim.fail_next(2, 503, path_contains="/journal")
    with client(sim) as http:
        assert http.get(f"/company/{company.id}").status_code == 200
        for _ in range(2):
            failed = http.get(f"/company/{company.id}/journal")
            assert failed.status_code == 503
            assert failed.json()["errorCode"] == 503 and failed.json()["innerErrors"] == []
            assert "x-ratelimit-limit" in failed.headers
        assert http.get(f"/company/{company.id}/journal").status_code == 200
        sim.fail_next(1)
        assert http.get("/partner/company").status_code == 500
        sim.fail_next(1, 429)
        assert http.get("/partner/company").headers["x-ratelimit-remaining"] == "0"

        sim.delay_next(1, 1.0, path_contains="/cashBook")
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"/company/{company.id}/cashBook", timeout=0.2)
        started = time.perf_counter()
        assert http.get(f"/company/{company.id}/cashBook").status_code == 200
        assert time.perf_counter() - started < 0.5
    sim.delay_next(5, 10.0)
    sim.fail_next(5)
    sim.clear_injected()
    with client(sim) as http:
        assert http.get("/partner/company", timeout=2).status_code == 200
    journal_calls = [s for m, p, s in sim.requests if p.endswith("/journal")]
    assert journal_calls == [503, 503, 200]
    assert all(method == "GET" for method, _, _ in sim.requests)


def test_stop_cuts_kept_alive_connections() -> None:
    simulator = ScradaSimulator(rate_limit=None)
    simulator.start()
    with client(simulator) as http:
        assert http.get("/partner/company").status_code == 200
        simulator.stop()
        with pytest.raises(httpx.TransportError):
            http.get("/partner/company")


def test_same_seed_same_data() -> None:
    def build() -> tuple[str, bytes, bytes]:
        simulator = ScradaSimulator(seed=7, clock=FakeClock())
        company = simulator.add_company("Épicerie Dupont", documents=3, peppol=1)
        journal, book = company.journals[0], company.cash_books[0]
        return (
            company.id + company.tax_number,
            simulator.document_bytes(company.id, journal.id, journal.documents[-1].id),
            simulator.document_bytes(company.id, book.id, book.documents[-1].id),
        )

    assert build() == build()
    other = ScradaSimulator(seed=8, clock=FakeClock()).add_company("Épicerie Dupont")
    assert other.tax_number != build()[0][-10:]


def test_many_companies_have_valid_numbers() -> None:
    simulator = ScradaSimulator()
    numbers = {simulator.add_company(f"Shop {n}").tax_number for n in range(300)}
    assert len(numbers) == 300 and all(is_company_number(n) for n in numbers)


# --- webhooks --------------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]]
    statuses: list[int]  # answers to give, in order; the last one repeats


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[tuple[dict[str, str], bytes]] = []
    statuses: list[int] = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", received, statuses)
    server.shutdown()
    server.server_close()


def test_webhook_is_signed_and_retried_until_accepted(
    sim: ScradaSimulator, receiver: Receiver
) -> None:
    company = sim.add_company("Cave Peeters", documents=1)
    journal = company.journals[0]
    body = sim.document_bytes(company.id, journal.id, journal.documents[0].id)
    receiver.statuses[:] = [500, 503, 200]
    status = sim.send_webhook(
        receiver.url,
        topic="journal/newInvoiceUbl",
        company_id=company.id,
        body=body,
        secret="s3cret",
        backoff=0.01,
    )
    assert status == 200
    assert [h["x-scrada-attempt"] for h, _ in receiver.received] == ["1", "2", "3"]
    headers, received = receiver.received[-1]
    assert received == body
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-scrada-hmac-sha256"] == expected
    assert headers["x-scrada-topic"] == "journal/newInvoiceUbl"
    assert headers["x-scrada-company-id"] == company.id
    assert headers["x-scrada-triggered-at"] == "2026-11-18T11:06:40Z"
    assert len({h["x-scrada-event-id"] for h, _ in receiver.received}) == 1  # one event, retried


def test_webhook_gives_up_after_attempts(sim: ScradaSimulator, receiver: Receiver) -> None:
    receiver.statuses[:] = [500]
    status = sim.send_webhook(
        receiver.url,
        topic="cashBook/newStatementCoda",
        company_id="c",
        body=b"0000",
        secret="k",
        event_id="event-1",
        attempts=3,
        backoff=0.01,
    )
    assert status == 500
    assert [(h["x-scrada-attempt"], h["x-scrada-event-id"]) for h, _ in receiver.received] == [
        ("1", "event-1"),
        ("2", "event-1"),
        ("3", "event-1"),
    ]
    unused = ScradaSimulator()
    port = unused.start().rsplit(":", 1)[1]
    unused.stop()  # nothing listens there any more
    never = sim.send_webhook(
        f"http://127.0.0.1:{port}/hook",
        topic="peppolInboundDocument/new",
        company_id="c",
        body=b"{}",
        secret="k",
        attempts=2,
        backoff=0.01,
    )
    assert never == 0


# --- the command line ------------------------------------------------------------------------


def test_command_line_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webapp.simulators.scrada_cli",
            "--port",
            "0",
            "--companies",
            "3",
            "--documents",
            "2",
            "--api-key",
            "K",
            "--password",
            "P",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Scrada simulator on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].strip()
        answer = httpx.get(
            f"{url}/v1/partner/company", headers={"X-API-KEY": "K", "X-PASSWORD": "P"}
        )
        assert answer.json()["__count"] == 3
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
