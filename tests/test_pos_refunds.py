"""Refunds (issue 17): the shared rules, a refund recorded and signed on a register joined to a
real office listener, the office's document, the tickets page's button, and bad input refused
with nothing written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Client
from tests.pos_fixtures import post_pairs, rows, sync
from webapp.pos import refunds, selling, ticket_rules, trail, trail_keys, trail_verify
from webapp.services import Services

LINE = {"article": "VR1", "label": "Vin rouge", "unit_price_incl_vat": "14.50", "vat_rate": "20"}


def payload(quantity: str, total: str, **changes: Any) -> dict[str, Any]:
    found = {
        "number": "C3-000002",
        "sold_at": "2026-11-25T10:03:00Z",
        "lines": [{**LINE, "quantity": quantity}],
        "payments": [{"method": "CASH", "amount": total}],
        "total_incl_vat": total,
    }
    found.update(changes)
    return found


def refund(quantity: str = "-1", total: str = "-14.50", **changes: Any) -> dict[str, Any]:
    return payload(quantity, total, **{"kind": "refund", "refunds": "C3-000001", **changes})


def places(_code: str) -> int:
    return 0


def test_the_rules_accept_a_refund() -> None:
    checked = ticket_rules.check_ticket(refund(), places)
    assert (checked.kind, checked.refunds, checked.total) == (
        "refund",
        "C3-000001",
        Decimal("-14.50"),
    )
    assert checked.payments[0].amount == Decimal("-14.50")
    # All in cash: no payment at all is accepted too.
    assert ticket_rules.check_ticket(refund(payments=[]), places).payments == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"lines": [{**LINE, "quantity": "1"}]},
            "lines[1].quantity",
        ),  # a line sold, not given back
        ({"payments": [{"method": "CASH", "amount": "14.50"}]}, "payments[1].amount"),
        ({"refunds": ""}, "refunds"),
        ({"refunds": "C3-000002"}, "refunds"),  # itself
        ({"kind": "gift"}, "kind"),
    ],
)
def test_the_rules_refuse_a_bad_refund(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ticket_rules.TicketError) as refused:
        ticket_rules.check_ticket(refund(**changes), places)
    assert refused.value.params["field"] == field


def test_a_sale_still_refuses_a_negative_line_or_payment() -> None:
    with pytest.raises(ticket_rules.TicketError) as line:
        ticket_rules.check_ticket(payload("-1", "-14.50", payments=[]), places)
    assert line.value.params["field"] == "lines[1].quantity"
    with pytest.raises(ticket_rules.TicketError) as paid:
        ticket_rules.check_ticket(
            payload("1", "14.50", payments=[{"method": "CASH", "amount": "-1"}]), places
        )
    assert paid.value.params["field"] == "payments[1].amount"
    with pytest.raises(ticket_rules.TicketError):  # only a refund names a ticket
        ticket_rules.check_ticket(payload("1", "14.50", refunds="C3-000001"), places)


def test_never_more_than_sold_minus_earlier_refunds() -> None:
    sold = payload("3", "43.50", number="C3-000001")
    first = refund("-2", "-29.00")
    ticket_rules.check_refund_quantities(first, sold, [])
    ticket_rules.check_refund_quantities(refund(), sold, [first])
    with pytest.raises(ticket_rules.TicketError) as refused:
        ticket_rules.check_refund_quantities(refund("-2", "-29.00"), sold, [first])
    assert refused.value.params["most"] == "1"
    with pytest.raises(ticket_rules.TicketError):  # a refund is never refunded
        ticket_rules.check_refund_quantities(refund(), refund(number="C3-000001"), [])


def counts(services: Services) -> tuple[int, int, int]:
    found = rows(
        services.store,
        "SELECT (SELECT count(*) FROM pos_tickets) AS t,"
        " (SELECT count(*) FROM MICPTRACK WHERE kind = 'ticket') AS m,"
        " (SELECT count(*) FROM pos_trail WHERE chain = 'ticket') AS s",
    )[0]
    return found["t"], found["m"], found["s"]


def test_sell_refund_all_sync(joined: Services, office_services: Services) -> None:
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    sold = selling.record_ticket(
        joined.store, {"lines": [{"article": "VR1", "quantity": "2"}, {"article": "VB1"}]}, signer
    )
    given_back = refunds.record_refund(joined.store, sold.number, refunds.ALL, signer)
    assert Decimal(given_back.total) == -Decimal(sold.total)
    assert given_back.payload["refunds"] == sold.number
    assert [line["quantity"] for line in given_back.payload["lines"]] == ["-2", "-1"]
    with joined.store.read() as db:
        totals = trail.grand_totals(db)
        signer_keys = {signer.key_id: signer.public_key}
        assert trail_verify.verify_register(db, 3, signer_keys) == []
    assert totals["sales"] == sold.total and totals["refunds"] == sold.total
    kinds = rows(
        joined.store, "SELECT kind, ref FROM pos_trail WHERE chain = 'ticket' ORDER BY seq"
    )
    assert kinds == [
        {"kind": "sale", "ref": sold.number},
        {"kind": "refund", "ref": given_back.number},
    ]
    # Nothing is left to give back: a second refund is refused, nothing written.
    before = counts(joined)
    with pytest.raises(selling.TicketError):
        refunds.record_refund(joined.store, sold.number, refunds.ALL, signer)
    assert counts(joined) == before

    assert sync(joined).pushed.rejected == []  # both tickets, each with its signed row
    documents = rows(
        office_services.store,
        "SELECT number, total_incl_vat FROM documents WHERE kind = 'ticket' ORDER BY id",
    )
    assert documents == [
        {"number": sold.number, "total_incl_vat": float(sold.total)},
        {"number": given_back.number, "total_incl_vat": -float(sold.total)},
    ]
    quantities = rows(
        office_services.store,
        "SELECT l.quantity FROM document_lines l JOIN documents d ON d.id = l.document_id"
        " WHERE d.number = ? ORDER BY l.line_no",
        [given_back.number],
    )
    assert [row["quantity"] for row in quantities] == [-2, -1]


def test_part_of_a_ticket_then_too_much(joined: Services) -> None:
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    sold = selling.record_ticket(
        joined.store, {"lines": [{"article": "VR1", "quantity": "3"}]}, signer
    )
    refunds.record_refund(joined.store, sold.number, {"VR1": Decimal(2)}, signer)
    before = counts(joined)
    for wanted in ({"VR1": Decimal(2)}, {"VB1": Decimal(1)}):
        with pytest.raises(selling.TicketError):
            refunds.record_refund(joined.store, sold.number, wanted, signer)
    with pytest.raises(selling.TicketError) as unknown:
        refunds.record_refund(joined.store, "C3-999999", refunds.ALL, signer)
    assert unknown.value.params["number"] == "C3-999999"
    assert counts(joined) == before


def test_the_office_refuses_a_refund_of_a_ticket_it_does_not_have(
    joined: Services,
    office_services: Services,
) -> None:
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    sold = selling.record_ticket(joined.store, {"lines": [{"article": "VR1"}]}, signer)
    given_back = refunds.record_refund(joined.store, sold.number, refunds.ALL, signer)
    # An intruder's hand, or a lost sale: the office never heard of the ticket refunded.
    with joined.store.write() as db:
        db.execute("DELETE FROM MICPTRACK WHERE id = ?", [sold.id])
    sync(joined)
    state = rows(
        joined.store, "SELECT state, last_error FROM MICPTRACK WHERE id = ?", [given_back.id]
    )
    assert state[0]["state"] == "rejected" and sold.number in state[0]["last_error"]
    assert rows(office_services.store, "SELECT id FROM documents WHERE kind = 'ticket'") == []


def ask_then_confirm(ui: Client, joined: Services, number: str, action: str) -> Any:
    """The tickets page's button for ``action`` (refund, void): the first POST asks and writes
    nothing, the confirmed one records one ticket (its row, its record); the counts after it."""
    before = counts(joined)
    asked = post_pairs(ui, f"/pos/tickets/{number}/{action}", [])
    assert asked.status_code == 200 and f'id="{action}-confirm"' in asked.text
    assert counts(joined) == before  # asking writes nothing
    done = post_pairs(ui, f"/pos/tickets/{number}/{action}", [("confirm", "yes")])
    assert done.status_code in (200, 303)
    after = counts(joined)
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
    return after


def test_the_refund_button(ui: Client, joined: Services) -> None:
    signer = selling.signer_for(joined.store, joined.vault)
    sold = selling.record_ticket(joined.store, {"lines": [{"article": "VR1"}]}, signer)
    page_html = ui.get("/pos/tickets").text
    assert f'data-refund="{sold.number}"' in page_html
    after = ask_then_confirm(ui, joined, sold.number, "refund")
    listing = ui.get("/pos/tickets").text
    refund_number = rows(joined.store, "SELECT number FROM pos_tickets ORDER BY number")[-1][
        "number"
    ]
    assert f'data-ticket="{refund_number}"' in listing
    assert f'data-refund="{refund_number}"' not in listing  # a refund has no refund button
    again = post_pairs(ui, f"/pos/tickets/{sold.number}/refund", [("confirm", "yes")])
    assert again.status_code == 422 and 'id="refund-error"' in again.text
    unknown = post_pairs(ui, "/pos/tickets/C3-999999/refund", [("confirm", "yes")])
    assert unknown.status_code == 422
    assert counts(joined) == after
    joined.vault.lock()
    locked = post_pairs(ui, f"/pos/tickets/{refund_number}/refund", [("confirm", "yes")])
    assert locked.status_code in (409, 422)
    assert trail_keys  # the key module is the one that refuses a locked vault


def test_money_given_back_by_the_method_chosen(ui: Client, joined: Services) -> None:
    signer = selling.signer_for(joined.store, joined.vault)
    sold = [
        selling.record_ticket(joined.store, {"lines": [{"article": "VR1"}]}, signer)
        for _ in range(3)
    ]
    asked = post_pairs(ui, f"/pos/tickets/{sold[0].number}/refund", [])
    assert 'id="give-back-method"' in asked.text
    assert asked.text.index('value="CASH"') < asked.text.index('value="CARD"')  # cash first
    before = counts(joined)
    unknown = post_pairs(
        ui, f"/pos/tickets/{sold[0].number}/refund", [("confirm", "yes"), ("method", "GIFT")]
    )
    assert unknown.status_code == 422 and "GIFT" in unknown.text
    assert counts(joined) == before  # refused: nothing written
    done = post_pairs(
        ui, f"/pos/tickets/{sold[0].number}/refund", [("confirm", "yes"), ("method", "card")]
    )
    assert done.status_code in (200, 303)
    voided = refunds.record_void(joined.store, sold[1].number, signer, method="TRANSFER")
    in_cash = refunds.record_refund_all(joined.store, sold[2].number, signer)
    methods = {
        row["number"]: row["method"]
        for row in rows(
            joined.store,
            "SELECT number, json_extract(payload, '$.payments[0].method') AS method"
            " FROM pos_tickets WHERE json_extract(payload, '$.refunds') IS NOT NULL",
        )
    }
    assert methods[voided.number] == "TRANSFER" and methods[in_cash.number] == "CASH"
    assert sorted(methods.values()) == ["CARD", "CASH", "TRANSFER"]  # the code as stored
