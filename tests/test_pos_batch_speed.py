"""What issue 14 changed for speed keeps the push's behaviour: transactions cut short keep the same
rows, a number's text parsed once still names each field it breaks, and a payload sent as the JSON
text the register kept arrives as it was written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.pos_fixtures import rows, sync
from tests.test_pos_batch import statuses
from tests.test_pos_batch_bulk import Shop, forget, mixed_batch, one_by_one, stored
from tests.test_pos_office import shop, ticket  # noqa: F401 - the office fixture
from webapp.pos import office_records, outbox, protocol, ticket_rules
from webapp.pos.office_records import MIN_OFFERED, _next_size
from webapp.services import Services


def test_transactions_cut_after_one_ticket_keep_the_same_rows(
    shop: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every transaction over its time at once: each takes one record, the next is offered
    fewer, and the office keeps what the per-record path keeps."""
    services, register = shop
    store = services.store
    monkeypatch.setattr(office_records, "CHUNK_SECONDS", 0.0)
    offered: list[int] = []
    chunk = office_records._apply_chunk

    def counted(*args: Any) -> bool:
        offered.append(len(args[2]))
        return chunk(*args)

    monkeypatch.setattr(office_records, "_apply_chunk", counted)
    batch = mixed_batch()
    set_based = office_records.apply_records(store, register, batch)
    kept = stored(store)
    assert offered[0] == len(batch) and offered[1] == MIN_OFFERED
    forget(store)
    one_by_one(monkeypatch)
    assert office_records.apply_records(store, register, batch) == set_based
    assert stored(store) == kept
    assert statuses(set_based).count("applied") >= 10  # its sales at least (the mix grows)


def test_a_transaction_is_offered_what_the_last_one_took() -> None:
    top = office_records.CHUNK_RECORDS
    assert _next_size(top, top, top) == top  # all taken: as many again, never more
    assert _next_size(MIN_OFFERED, MIN_OFFERED, MIN_OFFERED) == 2 * MIN_OFFERED
    assert _next_size(top, top, 100) == 150  # cut by its time: a half more than it took
    assert _next_size(top, top, 1) == MIN_OFFERED
    assert _next_size(top, 7, 7) == top  # the last records of a call


def test_a_number_parsed_before_is_still_refused_in_its_own_field() -> None:
    quantity = ticket_rules.number("1.234", "lines[1].quantity", limit=Decimal(10), places=3)
    assert quantity == Decimal("1.234")
    with pytest.raises(ticket_rules.TicketError) as refused:
        ticket_rules.number("1.234", "payments[2].amount", limit=Decimal(10), places=2)
    assert refused.value.params["field"] == "payments[2].amount"
    with pytest.raises(ticket_rules.TicketError) as over:
        ticket_rules.number("1.234", "lines[3].quantity", limit=Decimal(1), places=3)
    assert over.value.params["field"] == "lines[3].quantity"
    # The same text again is the same number; "1.0" is not "1.00" (kept as texts, not values).
    again = ticket_rules.number("1.234", "lines[4].quantity", limit=Decimal(10), places=3)
    assert again == quantity
    assert str(ticket_rules.number("1.0", "a", limit=Decimal(10), places=2)) == "1.0"
    assert str(ticket_rules.number("1.00", "a", limit=Decimal(10), places=2)) == "1.00"
    # A JSON number (a Decimal) is parsed as before.
    assert ticket_rules.number(Decimal("2.5"), "a", limit=Decimal(10), places=2) == Decimal("2.5")
    with pytest.raises(ticket_rules.TicketError):
        ticket_rules.number(Decimal("2.555"), "a", limit=Decimal(10), places=2)


def test_a_record_is_sent_as_the_json_kept() -> None:
    row = {
        "seq": 7,
        "id": "R3-x",
        "kind": "customer",
        "created_at": "2026-11-30T10:00:00.000000Z",
        "payload": json.dumps({"code": "C9", "city": "Liège « centre » ☕"}, ensure_ascii=False),
    }
    text = outbox.wire_text(row, 3)
    assert json.loads(text) == outbox.wire_record(row, 3)
    assert protocol.WireRecord(text)["payload"]["city"] == "Liège « centre » ☕"
    # What a request's JSON encoder refuses is refused as before, not sent.
    with pytest.raises(ValueError):
        outbox.wire_text({**row, "payload": '{"value": NaN}'}, 3)


def test_pushed_records_arrive_as_the_register_wrote_them(
    joined: Services,
    office_services: Services,
) -> None:
    sync(joined)
    value = {"text": "Café « été » ☕", "amount": 12, "nested": [1, None, True]}
    with joined.store.write() as db:
        outbox.enqueue(db, 3, "register_setting", {"key": "note", "value": value})
    pushed = sync(joined).pushed
    assert (pushed.sent, pushed.rejected) == (1, [])
    assert office_records.register_settings(office_services.store, 3) == {"note": value}
    kept = rows(joined.store, "SELECT payload, state FROM MICPTRACK")
    received = rows(office_services.store, "SELECT payload FROM pos_received")
    assert [row["state"] for row in kept] == ["sent"]
    assert json.loads(received[0]["payload"])["payload"] == json.loads(kept[0]["payload"])


def test_a_replayed_batch_asks_the_set_based_path_once_per_transaction(
    shop: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Records the office has already (a lost answer, pushed again) go one by one, each answered
    as before: the set-based path is asked once per transaction, not once per record."""
    services, register = shop
    batch = [ticket(f"R3-r{n}", f"C3-{n:06d}") for n in range(1, 201)]
    first = office_records.apply_records(services.store, register, batch)
    assert statuses(first) == ["applied"] * 200
    asked: list[int] = []
    set_based = office_records._Chunk.apply_tickets

    def counted(self: Any, records: Any, started: float) -> list[dict[str, Any]]:
        asked.append(len(records))
        return set_based(self, records, started)

    monkeypatch.setattr(office_records._Chunk, "apply_tickets", counted)
    transactions: list[int] = []
    chunk = office_records._apply_chunk

    def counted_chunk(*args: Any) -> bool:
        transactions.append(len(args[2]))
        return chunk(*args)

    monkeypatch.setattr(office_records, "_apply_chunk", counted_chunk)
    again = office_records.apply_records(services.store, register, batch)
    assert statuses(again) == ["already_applied"] * 200
    assert len(asked) == len(transactions)
