"""The simulator's documented-only mode: just the calls of Scrada's public API v1.24, so the pull can be
tried against what the real service offers (no partner feed), and partner-level webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from lxml import etree

from webapp.simulators.scrada import PEPPOL_LIST_SIZE, ScradaSimulator

AUTH = {"X-API-KEY": "demo-key", "X-PASSWORD": "demo-password"}
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@pytest.fixture
def sim() -> Iterator[ScradaSimulator]:
    simulator = ScradaSimulator(rate_limit=None, documented_only=True)
    simulator.start()
    yield simulator
    simulator.stop()


def api(simulator: ScradaSimulator) -> httpx.Client:
    return httpx.Client(base_url=f"{simulator.url}/v1", headers=AUTH, timeout=10)


def test_the_assumed_partner_feed_is_not_there(sim: ScradaSimulator) -> None:
    company = sim.add_company("Boulangerie Dupont", documents=2)
    journal, cash_book = company.journals[0], company.cash_books[0]
    document = journal.documents[0]
    with api(sim) as client:
        for path in (
            "/partner/company",
            f"/company/{company.id}/journal/{journal.id}/document",
            f"/company/{company.id}/journal/{journal.id}/document/{document.id}",
            f"/company/{company.id}/cashBook/{cash_book.id}/statement",
        ):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert set(answer.json()) == {"errorCode", "defaultFormat", "innerErrors"}


def test_documented_calls_answer_with_documented_shapes(sim: ScradaSimulator) -> None:
    company = sim.add_company("Boulangerie Dupont", documents=2)
    cash_book = company.cash_books[0]
    with api(sim) as client:
        details = client.get(f"/company/{company.id}").json()
        assert details["taxNumber"] == company.tax_number
        assert {"address", "email", "vatNumber", "code", "name"} <= set(details)
        assert details["address"]["countryCode"] == "BE"
        journals = client.get(f"/company/{company.id}/journal").json()
        assert journals[0]["lastLineDate"].endswith("T00:00:00")  # a date-time, as documented
        books = client.get(f"/company/{company.id}/cashBook").json()
        assert books[0]["iban"] == cash_book.iban
        one = client.get(f"/company/{company.id}/cashBook/{cash_book.id}").json()
        assert one["currentBalance"] == cash_book.balance / 100
        assert one["lastLineDate"].endswith("T00:00:00")


def test_the_peppol_inbox_lists_the_next_ones_as_documents_are_confirmed(
    sim: ScradaSimulator,
) -> None:
    company = sim.add_company("Épicerie Martin", peppol=PEPPOL_LIST_SIZE + 5)
    base = f"/company/{company.id}/peppol/inbound/document"
    taken: list[str] = []
    with api(sim) as client:
        for _round in range(10):
            listed = client.get(f"{base}/unconfirmed").json()
            if not listed["results"]:
                break
            assert len(listed["results"]) <= PEPPOL_LIST_SIZE
            first = listed["results"][0]
            assert first["peppolReceiverID"] == f"0208:{company.tax_number}"
            for entry in listed["results"]:
                body = client.get(f"{base}/{entry['id']}")
                assert etree.fromstring(body.content).tag.endswith("Invoice")
                assert client.put(f"{base}/{entry['id']}/confirm").status_code == 200
                taken.append(entry["id"])
    assert len(taken) == len(set(taken)) == PEPPOL_LIST_SIZE + 5


class _Receiver(BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    seen: list[tuple[dict[str, str], bytes]] = []
    handler = type("Receiver", (_Receiver,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/scrada", seen
    server.shutdown()
    server.server_close()


def test_partner_level_webhooks_name_the_partner_and_the_document_names_the_shop(
    sim: ScradaSimulator, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, seen = receiver
    company = sim.add_company("Fromagerie Lambert", documents=1)
    journal = company.journals[0]
    event = sim.document_event(company.id, journal.id, journal.documents[0].id, partner_level=True)
    assert sim.send_event(url, event, secret="s3cret") == 200
    headers, body = seen[-1]
    assert headers["x-scrada-topic"] == "journal/newInvoiceUbl"
    assert headers["x-scrada-company-id"] == sim.partner_id != company.id
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-scrada-hmac-sha256"] == expected
    supplier = etree.fromstring(body).find("cac:AccountingSupplierParty/cac:Party", NS)
    assert supplier is not None
    endpoint = supplier.find("cbc:EndpointID", NS)
    assert endpoint is not None
    assert endpoint.get("schemeID") == "0208" and endpoint.text == company.tax_number


def test_purchase_invoice_and_lines_missing_events(sim: ScradaSimulator) -> None:
    company = sim.add_company("Boucherie Leroy", documents=1)
    ubl = sim.purchase_invoice_event(company.id)
    customer = etree.fromstring(ubl.body).find("cac:AccountingCustomerParty/cac:Party", NS)
    assert customer is not None and ubl.topic == "purchaseInvoice/new"
    pdf = sim.purchase_invoice_event(company.id, pdf=True, partner_level=True)
    assert pdf.body.startswith(b"%PDF-") and pdf.body.rstrip().endswith(b"%%EOF")
    assert pdf.company_id == sim.partner_id
    journal = company.journals[0]
    missing = sim.lines_missing_event(company.id, journal.id, journal.documents[0].day)
    assert missing.topic == "journal/linesMissing"
    assert json.loads(missing.body)["journalID"] == journal.id


def test_the_full_mode_still_serves_the_partner_feed() -> None:
    simulator = ScradaSimulator(rate_limit=None)
    simulator.start()
    try:
        company = simulator.add_company("Boulangerie Dupont", documents=1)
        with api(simulator) as client:
            assert client.get("/partner/company").status_code == 200
            journal = company.journals[0]
            listed = client.get(f"/company/{company.id}/journal/{journal.id}/document")
            assert listed.status_code == 200 and listed.json()["__count"] == 1
    finally:
        simulator.stop()
