"""The webservice send through its surfaces (issue 15): `relais connector send CODE [--json]` with
its exit codes, and the send page's summary after a send (no second "Send")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Client, relais
from tests.test_prestashop_send import PASSPHRASE, set_up
from webapp.services import Services
from webapp.simulators.prestashop import PrestaShopSimulator


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as simulator:
        simulator.populate_demo(orders=1)
        simulator.add_product("SAME", "Pareil", "12.400000", quantity=5)
        yield simulator


def send(data: Path, *args: str, passphrase: bool = True) -> tuple[int, str, str]:
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE} if passphrase else {}
    done = relais("connector", "send", "PRESTA", *args, data_dir=data, **env)
    return done.returncode, done.stdout, done.stderr


def test_cli_send_exit_codes_and_json(
    services: Services, sim: PrestaShopSimulator, tmp_path: Path
) -> None:
    set_up(services, sim, tmp_path)
    data = tmp_path / "data"
    sim.block_put = True
    code, out, err = send(data, "--json")
    assert code == 1, err
    report = json.loads(out)
    assert report["counts"]["refused"] == 2 and report["counts"]["written"] == 0
    assert not report["ok"] and sim.api_key not in out + err
    sim.block_put = False
    code, out, _err = send(data)
    assert code == 1  # GONE is still not in the shop
    assert "NOT-IN-SHOP" in out and "PN" in out
    sim.add_product("NOT-IN-SHOP", "Disparu", "9.000000", quantity=1)  # now as we have it
    code, out, err = send(data, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["counts"]["unchanged"] == 4 and report["articles"] == []
    assert all(r.auth == "basic" and sim.api_key not in r.query for r in sim.requests)
    locked = send(data, passphrase=False)
    assert locked[0] == 3 and "RELAIS_VAULT_PASSPHRASE" in locked[2]


def test_cli_send_exits_3_when_the_shop_refuses_the_key(
    services: Services, sim: PrestaShopSimulator, tmp_path: Path
) -> None:
    set_up(services, sim, tmp_path)
    services.vault.set("econnector.PRESTA.key", "B" * 32)
    code, out, _err = send(tmp_path / "data", "--json")
    assert code == 3 and json.loads(out)["error"]


def test_the_page_shows_the_summary_and_no_second_send(
    services: Services, sim: PrestaShopSimulator, tmp_path: Path, client: Client
) -> None:
    set_up(services, sim, tmp_path)
    page = client.get("/connectors/PRESTA/send").text
    assert 'data-action="send"' in page and 'name="export_dir"' not in page
    answer = client.post_form("/connectors/PRESTA/send/run", {"send_articles": "export"})
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert 'data-mode="webservice"' in html
    assert re.search(r'data-status="written"><th>[^<]+</th><td class="num">2</td>', html)
    assert 'data-article="GONE" data-status="not_found"' in html
    assert 'data-action="send"' not in html
    assert sim.stock(sim.demo_ids["PN22"]) == 30


def test_the_page_refuses_bad_overrides_and_a_locked_vault_and_sends_nothing(
    services: Services, sim: PrestaShopSimulator, tmp_path: Path, client: Client
) -> None:
    set_up(services, sim, tmp_path)
    bad = client.post_form("/connectors/PRESTA/send/run", {"send_articles": "filter"})
    assert bad.status_code == 422 and 'data-error-for="article_filter"' in bad.text
    services.vault.lock()
    locked = client.post_form("/connectors/PRESTA/send/run", {"send_articles": "export"})
    assert locked.status_code == 422 and 'role="alert"' in locked.text
    assert 'data-action="send"' in locked.text  # nothing was sent: the form stays
    assert sim.requests == []
