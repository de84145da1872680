"""The archive of delivered documents: one gzip copy per content, kept before the delivery row,
a damaged copy written again, and the purge (the `scrada_archive_purge` process) that removes the
copies past the retention and keeps every one a delivery within the retention refers to."""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import relais
from webapp import history_queries, settings
from webapp.scrada import archive
from webapp.scrada import config as scrada_config
from webapp.scrada.delivery import JOB_NAME as PULL_JOB
from webapp.services import Services
from webapp.simulators.scrada import ScradaSimulator

THREE_YEARS_AGO = time.time() - 3 * 365 * 86400


@pytest.fixture
def simulator() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.start()
    yield sim
    sim.stop()


def copies(services: Services) -> list[Path]:
    return sorted(archive.folder(services.data_dir).glob("*/*.gz"))


def test_same_bytes_twice_are_one_copy(services: Services) -> None:
    data = b"<Invoice>the same receipt</Invoice>"
    first = archive.keep(services.data_dir, data)
    second = archive.keep(services.store, data)  # the store names the same data folder
    assert first == second == hashlib.sha256(data).hexdigest()
    assert copies(services) == [archive.copy_path(services.data_dir, first)]
    path = copies(services)[0]
    assert path.parent.name == first[:2] and path.name == f"{first[2:]}.gz"
    assert gzip.decompress(path.read_bytes()) == data
    other = archive.keep(services.data_dir.path, b"another document")
    assert (
        len(copies(services)) == 2 and archive.read(services.data_dir, other) == b"another document"
    )
    assert not list((archive.folder(services.data_dir) / archive.TEMPORARY).glob("*"))


def test_a_damaged_copy_is_written_again_and_reads_are_checked(services: Services) -> None:
    data = b"CODA statement bytes" * 50
    digest = archive.keep(services.data_dir, data)
    path = archive.copy_path(services.data_dir, digest)
    path.write_bytes(b"garbage")
    with pytest.raises(archive.CopyDamaged):
        archive.read(services.data_dir, digest)
    path.write_bytes(gzip.compress(b"other bytes under this name"))
    with pytest.raises(archive.CopyDamaged):
        archive.read(services.data_dir, digest)
    assert archive.keep(services.data_dir, data) == digest
    assert archive.read(services.data_dir, digest) == data
    path.unlink()
    with pytest.raises(archive.CopyMissing):
        archive.read(services.data_dir, digest)


@pytest.mark.parametrize("name", ["", "abc", "../" + "a" * 61, "G" * 64, "a" * 63 + "/"])
def test_a_name_that_is_not_a_sha256_is_refused(services: Services, name: str) -> None:
    with pytest.raises(ValueError):
        archive.copy_path(services.data_dir, name)


def pull(services: Services, simulator: ScradaSimulator, root: Path) -> None:
    services.vault.create("scrada archive passphrase")
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


def test_every_delivered_document_has_its_copy(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=2)
    root = tmp_path / "compta"
    pull(services, simulator, root)
    with services.store.read() as db:
        rows = db.execute("SELECT path, sha256 FROM scrada_deliveries").fetchall()
    assert len(rows) == 4
    for path, digest in rows:
        assert archive.read(services.data_dir, digest) == (root / path).read_bytes()
    assert len(copies(services)) == 4


def age(services: Services, digest: str, when: float) -> None:
    """A delivery (and its copy) made at `when`."""
    stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with services.store.write() as db:
        db.execute(
            "UPDATE scrada_deliveries SET delivered_at = ? WHERE sha256 = ?", [stamp, digest]
        )
    os.utime(archive.copy_path(services.data_dir, digest), (when, when))


def test_purge_removes_the_copies_past_the_retention_only(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    simulator.add_company("Café du Centre", documents=2)
    pull(services, simulator, tmp_path / "compta")
    with services.store.read() as db:
        digests = [row[0] for row in db.execute("SELECT sha256 FROM scrada_deliveries ORDER BY id")]
    old, recent_row_old_copy = digests[0], digests[1]
    age(services, old, THREE_YEARS_AGO)
    # A copy stored long ago that a recent delivery still refers to stays.
    os.utime(archive.copy_path(services.data_dir, recent_row_old_copy), (THREE_YEARS_AGO,) * 2)
    orphan_old = archive.keep(services.data_dir, b"left by a kill -9 long ago")
    os.utime(archive.copy_path(services.data_dir, orphan_old), (THREE_YEARS_AGO,) * 2)
    orphan_new = archive.keep(services.data_dir, b"left by a kill -9 a moment ago")
    settings.put(services.store, archive.RETENTION_KEY, "12")

    run_id = services.runner.run(archive.PURGE_JOB, origin="command")

    run = history_queries.get_run(services.store, run_id) or {}
    assert run["status"] == "success", run
    assert run["params"] == {"removed": 2, "kept": 4, "months": 12}
    left = {path.parent.name + path.name[:-3] for path in copies(services)}
    assert left == {*digests[1:], orphan_new}
    assert not archive.copy_path(services.data_dir, old).parent.exists() or (
        any(archive.copy_path(services.data_dir, old).parent.iterdir())
    ), "an emptied subfolder goes too"


def test_purge_keeps_a_copy_while_any_recent_delivery_refers_to_it(services: Services) -> None:
    data = b"the same bytes delivered for two books"
    digest = archive.keep(services.data_dir, data)
    now = datetime.now(UTC)
    with services.store.write() as db:
        for book, when in (("J1", now - timedelta(days=1100)), ("J2", now - timedelta(days=45))):
            db.execute(
                "INSERT INTO scrada_deliveries (company_id, book_kind, book_id, document_id,"
                " state, path, sha256, size, document_date, source, delivered_at)"
                " VALUES ('c', 'daily-receipts', ?, 'd', 'delivered', ?, ?, ?, '2023-01-01',"
                " 'partner', ?)",
                [book, f"{book}/d.xml", digest, len(data), when.strftime("%Y-%m-%dT%H:%M:%SZ")],
            )
    os.utime(archive.copy_path(services.data_dir, digest), (THREE_YEARS_AGO,) * 2)
    assert archive.purge(services.store, services.data_dir, 24) == archive.PurgeReport(0, 1)
    assert archive.purge(services.store, services.data_dir, 1) == archive.PurgeReport(1, 0)
    assert copies(services) == []


def test_the_retention_setting_refuses_bad_values(services: Services, tmp_path: Path) -> None:
    assert settings.get(services.store, archive.RETENTION_KEY) == 24  # two years by default
    for bad in ("0", "121", "two", ""):
        with pytest.raises(settings.SettingError):
            settings.put(services.store, archive.RETENTION_KEY, bad)
    data = tmp_path / "cli-data"
    refused = relais("settings", "set", archive.RETENTION_KEY, "0", data_dir=data)
    assert refused.returncode == 2
    assert relais("settings", "set", archive.RETENTION_KEY, "36", data_dir=data).returncode == 0
