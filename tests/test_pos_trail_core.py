"""The register's chains (issue 17): signed rows, grand totals, and every tampering found.

These drive the chain code on a real data folder's SQLite file, as record_ticket will: a ticket row
and its chain row in one transaction. Tampering is done the way an intruder would, with SQL on the
file, and `verify_register` must name the first break.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from webapp.pos import trail, trail_keys, trail_verify
from webapp.services import Services
from webapp.store import Store

REGISTER = 2


def payload(number: int, lines: list[dict[str, str]] | None = None) -> dict[str, Any]:
    lines = lines or [
        {"article": "VR1", "quantity": "2", "unit_price_incl_vat": "14.50", "vat_rate": "20"},
        {"article": "PAIN", "quantity": "1", "unit_price_incl_vat": "1.10", "vat_rate": "5.5"},
    ]
    total = sum(
        (Decimal(line["quantity"]) * Decimal(line["unit_price_incl_vat"]) for line in lines),
        Decimal(0),
    )
    return {
        "number": f"C2-{number:06d}",
        "sold_at": f"2026-11-30T10:{number:02d}:00Z",
        "lines": lines,
        "payments": [{"method": "CASH", "amount": trail.money(total)}],
        "total_incl_vat": trail.money(total),
    }


def record(store: Store, signer: trail_keys.Signer, number: int, kind: str = "sale") -> None:
    """A ticket and its chain row in one transaction, as the register records a sale."""
    ticket = payload(number)
    with store.write() as db:
        db.execute(
            "INSERT INTO pos_tickets (id, number, sold_at, total_incl_vat, payload)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                f"R2-{number}",
                ticket["number"],
                ticket["sold_at"],
                ticket["total_incl_vat"],
                json.dumps(ticket),
            ],
        )
        trail.sign_ticket(db, signer, REGISTER, ticket, kind)


@pytest.fixture
def signer() -> trail_keys.Signer:
    return trail_keys.new_signer()


@pytest.fixture
def sold(services: Services, signer: trail_keys.Signer) -> Store:
    for number in range(1, 6):
        record(services.store, signer, number)
    return services.store


def breaks(store: Store, signer: trail_keys.Signer) -> list[trail_verify.Break]:
    with store.read() as db:
        return trail_verify.verify_register(db, REGISTER, {signer.key_id: signer.public_key})


def problems(store: Store, signer: trail_keys.Signer) -> list[str]:
    return [found.as_dict()["problem"] for found in breaks(store, signer)]


def test_every_chain_holds_after_recording(sold: Store, signer: trail_keys.Signer) -> None:
    assert breaks(sold, signer) == []
    with sold.read() as db:
        rows = trail_verify.register_rows(db, REGISTER)
        assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
        assert rows[0].previous == "" and rows[1].previous == rows[0].signature
        assert trail.grand_totals(db) == {
            "sales": "150.50",
            "refunds": "0.00",
            "absolute": "150.50",
        }
    first = rows[0].values
    assert first["vat"] == {
        "20": {"total": "29.00", "vat": "4.83", "base": "24.17"},
        "5.5": {"total": "1.10", "vat": "0.06", "base": "1.04"},
    }
    assert first["payments"] == {"CASH": "30.10"}


def test_a_refund_moves_the_refunds_and_absolute_totals(
    services: Services, signer: trail_keys.Signer
) -> None:
    record(services.store, signer, 1)
    record(services.store, signer, 2, kind="refund")
    with services.store.read() as db:
        assert trail.grand_totals(db) == {
            "sales": "30.10",
            "refunds": "30.10",
            "absolute": "60.20",
        }
    assert breaks(services.store, signer) == []


def test_an_edited_ticket_amount_is_found(sold: Store, signer: trail_keys.Signer) -> None:
    with sold.write() as db:
        changed = payload(3)
        changed["total_incl_vat"] = "3.00"
        changed["lines"][0]["unit_price_incl_vat"] = "0.95"
        db.execute(
            "UPDATE pos_tickets SET payload = ?, total_incl_vat = '3.00' WHERE number = ?",
            [json.dumps(changed), "C2-000003"],
        )
    assert problems(sold, signer) == ["Ticket C2-000003 differs from what was signed."]


def test_an_edited_chain_row_is_found(sold: Store, signer: trail_keys.Signer) -> None:
    with sold.write() as db:
        db.execute(
            "UPDATE pos_trail SET fields = replace(fields, '30.10', '3.10') WHERE seq = 2",
        )
    assert problems(sold, signer)[0] == "ticket record 2 was altered: its signature does not match."


def test_a_deleted_ticket_and_its_row_are_found(sold: Store, signer: trail_keys.Signer) -> None:
    with sold.write() as db:
        db.execute("DELETE FROM pos_trail WHERE seq = 3")
        db.execute("DELETE FROM pos_tickets WHERE number = 'C2-000003'")
    assert problems(sold, signer) == ["ticket record 3 is missing."]


def test_a_deleted_ticket_alone_is_found(sold: Store, signer: trail_keys.Signer) -> None:
    with sold.write() as db:
        db.execute("DELETE FROM pos_tickets WHERE number = 'C2-000004'")
    assert problems(sold, signer) == ["Ticket C2-000004 was signed but is gone."]


def test_reordered_rows_are_found(sold: Store, signer: trail_keys.Signer) -> None:
    with sold.write() as db:
        db.execute("UPDATE pos_trail SET id = id + 100 WHERE seq = 2")
    assert problems(sold, signer)[0] == "ticket record 2 is missing."


def test_a_forged_grand_total_signed_again_is_found(sold: Store, signer: trail_keys.Signer) -> None:
    """Even with the register's own key, a grand total that does not follow is a break."""
    with sold.write() as db:
        db.execute("DELETE FROM pos_trail WHERE seq = 5")
        last = trail.last_row(db, "ticket")
        assert last is not None
        fields = trail.ticket_fields(
            payload(5), "sale", {"sales": "0.00", "refunds": "0.00", "absolute": "0.00"}
        )
        trail.append(db, signer, REGISTER, "ticket", "sale", "C2-000005", fields)
    assert problems(sold, signer) == ["ticket record 5: the grand total does not follow."]


def test_a_row_signed_by_another_key_is_found(sold: Store, signer: trail_keys.Signer) -> None:
    other = trail_keys.new_signer()
    with sold.write() as db:
        db.execute("DELETE FROM pos_trail WHERE seq = 5")
        fields = trail.ticket_fields(payload(5), "sale", trail.grand_totals(db))
        trail.append(db, other, REGISTER, "ticket", "sale", "C2-000005", fields)
    found = problems(sold, signer)
    assert found == [f"ticket record 5 is signed by an unknown key {other.key_id}."]


def test_the_key_lives_in_the_vault_and_is_made_once(services: Services) -> None:
    services.vault.create("a long passphrase")
    made = trail_keys.ensure_signer(services.vault)
    again = trail_keys.ensure_signer(services.vault)
    assert made.public_key == again.public_key
    assert trail_keys.load_signer(services.vault).key_id == made.key_id
    services.vault.lock()
    with pytest.raises(trail_keys.TrailKeyError):
        trail_keys.load_signer(services.vault)


def test_a_bad_signature_text_is_refused_not_raised(signer: trail_keys.Signer) -> None:
    assert trail_keys.verify(signer.public_key, b"x", signer.sign(b"x"))
    assert not trail_keys.verify(signer.public_key, b"y", signer.sign(b"x"))
    assert not trail_keys.verify(signer.public_key, b"x", "not base64 !!")
    assert not trail_keys.verify("short", b"x", signer.sign(b"x"))


def test_signed_bytes_are_those_of_json_dumps_for_every_code_point() -> None:
    """Rows signed before msgspec wrote these bytes still verify: the same bytes, character for
    character, as the json.dumps they were signed over."""
    characters = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for start in range(0, len(characters), 4096):
        text = characters[start : start + 4096]
        made = trail.signed_bytes(7, "ticket", 2**61, "sale", text, '"\\', text[::-1], "")
        items = [trail.FORMAT, 7, "ticket", 2**61, "sale", text, '"\\', text[::-1], ""]
        expected = json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert made == expected, f"characters from U+{start:04X}"
    with pytest.raises(UnicodeEncodeError):
        trail.signed_bytes(7, "ticket", 1, "sale", "\ud800", "", "{}", "")
