"""`relais scrada redeliver` after a real pull from the simulator: exactly the files missing from
their folders come back, byte for byte, at their recorded paths; a file that is there is never
written again; filters; damaged or missing archive copies are reported (exit 1); bad dates exit 2."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import relais
from webapp import history, history_queries
from webapp.jobs import RunStopped
from webapp.scrada import archive, redeliver
from webapp.scrada import config as scrada_config
from webapp.scrada.delivery import JOB_NAME as PULL_JOB
from webapp.services import Services
from webapp.simulators.scrada import ScradaSimulator

PASSPHRASE = "scrada redeliver passphrase"
OLD_MTIME = 1_600_000_000  # 2020: a rewrite would move it to now


@pytest.fixture
def simulator() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def pulled(services: Services, simulator: ScradaSimulator, tmp_path: Path) -> dict[str, Any]:
    """Two companies, a journal and a cash book each, 3 documents per book, pulled for real."""
    first = simulator.add_company("Boulangerie Dupont", documents=3)
    second = simulator.add_company("Café du Centre", documents=3)
    root = tmp_path / "compta"
    services.vault.create(PASSPHRASE)
    scrada_config.apply(
        services.store,
        services.vault,
        scrada_config.ConfigChange(
            api_url=f"{simulator.url}/v1/",
            root=str(root),
            api_key=simulator.api_key,
            password=simulator.password,
        ),
    )
    run_id = services.runner.run(PULL_JOB, origin="command")
    assert (history_queries.get_run(services.store, run_id) or {})["status"] == "success"
    with services.store.read() as db:
        rows = [dict(row) for row in db.execute("SELECT * FROM scrada_deliveries ORDER BY id")]
    assert len(rows) == 12 and all(row["state"] == "delivered" for row in rows)
    return {"root": root, "rows": rows, "files": files(root), "first": first, "second": second}


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.relative_to(root).as_posix().startswith(("_", "."))
    }


def cli(services: Services, *args: str) -> tuple[int, Any]:
    result = relais("scrada", "redeliver", *args, "--json", data_dir=services.data_dir.path)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else result


def whole_range(rows: list[dict[str, Any]]) -> tuple[str, str]:
    days = sorted(row["document_date"] for row in rows)
    return days[0], days[-1]


def test_only_the_missing_files_come_back_byte_identical(
    services: Services, pulled: dict[str, Any], tmp_path: Path
) -> None:
    root, rows, before = pulled["root"], pulled["rows"], pulled["files"]
    deleted = [rows[0]["path"], rows[7]["path"]]
    moved = rows[4]["path"]
    for path in deleted:
        (root / path).unlink()
    elsewhere = tmp_path / "moved-by-the-accounting-software.xml"
    shutil.move(root / moved, elsewhere)
    untouched = root / rows[1]["path"]
    os.utime(untouched, (OLD_MTIME, OLD_MTIME))

    code, report = cli(services, "--from", *whole_range(rows)[:1], "--to", whole_range(rows)[1])

    assert code == 0, report
    assert sorted(report["rewritten"]) == sorted([*deleted, moved])
    assert report["present"] == 9 and report["problems"] == []
    assert files(root) == before, "every file back, byte for byte, at its recorded path"
    assert untouched.stat().st_mtime == OLD_MTIME, "a file that is there is not written again"
    assert elsewhere.read_bytes() == before[moved], "the moved copy is left where it went"
    assert not any((root / ".relais-tmp").rglob("*.tmp")), "no temporary file left"
    run = history_queries.get_run(services.store, report["run_id"]) or {}
    assert run["job_name"] == redeliver.JOB_NAME and run["status"] == "success"
    assert (run["count_done"], run["count_skipped"], run["count_errors"]) == (3, 9, 0)
    items = history_queries.run_items(services.store, report["run_id"])
    assert sorted(item["reference"] for item in items if item["status"] == "done") == sorted(
        [*deleted, moved]
    )

    again_code, again = cli(services, "--from", whole_range(rows)[0], "--to", whole_range(rows)[1])
    assert again_code == 0 and again["rewritten"] == [] and again["present"] == 12


def test_company_book_and_date_filters(services: Services, pulled: dict[str, Any]) -> None:
    root, rows = pulled["root"], pulled["rows"]
    for row in rows:
        (root / row["path"]).unlink()
    company = pulled["first"].id
    start, end = whole_range(rows)

    code, report = cli(
        services, "--from", start, "--to", end, "--company", company, "--book", "cash-book"
    )
    wanted = [
        r["path"] for r in rows if r["company_id"] == company and r["book_kind"] == "cash-book"
    ]
    assert code == 0 and len(wanted) == 3
    assert sorted(report["rewritten"]) == sorted(wanted)
    assert sorted(files(root)) == sorted(wanted)

    # One day, written the Belgian way: both companies' journal and cash book of that day.
    day = date.fromisoformat(start) + timedelta(days=1)
    code, report = cli(services, "--from", f"{day:%d/%m/%Y}", "--to", f"{day:%d/%m/%Y}")
    that_day = [r["path"] for r in rows if r["document_date"] == day.isoformat()]
    assert code == 0 and len(that_day) == 4
    already = [path for path in that_day if path in wanted]
    assert sorted(report["rewritten"]) == sorted(set(that_day) - set(already))
    assert report["present"] == len(already)


def test_other_bytes_at_the_path_are_left_and_reported(
    services: Services, pulled: dict[str, Any]
) -> None:
    root, rows = pulled["root"], pulled["rows"]
    edited = root / rows[2]["path"]
    edited.write_bytes(b"edited by hand in the accounting software")
    (root / rows[3]["path"]).unlink()

    code, report = cli(services, "--from", *whole_range(rows)[:1], "--to", whole_range(rows)[1])

    assert code == 1
    assert report["rewritten"] == [rows[3]["path"]]
    assert [item["path"] for item in report["problems"]] == [rows[2]["path"]]
    assert edited.read_bytes() == b"edited by hand in the accounting software"


def test_damaged_and_missing_archive_copies_are_reported(
    services: Services, pulled: dict[str, Any]
) -> None:
    root, rows = pulled["root"], pulled["rows"]
    unreadable, swapped, gone, fine = rows[0], rows[5], rows[6], rows[9]
    for row in (unreadable, swapped, gone, fine):
        (root / row["path"]).unlink()
    data_dir = services.data_dir
    broken = archive.copy_path(data_dir, unreadable["sha256"])
    broken.write_bytes(broken.read_bytes()[:-12] + b"\x00" * 12)  # truncated: CRC and size lost
    archive.copy_path(data_dir, swapped["sha256"]).write_bytes(gzip.compress(b"not the document"))
    archive.copy_path(data_dir, gone["sha256"]).unlink()

    code, report = cli(services, "--from", *whole_range(rows)[:1], "--to", whole_range(rows)[1])

    assert code == 1
    assert report["rewritten"] == [fine["path"]]
    assert (root / fine["path"]).read_bytes() == pulled["files"][fine["path"]]
    assert sorted(item["path"] for item in report["problems"]) == sorted(
        row["path"] for row in (unreadable, swapped, gone)
    )
    for row in (unreadable, swapped, gone):
        assert not (root / row["path"]).exists(), "nothing is written from a bad copy"
    run = history_queries.get_run(services.store, report["run_id"]) or {}
    assert run["status"] == "warning" and run["count_errors"] == 3


@pytest.mark.parametrize(
    ("start", "end", "named"),
    [("20/11/2026", "2026-11-01", "2026-11-20"), ("31/02/2026", "2026-03-01", "31/02/2026")],
)
def test_bad_dates_exit_2(tmp_path: Path, start: str, end: str, named: str) -> None:
    """Refused before anything else is looked at (this data folder has not even a root)."""
    result = relais(
        "scrada", "redeliver", "--from", start, "--to", end, "--json", data_dir=tmp_path / "data"
    )
    assert result.returncode == 2, result
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and named in payload["error"]


@pytest.mark.parametrize(
    "text",
    ["2026-13-01", "31/02/2026", "yesterday", "2026-1-5", "", "2026-11-20T00:00", "20.11.2026"],
)
def test_what_is_not_a_date(text: str) -> None:
    with pytest.raises(redeliver.BadRequest):
        redeliver.parse_day(text)


def test_both_date_layouts() -> None:
    assert redeliver.parse_day(" 2026-11-20 ") == redeliver.parse_day("20/11/2026")
    assert redeliver.parse_day("29/02/2028") == date(2028, 2, 29)
    with pytest.raises(redeliver.BadRequest):
        redeliver.check_dates(date(2026, 11, 21), date(2026, 11, 20))
    redeliver.check_dates(date(2026, 11, 20), date(2026, 11, 20))


def test_a_refused_request_leaves_no_run(services: Services) -> None:
    with pytest.raises(redeliver.BadRequest):
        redeliver.redeliver(
            services.store,
            services.data_dir,
            services.data_dir.path / "root",
            date_from=date(2026, 2, 1),
            date_to=date(2026, 1, 1),
        )
    assert history_queries.recent_runs(services.store, job_name=redeliver.JOB_NAME) == []


def test_unknown_company_book_or_no_root_exit_2(
    services: Services, pulled: dict[str, Any], tmp_path: Path
) -> None:
    start, end = whole_range(pulled["rows"])
    code, report = cli(services, "--from", start, "--to", end, "--company", "no-such-company")
    assert code == 2 and "no-such-company" in report["error"]
    bogus = relais(
        "scrada",
        "redeliver",
        "--from",
        start,
        "--to",
        end,
        "--book",
        "ledger",
        data_dir=services.data_dir.path,
    )
    assert bogus.returncode == 2
    fresh = relais("scrada", "redeliver", "--from", start, "--to", end, data_dir=tmp_path / "new")
    assert fresh.returncode == 2 and fresh.stderr.strip()


def test_in_process_progress_and_callers_run(services: Services, pulled: dict[str, Any]) -> None:
    """What the button calls: a run started by the caller, progress until the last document."""
    root, rows = pulled["root"], pulled["rows"]
    (root / rows[8]["path"]).unlink()
    run_id = history.start_run(services.store, redeliver.JOB_NAME, "manual")
    seen: list[tuple[int, int]] = []
    start, end = whole_range(rows)
    report = redeliver.redeliver(
        services.store,
        services.data_dir,
        redeliver.configured_root(services.store, services.data_dir),
        date_from=date.fromisoformat(start),
        date_to=date.fromisoformat(end),
        progress=lambda done, total: seen.append((done, total)),
        run_id=run_id,
    )
    assert report.run_id == run_id and report.ok and report.rewritten == [rows[8]["path"]]
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    run = history_queries.get_run(services.store, run_id) or {}
    assert run["status"] == "success" and run["progress_done"] == 12


def test_a_present_file_without_its_copy_gets_one(
    services: Services, pulled: dict[str, Any]
) -> None:
    """Documents delivered before the archive existed: their file, when there, fills it."""
    rows = pulled["rows"]
    copy = archive.copy_path(services.data_dir, rows[3]["sha256"])
    copy.unlink()
    start, end = whole_range(rows)
    report = redeliver.redeliver(
        services.store,
        services.data_dir,
        pulled["root"],
        date_from=date.fromisoformat(start),
        date_to=date.fromisoformat(end),
    )
    assert report.ok and report.rewritten == []
    assert archive.read(services.data_dir, rows[3]["sha256"]) == pulled["files"][rows[3]["path"]]


def test_stop_ends_the_run_interrupted_and_a_refusal_ends_the_callers_run(
    services: Services, pulled: dict[str, Any]
) -> None:
    root, rows = pulled["root"], pulled["rows"]
    for row in rows:
        (root / row["path"]).unlink()
    calls = 0

    def check_stop() -> None:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise RunStopped()

    start, end = (date.fromisoformat(day) for day in whole_range(rows))
    with pytest.raises(RunStopped):
        redeliver.redeliver(
            services.store,
            services.data_dir,
            root,
            date_from=start,
            date_to=end,
            check_stop=check_stop,
        )
    assert len(files(root)) == 2, "the documents before the stop are written, no more"
    runs = history_queries.recent_runs(services.store, job_name=redeliver.JOB_NAME)
    assert runs[0]["status"] == "interrupted"

    run_id = history.start_run(services.store, redeliver.JOB_NAME, "manual")
    with pytest.raises(redeliver.BadRequest):
        redeliver.redeliver(
            services.store, services.data_dir, root, date_from=end, date_to=start, run_id=run_id
        )
    assert (history_queries.get_run(services.store, run_id) or {})["status"] == "failed"
