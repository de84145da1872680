"""`relais pos close` on a register's data folder joined to a real office, and a closure killed
(kill -9) in the middle: its rows are all there or none is, and every chain holds.

The register folder joins the office's real POS listener (127.0.0.1); its tickets are rows of its
ticket chain signed with its own key from its vault, at chosen moments."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from datetime import time as day_time
from pathlib import Path

import pytest

from tests.conftest import REPO, relais, relais_env
from tests.pos_fixtures import PASSPHRASE
from tests.test_pos_closures import sell
from webapp.clock import to_iso
from webapp.pos import closures, trail_keys, trail_verify
from webapp.services import Services


def noon(day: str) -> str:
    return to_iso(datetime.combine(date.fromisoformat(day), day_time(12)))


def chains_hold(services: Services) -> None:
    signer = trail_keys.load_signer(services.vault)
    with services.store.read() as db:
        assert trail_verify.verify_register(db, 3, {signer.key_id: signer.public_key}) == []


def test_pos_close_prints_the_totals(joined: Services, tmp_path: Path) -> None:
    signer = trail_keys.ensure_signer(joined.vault)
    sell(joined.store, signer, noon("2025-03-10"), [("2", "12.00", "20"), ("1", "2.11", "5.5")])
    sell(joined.store, signer, noon("2025-03-12"), [("1", "5.00", "20")], [("CARD", "5.00")])
    folder = tmp_path / "register"
    done = relais(
        "pos", "close", "month", "--date", "2025-03-31", "--json",
        data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is True
    month = answer["closure"]
    assert month["ref"] == "month-2025-03" and month["tickets"] == 2
    assert month["total_incl_vat"] == "31.11"
    assert month["payments"] == {"CARD": "5.00", "CASH": "26.11"}
    assert month["vat"]["5.5"] == {"total": "2.11", "base": "2.00", "vat": "0.11"}
    assert month["grand_totals"]["absolute"] == "31.11"
    assert [row["ref"] for row in answer["closed_first"]] == ["day-2025-03-10", "day-2025-03-12"]

    text = relais(
        "pos", "close", "day", "--date", "2025-04-02",
        data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "2025" in text.stdout and "0" in text.stdout  # an empty day: zero totals

    twice = relais(
        "pos", "close", "month", "--date", "2025-03-01", "--json",
        data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert twice.returncode == 2 and json.loads(twice.stdout)["ok"] is False
    bad = relais("pos", "close", "day", "--date", "30/11/2026", data_dir=folder)
    assert bad.returncode == 2 and "30/11/2026" in bad.stderr
    locked = relais("pos", "close", "day", "--date", "2025-04-03", data_dir=folder)
    assert locked.returncode != 0  # no passphrase: the key cannot be read, nothing written
    with joined.store.read() as db:
        assert len(closures.list_closures(db)) == 4
    chains_hold(joined)


# A closure that stalls after signing its second row (inside the transaction), for the kill.
STALLING_CLOSE = """
import pathlib, sys, time
from datetime import date
from webapp.config import resolve_data_dir
from webapp.pos import closures, trail
from webapp.services import open_services

folder, marker, passphrase = sys.argv[1:4]
services = open_services(resolve_data_dir(pathlib.Path(folder)), vault_backend="file")
services.vault.unlock(passphrase)
append = trail.append
written = []

def stalling(*args, **kwargs):
    row = append(*args, **kwargs)
    if row.chain == "closure":  # each closure is also a JET event: those are not counted
        written.append(row)
    if len(written) == 2 and row.chain == "closure":
        pathlib.Path(marker).write_text(row.ref)
        time.sleep(3600)
    return row

trail.append = stalling
closures.close_here(services.store, services.vault, "month", date(2025, 3, 31))
"""


@pytest.mark.slow  # the child opens the vault at its real cost
def test_a_closure_killed_in_the_middle_leaves_all_or_nothing(
    joined: Services, tmp_path: Path
) -> None:
    signer = trail_keys.ensure_signer(joined.vault)
    for day in ("2025-03-03", "2025-03-04", "2025-03-05"):
        sell(joined.store, signer, noon(day), [("1", "4.00", "20")])
    marker = tmp_path / "stalled"
    child = subprocess.Popen(
        [sys.executable, "-c", STALLING_CLOSE, str(tmp_path / "register"), str(marker), PASSPHRASE],
        env=relais_env(),
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the closing process ended before its second row"
            assert time.monotonic() < deadline, "the closing process never reached its second row"
            time.sleep(0.05)
        assert marker.read_text() == "day-2025-03-04"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    with joined.store.read() as db:
        assert closures.list_closures(db) == []  # none of the rows of the killed transaction
    chains_hold(joined)
    written = closures.close_here(joined.store, joined.vault, "month", date(2025, 3, 31))
    assert [closure.ref for closure in written] == [
        "day-2025-03-03",
        "day-2025-03-04",
        "day-2025-03-05",
        "month-2025-03",
    ]
    assert written[-1].values["total_incl_vat"] == "12.00"
    chains_hold(joined)
