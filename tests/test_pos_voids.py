"""Voids (issue 17): a whole sale of the open day cancelled by a signed void ticket, on a register
joined to a real office listener; refused once anything was given back or the day is closed, with
nothing written; the tickets page's button."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Client
from tests.pos_fixtures import post_pairs, rows, sync
from tests.test_pos_refunds import ask_then_confirm, counts, payload
from webapp.pos import closures, refunds, selling, ticket_rules, trail, trail_verify
from webapp.services import Services


def void(quantity: str = "-1", total: str = "-14.50", **changes: Any) -> dict[str, Any]:
    return payload(quantity, total, **{"kind": "void", "refunds": "C3-000001", **changes})


def test_the_rules_take_a_void_of_the_whole_sale_only() -> None:
    checked = ticket_rules.check_ticket(void(), lambda _code: 0)
    assert (checked.kind, checked.refunds, checked.total) == (
        "void",
        "C3-000001",
        Decimal("-14.50"),
    )
    sold = payload("2", "29.00", number="C3-000001")
    ticket_rules.check_void(void("-2", "-29.00"), sold, [])
    for wrong, earlier in ((void("-1"), []), (void("-2", "-29.00"), [void()])):
        with pytest.raises(ticket_rules.TicketError):
            ticket_rules.check_void(wrong, sold, earlier)
    with pytest.raises(ticket_rules.TicketError):  # a refund is never voided
        ticket_rules.check_void(void(), void(number="C3-000001"), [])


def test_void_a_sale_then_nothing_more(joined: Services, office_services: Services) -> None:
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    lines = [{"article": "VR1", "quantity": "2"}, {"article": "VB1"}]
    sold = selling.record_ticket(joined.store, {"lines": lines}, signer)
    voided = refunds.record_void(joined.store, sold.number, signer)
    assert voided.payload["kind"] == "void" and voided.payload["refunds"] == sold.number
    assert Decimal(voided.total) == -Decimal(sold.total)
    assert [line["quantity"] for line in voided.payload["lines"]] == ["-2", "-1"]
    with joined.store.read() as db:
        totals = trail.grand_totals(db)
        keys = {signer.key_id: signer.public_key}
        assert trail_verify.verify_register(db, 3, keys) == []
        assert refunds.voidable(db) == set()
    assert totals["sales"] == sold.total and totals["refunds"] == sold.total
    kinds = rows(joined.store, "SELECT kind FROM pos_trail WHERE chain = 'ticket' ORDER BY seq")
    assert [row["kind"] for row in kinds] == ["sale", "void"]
    before = counts(joined)
    for again in (
        lambda: refunds.record_void(joined.store, sold.number, signer),
        lambda: refunds.record_refund(joined.store, sold.number, refunds.ALL, signer),
        lambda: refunds.record_void(joined.store, voided.number, signer),  # a void itself
    ):
        with pytest.raises(selling.TicketError):
            again()
    assert counts(joined) == before

    assert sync(joined).pushed.rejected == []
    documents = rows(
        office_services.store,
        "SELECT number, total_incl_vat FROM documents WHERE kind = 'ticket' ORDER BY id",
    )
    assert documents == [
        {"number": sold.number, "total_incl_vat": float(sold.total)},
        {"number": voided.number, "total_incl_vat": -float(sold.total)},
    ]


def test_no_void_once_refunded_or_once_the_day_is_closed(joined: Services) -> None:
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    refunded = selling.record_ticket(
        joined.store, {"lines": [{"article": "VR1", "quantity": "2"}]}, signer
    )
    refunds.record_refund(joined.store, refunded.number, {"VR1": Decimal(1)}, signer)
    closed = selling.record_ticket(joined.store, {"lines": [{"article": "VB1"}]}, signer)
    with joined.store.read() as db:
        assert refunds.voidable(db) == {closed.number}
    before = counts(joined)
    with pytest.raises(selling.TicketError) as refused:
        refunds.record_void(joined.store, refunded.number, signer)
    assert "refunded" in refused.value.message
    closures.close(joined.store, signer, 3, "day")
    with joined.store.read() as db:
        assert refunds.voidable(db) == set()
    before = counts(joined)
    with pytest.raises(selling.TicketError) as refused:
        refunds.record_void(joined.store, closed.number, signer)
    assert "closed day" in refused.value.message
    assert counts(joined) == before
    # The day closed, a refund is still the way to give money back.
    refunds.record_refund(joined.store, closed.number, refunds.ALL, signer)


def test_the_void_button(ui: Client, joined: Services) -> None:
    signer = selling.signer_for(joined.store, joined.vault)
    sold = selling.record_ticket(joined.store, {"lines": [{"article": "VR1"}]}, signer)
    listing = ui.get("/pos/tickets").text
    assert f'data-void="{sold.number}"' in listing
    after = ask_then_confirm(ui, joined, sold.number, "void")
    listing = ui.get("/pos/tickets").text
    assert f'data-void="{sold.number}"' not in listing and 'data-kind="void"' in listing
    again = post_pairs(ui, f"/pos/tickets/{sold.number}/void", [("confirm", "yes")])
    assert again.status_code == 422 and 'id="refund-error"' in again.text
    assert counts(joined) == after
