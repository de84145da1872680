"""The office's registers page in a real browser (Chromium + Playwright) while two real registers
sync: both chains green, then a row edited in register 3's SQLite file shows as a break, the
record named, without a reload; register 4 stays green."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.test_pos_trail_office import TRAIL_OUTBOX, open_shop, query, sell, sync, tamper


def test_the_registers_page_shows_each_chain_and_a_break_as_it_arrives(
    page: Page,
    console: Console,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    shop = open_shop(tmp_path, relais_server)
    for folder in shop.registers.values():
        sell(folder, 2)
        sync(folder)
    page.goto(shop.office.url + "/pos")
    three = page.locator('#pos-registers-table tr[data-register="3"] td.trail')
    four = page.locator('#pos-registers-table tr[data-register="4"] td.trail')
    expect(three).to_have_attribute("data-trail", "ok")
    expect(three.locator(".notice")).to_contain_text("vérifiées")  # with its count
    expect(four).to_have_attribute("data-trail", "ok")

    sell(shop.registers[3], 1)
    row = query(shop.registers[3], f"SELECT id, payload {TRAIL_OUTBOX}", [3])[0]
    payload = json.loads(row["payload"])
    signed = payload["trail"]["fields"]
    payload["trail"]["fields"] = signed.replace('"total_incl_vat":"', '"total_incl_vat":"9')
    tamper(
        shop.registers[3],
        ("UPDATE MICPTRACK SET payload = ? WHERE id = ?", [json.dumps(payload), row["id"]]),
    )
    sync(shop.registers[3])

    # The table polls: the break shows without a reload, in French, the record named.
    expect(three).to_have_attribute("data-trail", "broken", timeout=15_000)
    expect(three.locator(".error")).to_contain_text("C3-000003")
    expect(three.locator(".error")).to_contain_text("modifié")
    expect(four).to_have_attribute("data-trail", "ok")
    console.assert_clean()
