"""Webhooks are filed by the company their document names, never by x-scrada-company-id.

The real webhook app (webapp.scrada.webhook.WebhookApp) runs on a real 127.0.0.1 socket in this
process, and the Scrada simulator builds, signs and sends the events as Scrada does, most of them
partner-level (the header is the partner's id for every shop).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from webapp import history, history_queries, i18n
from webapp.scrada import alerts, identify, records
from webapp.scrada import config as scrada_config
from webapp.scrada.webhook import WebhookApp
from webapp.services import Services
from webapp.simulators.scrada import ScradaSimulator, WebhookEvent
from webapp.sockets import bind_socket

SECRET = "webhook secret for tests"


class HookListener:
    """WebhookApp on a real socket, served by uvicorn in a thread (lifespan off)."""

    def __init__(self, services: Services) -> None:
        sock = bind_socket("127.0.0.1", 0, fallback=False)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/scrada"
        config = uvicorn.Config(
            WebhookApp(services), log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Hooks:
    """The simulator sending to the listener, and what the test reads back."""

    def __init__(self, services: Services, sim: ScradaSimulator, root: Path) -> None:
        self.services, self.sim, self.root = services, sim, root
        self.listener = HookListener(services)
        self.count = 0

    def send(self, event: WebhookEvent, event_id: str | None = None) -> int:
        self.count += 1
        return self.sim.send_event(
            self.listener.url, event, secret=SECRET, event_id=event_id or f"evt-{self.count}"
        )

    def companies(self) -> dict[str, records.Company]:
        return {company.id: company for company in records.companies(self.services.store)}

    def files(self) -> list[str]:
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and ".relais-tmp" not in path.parts
        )

    def deliveries(self) -> list[dict[str, Any]]:
        with self.services.store.read() as db:
            rows = db.execute("SELECT * FROM scrada_deliveries ORDER BY id").fetchall()
        return [dict(row) for row in rows]


@pytest.fixture
def sim() -> Iterator[ScradaSimulator]:
    simulator = ScradaSimulator(rate_limit=None)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def hooks(services: Services, sim: ScradaSimulator, tmp_path: Path) -> Iterator[Hooks]:
    configure(services, tmp_path / "compta")
    made = Hooks(services, sim, tmp_path / "compta")
    yield made
    made.listener.stop()


def configure(services: Services, root: Path, **change: Any) -> None:
    if not services.vault.is_initialized:
        services.vault.create("webhook filing passphrase")
    scrada_config.apply(
        services.store,
        services.vault,
        scrada_config.ConfigChange(root=str(root), webhook_secret=SECRET, **change),
    )


def receipt_event(sim: ScradaSimulator, company: Any, **options: Any) -> WebhookEvent:
    journal = company.journals[0].id
    return sim.document_event(company.id, journal, sim.add_document(company.id, journal), **options)


def statement_event(sim: ScradaSimulator, company: Any, **options: Any) -> WebhookEvent:
    book = company.cash_books[0].id
    return sim.document_event(company.id, book, sim.add_document(company.id, book), **options)


def without_company(event: WebhookEvent) -> WebhookEvent:
    """The same receipt with every Belgian identifier of its parties taken out."""
    body = re.sub(rb"<cbc:EndpointID schemeID=\"0208\">[^<]*</cbc:EndpointID>", b"", event.body)
    body = re.sub(rb"<cac:PartyTaxScheme>.*?</cac:PartyTaxScheme>", b"", body, flags=re.S)
    body = re.sub(rb"<cbc:CompanyID schemeID=\"0208\">[^<]*</cbc:CompanyID>", b"", body)
    assert body != event.body
    return WebhookEvent(event.topic, event.company_id, body)


def known(services: Services, company: Any, **fields: Any) -> None:
    """The company as the pull knows it: its Scrada id and company number."""
    with services.store.write() as db:
        records.upsert_company(
            db,
            company.id,
            source="partner",
            selected=fields.pop("selected", True),
            company_number=company.tax_number,
            name=company.name,
        )


# -- daily receipts and cash books ----------------------------------------------------------------


def test_partner_level_receipts_go_to_each_shop_not_to_the_partner(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    dupont = sim.add_company("Boulangerie Dupont")
    cafe = sim.add_company("Café du Centre")
    assert hooks.send(receipt_event(sim, dupont, partner_level=True)) == 200
    assert hooks.send(receipt_event(sim, cafe, partner_level=True)) == 200

    companies = hooks.companies()
    assert sim.partner_id not in companies, "the partner's header made no company"
    adopted = {c.company_number: c for c in companies.values()}
    assert set(adopted) == {dupont.tax_number, cafe.tax_number}
    assert adopted[dupont.tax_number].id == f"doc-{dupont.tax_number}"
    assert adopted[dupont.tax_number].name == "Boulangerie Dupont"
    assert all(company.selected for company in companies.values()), "new companies: on"
    folders = {name.split("/")[0] for name in hooks.files()}
    assert folders == {dupont.tax_number, cafe.tax_number}, "one folder per shop"
    with hooks.services.store.read() as db:
        filed = dict(db.execute("SELECT event_id, filed_under FROM scrada_webhook_events"))
    assert filed == {"evt-1": f"doc-{dupont.tax_number}", "evt-2": f"doc-{cafe.tax_number}"}


def test_a_known_company_is_found_by_its_number_whatever_the_header(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    dupont = sim.add_company("Boulangerie Dupont")
    other = sim.add_company("Café du Centre")
    known(hooks.services, dupont)
    known(hooks.services, other)
    event = receipt_event(sim, dupont)
    # Even a header naming another known client does not move the document.
    assert hooks.send(WebhookEvent(event.topic, other.id, event.body)) == 200
    (row,) = hooks.deliveries()
    assert (row["company_id"], row["state"]) == (dupont.id, "delivered")
    assert set(hooks.companies()) == {dupont.id, other.id}


def test_a_statement_is_filed_by_its_holder_or_by_the_cash_books_account(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    shop = sim.add_company("Boucherie Martin")
    known(hooks.services, shop)
    assert hooks.send(statement_event(sim, shop, partner_level=True)) == 200
    # The holder's number blanked (record 0, columns 72-82): only the account is left.
    event = statement_event(sim, shop, partner_level=True)
    lines = event.body.split(b"\r\n")
    lines[0] = lines[0][:71] + b"0" * 11 + lines[0][82:]
    blanked = WebhookEvent(event.topic, event.company_id, b"\r\n".join(lines))
    with hooks.services.store.write() as db:
        records.upsert_book(db, shop.id, "cash-book", shop.cash_books[0].id, "Caisse", True, True)
        identify.set_book_iban(db, shop.id, shop.cash_books[0].id, shop.cash_books[0].iban)
    assert hooks.send(blanked) == 200
    rows = hooks.deliveries()
    assert [(row["company_id"], row["state"]) for row in rows] == [(shop.id, "delivered")] * 2
    assert all(name.endswith(".cod") for name in hooks.files())


def test_new_companies_off_lists_the_shop_without_delivering(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    configure(hooks.services, hooks.root, new_companies=False, scope="selected")
    shop = sim.add_company("Épicerie Nouvelle")
    answer = post(hooks, receipt_event(sim, shop, partner_level=True), "evt-off")
    assert answer.json()["status"] == "company not selected"
    (company,) = hooks.companies().values()
    assert (company.company_number, company.selected) == (shop.tax_number, False)
    assert hooks.files() == []


def test_a_receipt_naming_no_company_is_quarantined_with_the_reason(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    shop = sim.add_company("Boulangerie Dupont")
    event = without_company(receipt_event(sim, shop, partner_level=True))
    assert post(hooks, event, "evt-a").json()["status"] == "quarantined"
    assert hooks.companies() == {}, "no company from the header"
    (quarantined, reason) = hooks.files()
    assert quarantined.startswith("_quarantine/unidentified_")
    assert reason == quarantined + ".reason.txt"
    text = (hooks.root / reason).read_text(encoding="utf-8")
    assert "ne mentionne aucun numéro d'entreprise ni numéro de TVA belge" in text
    again = post(hooks, event, "evt-b").json()
    assert again["status"] == "skipped", "the same document sent again is quarantined once"
    assert len(hooks.deliveries()) == 1


def test_a_broken_document_under_an_unknown_header_makes_no_company(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    answer = post(hooks, WebhookEvent("journal/newInvoiceUbl", "never-seen", b"<Invoice"), "x")
    assert answer.status_code == 200 and answer.json()["status"] == "quarantined"
    assert hooks.companies() == {}
    (row,) = hooks.deliveries()
    assert row["company_id"] == "unidentified" and row["reason"]


def test_a_broken_document_under_a_known_client_header_is_quarantined_under_it(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    shop = sim.add_company("Boulangerie Dupont")
    known(hooks.services, shop)
    answer = post(hooks, WebhookEvent("journal/newInvoiceUbl", shop.id, b"<Invoice"), "b-1")
    assert answer.json() | {"path": ""} == {"status": "quarantined", "company": shop.id, "path": ""}
    assert hooks.files()[0].startswith(f"_quarantine/{shop.tax_number}_")


def test_an_account_no_company_has_makes_no_company(hooks: Hooks, sim: ScradaSimulator) -> None:
    shop = sim.add_company("Boucherie Martin")
    event = statement_event(sim, shop, partner_level=True)
    lines = event.body.split(b"\r\n")
    lines[0] = lines[0][:71] + b"0" * 11 + lines[0][82:]
    answer = post(hooks, WebhookEvent(event.topic, event.company_id, b"\r\n".join(lines)), "c")
    assert answer.json()["status"] == "quarantined"
    assert hooks.companies() == {}
    reason = next(name for name in hooks.files() if name.endswith(".reason.txt"))
    assert "n'appartient à aucune société connue" in (hooks.root / reason).read_text(
        encoding="utf-8"
    )


def test_requests_it_cannot_take_are_refused_before_anything_is_written(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    event = receipt_event(sim, sim.add_company("Boulangerie Dupont"), partner_level=True)
    assert post(hooks, event, "").status_code == 400, "no event id"
    forged = httpx.post(
        hooks.listener.url,
        content=event.body,
        headers={"x-scrada-event-id": "f", "x-scrada-hmac-sha256": "0" * 64},
        timeout=30,
    )
    assert forged.status_code == 401
    change = scrada_config.ConfigChange(root="")
    scrada_config.apply(hooks.services.store, hooks.services.vault, change)
    assert post(hooks, event, "no-root").status_code == 503, "no root folder: Scrada retries"
    assert hooks.companies() == {} and not hooks.root.exists()
    with hooks.services.store.read() as db:
        assert db.execute("SELECT count(*) FROM scrada_webhook_events").fetchone()[0] == 0


# -- purchase invoices ----------------------------------------------------------------------------


def test_a_purchase_invoice_goes_to_its_customer_in_a_purchase_book(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    shop = sim.add_company("Boulangerie Dupont")
    known(hooks.services, shop)
    assert hooks.send(sim.purchase_invoice_event(shop.id, partner_level=True)) == 200
    (row,) = hooks.deliveries()
    assert (row["company_id"], row["book_kind"], row["state"]) == (
        shop.id,
        "purchase-invoices",
        "delivered",
    )
    (name,) = hooks.files()
    assert name.startswith(f"{shop.tax_number}/") and "/Achats/" in name and name.endswith(".xml")
    (run,) = history_queries.recent_runs(hooks.services.store, limit=5)
    (item,) = history_queries.run_items(hooks.services.store, run["id"])
    assert item["kind"] == "purchase_invoice"
    assert history.kind_label("purchase_invoice") == "factures d'achat"


def test_a_pdf_purchase_invoice_needs_a_known_client_header(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    shop = sim.add_company("Boulangerie Dupont")
    known(hooks.services, shop)
    partner_pdf = sim.purchase_invoice_event(shop.id, pdf=True, partner_level=True)
    assert post(hooks, partner_pdf, "pdf-1").json()["status"] == "quarantined"
    (pdf, reason) = hooks.files()
    assert pdf.startswith("_quarantine/unidentified_") and pdf.endswith(".pdf")
    assert "est un PDF" in (hooks.root / reason).read_text(encoding="utf-8")

    client_pdf = sim.purchase_invoice_event(shop.id, pdf=True)
    assert client_pdf.company_id == shop.id
    answer = post(hooks, client_pdf, "pdf-2").json()
    assert (answer["status"], answer["company"]) == ("delivered", shop.id)
    filed = [name for name in hooks.files() if not name.startswith("_")]
    assert len(filed) == 1 and filed[0].endswith(".pdf")
    assert (hooks.root / filed[0]).read_bytes() == client_pdf.body


def test_a_header_seen_in_front_of_another_shop_is_not_trusted_for_a_pdf(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    partner_shop = sim.add_company("Fiduciaire (also a client)")
    client = sim.add_company("Café du Centre")
    known(hooks.services, partner_shop)
    event = receipt_event(sim, client)
    # Its header names the first company, its document the second: the header is a partner's.
    assert hooks.send(WebhookEvent(event.topic, partner_shop.id, event.body)) == 200
    pdf = sim.purchase_invoice_event(partner_shop.id, pdf=True)
    assert post(hooks, pdf, "pdf-x").json()["status"] == "quarantined"


# -- journal/linesMissing -------------------------------------------------------------------------


def test_lines_missing_is_an_alert_until_a_newer_receipt(
    hooks: Hooks, sim: ScradaSimulator
) -> None:
    shop = sim.add_company("Boulangerie Dupont", documents=1)
    known(hooks.services, shop)
    journal = shop.journals[0]
    with hooks.services.store.write() as db:
        records.upsert_book(db, shop.id, "daily-receipts", journal.id, journal.name, True, True)
    last_day = journal.documents[-1].day
    event = sim.lines_missing_event(shop.id, journal.id, last_day, partner_level=True)
    assert post(hooks, event, "lm-1").json()["status"] == "alert"
    (alert,) = alerts.open_alerts(hooks.services.store)
    assert (alert.company_id, alert.since, alert.journal_name) == (shop.id, last_day, journal.name)
    with i18n.language("en"):
        assert alert.message == (
            f"Shop Boulangerie Dupont ({journal.name}) has not sent its daily-receipt lines"
            f" since {last_day.isoformat()}."
        )
    with i18n.language("fr"):
        assert alert.since_text == last_day.strftime("%d/%m/%Y")
    later = sim.lines_missing_event(shop.id, journal.id, last_day, partner_level=True)
    assert hooks.send(later, "lm-2") == 200
    assert len(alerts.open_alerts(hooks.services.store)) == 1, "one alert per shop and journal"

    assert hooks.send(receipt_event(sim, shop, partner_level=True)) == 200
    assert alerts.open_alerts(hooks.services.store) == []
    with hooks.services.store.read() as db:
        (cleared,) = db.execute("SELECT cleared_at FROM scrada_alerts").fetchone()
    assert cleared, "closed in the store, not only hidden"


def test_an_older_receipt_does_not_clear_the_alert(hooks: Hooks, sim: ScradaSimulator) -> None:
    shop = sim.add_company("Boulangerie Dupont")
    since = date(2026, 11, 29)
    assert hooks.send(sim.lines_missing_event(shop.id, "j-1", since)) == 200
    journal = shop.journals[0].id
    old = sim.add_document(shop.id, journal, day=date(2026, 11, 20))
    assert hooks.send(sim.document_event(shop.id, journal, old, partner_level=True)) == 200
    assert [a.since for a in alerts.open_alerts(hooks.services.store)] == [since]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[" * 100_000 + b"]" * 100_000,
        b"[1, 2]",
        b'{"journalID": "j", "lastLineDate": "2026-11-29"}',
        b'{"companyID": "../x", "lastLineDate": "2026-11-29"}',
        b'{"companyID": "c-1", "journalID": 5, "lastLineDate": "2026-11-29"}',
        b'{"companyID": "c-1", "lastLineDate": "29/11/2026"}',
        b'{"companyID": "c-1", "lastLineDate": "2026-02-30"}',
    ],
)
def test_a_lines_missing_body_it_cannot_read_is_refused(hooks: Hooks, body: bytes) -> None:
    answer = post(hooks, WebhookEvent("journal/linesMissing", "c-1", body), "bad")
    assert answer.status_code == 400 and answer.json()["error"]
    assert alerts.open_alerts(hooks.services.store) == []
    with hooks.services.store.read() as db:
        assert db.execute("SELECT count(*) FROM scrada_webhook_events").fetchone()[0] == 0


def test_an_alert_is_cleared_by_a_receipt_the_pull_delivered(hooks: Hooks) -> None:
    since = date(2026, 11, 29)
    with hooks.services.store.write() as db:
        records.upsert_company(db, "c-1", source="partner", selected=True, company_number="1")
        records.upsert_company(db, "c-3", source="partner", selected=True, company_number="3")
        records.upsert_company(db, "doc-3", source="webhook", selected=True, company_number="3")
        alerts.raise_lines_missing(db, alerts.LinesMissing("c-1", "j-1", since))
        alerts.raise_lines_missing(db, alerts.LinesMissing("c-2", "", since))
        alerts.raise_lines_missing(db, alerts.LinesMissing("c-3", "j-3", since))
        delivered(db, "c-1", "j-1", "2026-11-30")
        # The same shop adopted from its documents (webhook book): the same company number.
        delivered(db, "doc-3", records.WEBHOOK_BOOK, "2026-11-30")
        delivered(db, "c-2", "j-2", "2026-11-29")  # not after the date: the alert holds
    (left,) = alerts.open_alerts(hooks.services.store)
    assert (left.company_id, left.company_name) == ("c-2", "c-2"), "an unknown shop shows its id"


# -- helpers --------------------------------------------------------------------------------------


def delivered(db: Any, company_id: str, book_id: str, day: str) -> None:
    """A daily receipt recorded as the pull records one."""
    records.record_delivery(
        db,
        records.DeliveryKey(company_id, "daily-receipts", book_id, f"d-{company_id}-{day}"),
        state="delivered",
        path=f"{company_id}-{day}.xml",
        sha256=company_id + day,
        size=1,
        document_date=day,
        source="partner",
        run_id=None,
    )


def post(hooks: Hooks, event: WebhookEvent, event_id: str) -> httpx.Response:
    """One signed attempt, read with its JSON answer (send_event returns the status only)."""
    import hashlib
    import hmac

    signature = hmac.new(SECRET.encode(), event.body, hashlib.sha256).hexdigest()
    headers = {
        "x-scrada-topic": event.topic,
        "x-scrada-company-id": event.company_id,
        "x-scrada-event-id": event_id,
        "x-scrada-hmac-sha256": signature,
    }
    return httpx.post(hooks.listener.url, content=event.body, headers=headers, timeout=30)
