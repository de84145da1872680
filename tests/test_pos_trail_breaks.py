"""A chain break at the office, acknowledged (issue 17): the break stays, as the evidence it is;
the office's manager writes down what was found and done, and the registers page shows it apart
from the breaks nobody looked at. Refused without a text, twice, or for a chain with no break:
then nothing is written. `relais pos verify` still reports the break."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Client
from tests.test_pos_office_refunds import apply, signed_sale
from webapp.pos import trail_breaks, trail_office
from webapp.services import Services


def trail_cell(page: str, number: int) -> str:
    row = re.search(rf'<tr data-register="{number}">.*?</tr>', page, re.S)
    assert row, page
    cell = re.search(r'data-trail="([a-z]+)"', row.group(0))
    assert cell
    return cell.group(1)


def stored(services: Services) -> list[tuple[Any, ...]]:
    with services.store.read() as db:
        return [
            tuple(row)
            for row in db.execute(
                "SELECT register_id, chain, seq, problem, params, found_at, acknowledged_at,"
                " acknowledged_by, acknowledgement FROM pos_trail_breaks ORDER BY chain"
            )
        ]


def test_a_break_acknowledged_stays_and_reads_apart(
    office_services: Services,
    tokens: dict[int, str],
    office_ui: Client,
) -> None:
    # A sale whose row is signed by a key the office does not have: the ticket chain breaks.
    assert apply(office_services, [signed_sale("R3-s1", "C3-000001", 1)])[0][0] == "applied"
    registers = office_ui.get("/pos").text
    assert trail_cell(registers, 3) == "broken" and trail_cell(registers, 4) == "none"
    assert 'href="/pos/office/registers/3/breaks"' in registers
    page = office_ui.get("/pos/office/registers/3/breaks")
    assert page.status_code == 200 and 'data-acknowledged="no"' in page.text
    assert "C3-000001" in page.text  # the record named
    before = stored(office_services)
    token = {"x-csrftoken": office_ui.token()}
    url = "/pos/office/registers/3/breaks/ticket/acknowledge"

    empty = office_ui.post(url, data={"justification": "  ", "who": "Anne"}, headers=token)
    assert empty.status_code == 422 and 'id="break-error"' in empty.text
    none = office_ui.post(
        "/pos/office/registers/3/breaks/closure/acknowledge",
        data={"justification": "checked"},
        headers=token,
    )
    assert none.status_code == 404 and "closure" in none.text
    missing = office_ui.get("/pos/office/registers/9/breaks")
    assert missing.status_code == 404
    assert stored(office_services) == before  # nothing written by a refusal

    note = "Ticket checked with the till's paper roll; the till was restored from a backup."
    done = office_ui.post(
        url, data={"justification": note, "who": "Anne"}, headers=token, follow_redirects=False
    )
    assert done.status_code == 303
    after = stored(office_services)
    assert [row[:6] for row in after] == [row[:6] for row in before]  # the break itself stays
    assert after[0][7:] == ("Anne", note)
    shown = office_ui.get("/pos/office/registers/3/breaks").text
    assert 'data-acknowledged="yes"' in shown and "Anne" in shown and "paper roll" in shown
    assert trail_cell(office_ui.get("/pos").text, 3) == "acknowledged"

    again = office_ui.post(url, data={"justification": "once more"}, headers=token)
    assert again.status_code == 422 and stored(office_services) == after
    # The verification still tells of the break: acknowledging hides no evidence.
    checked = trail_office.verify_office(office_services.store, 3)
    assert not checked[0].as_dict()["ok"]


def test_acknowledging_is_checked_in_one_place(
    office_services: Services,
    tokens: dict[int, str],
) -> None:
    apply(office_services, [signed_sale("R3-s1", "C3-000001", 1)])
    with pytest.raises(trail_breaks.AcknowledgementRefused):
        trail_breaks.acknowledge(office_services.store, 3, "ticket", "x" * 2001, "Anne")
    with pytest.raises(trail_breaks.BreakNotFound):
        trail_breaks.acknowledge(office_services.store, 4, "ticket", "checked", "Anne")
    done = trail_breaks.acknowledge(office_services.store, 3, "ticket", " checked ", "")
    assert done["acknowledgement"] == "checked" and done["acknowledged_by"] == "?"
    states = trail_breaks.chain_states(office_services.store)
    assert [found["acknowledged"] for found in states[1]["breaks"]] == [True]
