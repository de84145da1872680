"""Scrada choices that mean something (issue 16), over HTTP after a real pull from the simulator:
"all companies" mode disables the company ticks and offers "selected" mode; a new subfolder template
offers to move the delivered files, which move atomically (a conflict is reported, a failure or a
killed process leaves each file with a record that finds it) and are logged in the history; Verify
lists the companies and their books; each company shows its folder and its last files, downloadable
inside the root folder only."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import Client
from tests.test_scrada_redeliver import files, pulled, simulator  # noqa: F401  (fixtures)
from webapp import history_queries
from webapp.scrada import config as scrada_config
from webapp.scrada import folder_moves, records
from webapp.services import Services
from webapp.simulators.scrada import ScradaSimulator

NEW_TEMPLATE = "{company_number}/{book}"


def _records(services: Services) -> dict[int, dict[str, Any]]:
    with services.store.read() as db:
        rows = db.execute(
            "SELECT id, path, sha256 FROM scrada_deliveries WHERE state = 'delivered'"
        )
        return {row["id"]: dict(row) for row in rows}


def _each_record_finds_its_file(services: Services, root: Path) -> None:
    for row in _records(services).values():
        path = root / row["path"]
        assert path.is_file(), row
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"], row


def _new_template(services: Services) -> None:
    change = scrada_config.ConfigChange(template=NEW_TEMPLATE)
    scrada_config.apply(services.store, services.vault, change, services.data_dir)


def test_all_companies_mode_disables_the_ticks_and_offers_selected_mode(
    client: Client,
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
) -> None:
    first = pulled["first"].id
    records.set_selected(services.store, first, False, None)  # unticked while "all" pulls it
    page = client.get("/scrada").text
    box = re.search(rf'data-company="{first}">.*?<input type="checkbox"[^>]*>', page, re.S)
    assert box and "disabled" in box.group(0) and "checked" in box.group(0), "shown as pulled"
    assert 'id="scrada-all-mode"' in page and 'id="scrada-switch-selected"' in page
    refused = client.post_form(f"/scrada/companies/{first}", {})
    assert refused.status_code == 409, "no choice to make in this mode"
    assert scrada_config.load(services.store).scope == "all"

    token = {"x-csrftoken": client.token()}
    switched = client.post("/scrada/scope/selected", headers=token, follow_redirects=False)
    assert switched.status_code == 303
    assert scrada_config.load(services.store).scope == "selected"
    assert all(company.selected for company in records.companies(services.store))
    page = client.get("/scrada").text
    assert 'id="scrada-all-mode"' not in page
    box = re.search(rf'data-company="{first}">.*?<input type="checkbox"[^>]*>', page, re.S)
    assert box and "disabled" not in box.group(0) and "checked" in box.group(0)
    unticked = client.post_form(f"/scrada/companies/{first}", {})
    assert unticked.status_code == 200
    assert not next(c for c in records.companies(services.store) if c.id == first).selected


def test_a_new_template_offers_to_move_the_files_and_logs_the_move(
    client: Client,
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
) -> None:
    root: Path = pulled["root"]
    form = {
        "api_url": scrada_config.load(services.store).api_url,
        "root": str(root),
        "template": NEW_TEMPLATE,
        "scope": "all",
    }
    assert 'id="scrada-moves-check"' in client.get("/scrada").text, "the move is offered anytime"
    saved = client.post_form("/scrada/settings", form)
    assert saved.status_code == 200 and 'id="scrada-template-changed"' in saved.text
    assert files(root) == pulled["files"], "saving moves nothing"
    preview = client.get("/scrada/moves").text
    assert 'data-moves-count="12"' in preview and 'id="scrada-move-button"' in preview

    moved = client.post_form("/scrada/moves", {})
    assert moved.status_code == 200, moved.text
    assert 'data-moved="12"' in moved.text and 'data-moves-count="0"' in moved.text
    _each_record_finds_its_file(services, root)
    assert sorted(files(root).values()) == sorted(pulled["files"].values()), "nothing lost"
    assert all(path.count("/") == 2 for path in files(root)), "number/book/name"
    run = history_queries.recent_runs(services.store, job_name=folder_moves.JOB_NAME)[0]
    assert run["status"] == "success" and run["count_done"] == 12
    items = history_queries.run_items(services.store, run["id"])
    assert len(items) == 12 and all(item["params"]["old"] in pulled["files"] for item in items)
    assert "scrada_move" not in client.get(f"/runs/{run['id']}").text, "named in words"


def test_a_file_already_at_the_new_place_is_never_overwritten(
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
) -> None:
    root: Path = pulled["root"]
    _new_template(services)
    planned = folder_moves.plan(services.store, root, NEW_TEMPLATE)
    conflict, same = planned[0], planned[1]
    (root / conflict.new).parent.mkdir(parents=True, exist_ok=True)
    (root / conflict.new).write_bytes(b"someone else's file")
    (root / same.new).parent.mkdir(parents=True, exist_ok=True)
    (root / same.new).write_bytes((root / same.old).read_bytes())

    report = folder_moves.move_files(services.store, root, NEW_TEMPLATE)

    assert report.count(folder_moves.CONFLICT) == 1 and report.count(folder_moves.SAME) == 1
    assert (root / conflict.new).read_bytes() == b"someone else's file", "not overwritten"
    assert (root / conflict.old).read_bytes() == pulled["files"][conflict.old], "left in place"
    assert not (root / same.old).exists(), "the duplicate of the same bytes is gone"
    assert _records(services)[conflict.delivery_id]["path"] == conflict.old
    _each_record_finds_its_file(services, root)
    run = history_queries.get_run(services.store, report.run_id) or {}
    assert run["status"] == "warning" and run["count_errors"] == 1
    assert [m.old for m in folder_moves.plan(services.store, root, NEW_TEMPLATE)] == [conflict.old]


def test_a_failed_move_leaves_every_file_with_its_record(
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
) -> None:
    root: Path = pulled["root"]
    _new_template(services)
    calls: list[Path] = []

    def failing_fifth(old: Path, new: Path) -> None:
        calls.append(old)
        if len(calls) == 5:
            raise PermissionError(13, "Permission denied", str(new))
        folder_moves.move_file(old, new)

    report = folder_moves.move_files(services.store, root, NEW_TEMPLATE, mover=failing_fifth)

    assert report.count(folder_moves.MOVED) == 11 and report.count(folder_moves.FAILED) == 1
    _each_record_finds_its_file(services, root)
    assert sorted(files(root).values()) == sorted(pulled["files"].values())
    items = history_queries.run_items(services.store, report.run_id)
    assert [item["status"] for item in items].count("error") == 1


CHILD = """
import os, sys
from pathlib import Path
from webapp.scrada import folder_moves
from webapp.store import Store

store, root = Store(Path(sys.argv[1])), Path(sys.argv[2])
count = []

def killed_after_third(old, new):
    folder_moves.move_file(old, new)
    count.append(new)
    if len(count) == 3:
        os._exit(9)  # killed between the file's move and its record

folder_moves.move_files(store, root, sys.argv[3], mover=killed_after_third)
"""


def test_a_process_killed_mid_move_loses_nothing_and_the_next_move_mends_it(
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
) -> None:
    root: Path = pulled["root"]
    _new_template(services)
    planned = folder_moves.plan(services.store, root, NEW_TEMPLATE)
    args = [str(services.data_dir.database), str(root), NEW_TEMPLATE]
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 9, child.stderr
    by_id = _records(services)
    at_new = [m for m in planned if by_id[m.delivery_id]["path"] == m.new]
    assert len(at_new) == 2, "two moves recorded before the kill"
    cut = planned[2]
    assert by_id[cut.delivery_id]["path"] == cut.old and (root / cut.new).is_file()
    for move in planned[3:]:
        assert (root / move.old).is_file() and by_id[move.delivery_id]["path"] == move.old
    assert sorted(files(root).values()) == sorted(pulled["files"].values()), "nothing lost"

    report = folder_moves.move_files(services.store, root, NEW_TEMPLATE)
    assert report.count(folder_moves.SAME) == 1 and report.count(folder_moves.MOVED) == 9
    _each_record_finds_its_file(services, root)
    assert folder_moves.plan(services.store, root, NEW_TEMPLATE) == []


def test_moves_without_a_root_folder_are_refused(client: Client, services: Services) -> None:
    answer = client.post_form("/scrada/moves", {})
    assert answer.status_code == 409 and 'role="alert"' in answer.text
    assert history_queries.recent_runs(services.store, job_name=folder_moves.JOB_NAME) == []


def test_verify_lists_the_companies_and_their_books(
    client: Client,
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
    simulator: ScradaSimulator,  # noqa: F811
) -> None:
    answer = client.post_form("/scrada/verify", {})
    assert answer.status_code == 200 and 'data-verified="ok"' in answer.text
    for company in (pulled["first"], pulled["second"]):
        row = re.search(rf'data-verified-company="{company.id}">.*?</tr>', answer.text, re.S)
        assert row, answer.text
        assert company.name in row.group(0)
        assert row.group(0).count('data-verified-book="journal"') == len(company.journals)
        assert row.group(0).count('data-verified-book="cash-book"') == len(company.cash_books)
        for book in (*company.journals, *company.cash_books):
            assert book.name in row.group(0)


def test_each_company_shows_its_folder_and_last_files(
    client: Client,
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    root: Path = pulled["root"]
    first = pulled["first"]
    shown = client.get(f"/scrada/companies/{first.id}/files").text
    links = re.findall(r'href="/scrada/files/(\d+)"', shown)
    assert len(links) == 6, "two books, three files each"
    folder = re.search(r'href="(file://[^"]+)" data-folder-link', shown)
    assert folder and folder.group(1).startswith(root.resolve().as_uri())
    assert 'data-copy="folder-path-' in shown
    row = records.delivered_file(services.store, int(links[0]))
    assert row is not None
    download = client.get(f"/scrada/files/{links[0]}")
    assert download.status_code == 200
    assert download.content == (root / row["path"]).read_bytes()
    assert "attachment" in download.headers["content-disposition"]
    assert client.get("/scrada/copy-path.js").headers["content-type"].startswith("text/javascript")


def test_a_download_outside_the_root_or_unknown_is_refused(
    client: Client,
    services: Services,
    pulled: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for download")
    key = records.DeliveryKey(pulled["first"].id, "daily-receipts", "x", "evil")
    with services.store.write() as db:
        evil = records.record_delivery(
            db,
            key,
            state="delivered",
            path="../secret.txt",
            sha256="0" * 64,
            size=16,
            document_date="2026-01-01",
            source="api",
            run_id=None,
        )
    assert client.get(f"/scrada/files/{evil}").status_code == 404
    assert client.get("/scrada/files/999999").status_code == 404
    assert client.get("/scrada/files/..%2F..%2Fsecret.txt").status_code in (400, 404)
    assert client.get("/scrada/companies/nope/files").status_code == 404
