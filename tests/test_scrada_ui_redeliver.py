"""The Scrada page's "Deliver again" form after a real pull from the simulator: a deleted file
comes back from the archive in a background run whose progress card ends in success; a bad date or
an end before the start is refused under its field (422) and starts nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.conftest import Client
from tests.test_scrada_redeliver import files, pulled, simulator, whole_range  # noqa: F401
from webapp import history_queries
from webapp.scrada import config as scrada_config
from webapp.scrada import redeliver
from webapp.services import Services


def _runs(services: Services) -> list[dict[str, Any]]:
    return history_queries.recent_runs(services.store, limit=10, job_name=redeliver.JOB_NAME)


def _finished(client: Client, run_id: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        card = client.get(f"/runs/{run_id}/progress").text
        status = re.search(r'data-status="(\w+)"', card)
        assert status, card
        if status.group(1) != "running":
            return status.group(1)
        time.sleep(0.2)
    raise AssertionError("the redelivery did not end")


def test_a_deleted_file_comes_back_with_its_progress(
    client: Client,
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
) -> None:
    root: Path = pulled["root"]
    gone = next(iter(pulled["files"]))
    (root / gone).unlink()
    start, end = whole_range(pulled["rows"])
    answer = client.post_form("/scrada/redeliver", {"date_from": start, "date_to": end})
    assert answer.status_code == 200, answer.text
    run = re.search(r'class="progress-card[^"]*" id="run-(\d+)-progress"', answer.text)
    assert run, answer.text
    assert _finished(client, run.group(1)) == "success"
    assert files(root) == pulled["files"]
    assert 'id="scrada-redeliver-button"' in client.get("/scrada").text


def test_bad_dates_are_refused_under_their_field(
    client: Client, services: Services, tmp_path: Path
) -> None:
    bad = client.post_form(
        "/scrada/redeliver", {"date_from": "31/02/2026", "date_to": "2026-03-01"}
    )
    assert bad.status_code == 422
    assert re.search(r'id="redeliver-date_from-error" role="alert">[^<]*31/02/2026', bad.text)
    backwards = {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    late = client.post_form("/scrada/redeliver", backwards)
    assert late.status_code == 422 and 'id="redeliver-date_to-error"' in late.text
    day = {"date_from": "2026-03-01", "date_to": "2026-03-02"}
    no_root = client.post_form("/scrada/redeliver", day)
    assert no_root.status_code == 422
    assert re.search(r'<p class="error" role="alert">[^<]+</p>', no_root.text), "above the form"
    change = scrada_config.ConfigChange(root=str(tmp_path / "compta"))
    scrada_config.apply(services.store, services.vault, change, services.data_dir)
    unknown = client.post_form("/scrada/redeliver", {**day, "company": "nope"})
    assert unknown.status_code == 422
    assert re.search(r'id="redeliver-company-error" role="alert">[^<]*nope', unknown.text)
    assert _runs(services) == [], "nothing started"
