"""Office: a register's archive arriving as `archive_part` records (issue 17).

The office is a real data folder; the parts are those `write_archive` queues, applied in the
office's write transaction as its record kinds apply them. An archive is named only once whole
and checked; a damaged, foreign or forged one is refused with its reason and nothing kept.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_pos_archives import NOVEMBER, REGISTER, rewrite, stock
from webapp import i18n
from webapp.clock import now_iso
from webapp.config import resolve_data_dir
from webapp.pos import archive_check, archives, archives_office, office, trail_keys
from webapp.pos.archives_office import ArchiveRefused
from webapp.services import Services, open_services

NAME = f"relais-register-{REGISTER}-{NOVEMBER}.zip"


@pytest.fixture
def office_services(tmp_path: Path) -> Iterator[Services]:
    opened = open_services(resolve_data_dir(tmp_path / "office"))
    office.add_register(opened.store, REGISTER)
    yield opened
    opened.close()


@pytest.fixture
def signer() -> trail_keys.Signer:
    return trail_keys.new_signer()


@pytest.fixture
def archive(services: Services, signer: trail_keys.Signer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(archives, "PART_BYTES", 1024)  # several parts for a small archive
    monkeypatch.setattr(archives_office, "PART_BYTES", 1024)
    stock(services.store, signer)
    span = archives.period("month", NOVEMBER)
    return archives.write_archive(services.store, signer, REGISTER, span).path


def parts(path: Path) -> list[dict[str, Any]]:
    span = archives.period("month", NOVEMBER)
    return archives.part_payloads(path, archives.sha256_file(path), span)


def receive(office_services: Services, payload: dict[str, Any]) -> Path | None:
    register = office.get_register(office_services.store, REGISTER)
    assert register is not None
    with office_services.store.write() as db:
        return archives_office.apply_part(db, register, payload)


def folder(office_services: Services) -> Path:
    return office_services.data_dir.path / "archives" / f"register-{REGISTER}"


def refusal(office_services: Services, payload: dict[str, Any]) -> str:
    with i18n.language("en"):
        with pytest.raises(ArchiveRefused) as caught:
            receive(office_services, payload)
        return caught.value.translated()


def test_the_parts_make_the_archive_whole_at_the_office(
    office_services: Services, archive: Path
) -> None:
    sent = parts(archive)
    assert len(sent) > 2
    kept = [receive(office_services, part) for part in sent]
    assert kept[:-1] == [None] * (len(sent) - 1)
    assert kept[-1] == folder(office_services) / NAME
    assert kept[-1].read_bytes() == archive.read_bytes()
    archive_check.verify_archive(kept[-1])
    # Sent again (a lost answer): the same file, nothing left half-received.
    for part in (sent[0], sent[-1]):
        assert receive(office_services, part) in (None, kept[-1])
    assert receive(office_services, sent[-1]) == kept[-1]
    assert sorted(path.name for path in folder(office_services).iterdir()) == [".incoming", NAME]


def test_a_damaged_or_foreign_part_is_refused(office_services: Services, archive: Path) -> None:
    part = parts(archive)[1]
    damaged = {**part, "data": "AAAA" + part["data"][4:]}
    assert refusal(office_services, damaged) == "The archive part 1 is damaged."
    foreign = {**part, "name": f"relais-register-9-{NOVEMBER}.zip"}
    assert refusal(office_services, foreign) == f"This is not an archive of register {REGISTER}."
    for index, count in ((3, 3), (-1, 3), (0, 10**9), ("1", 3)):
        wrong = {**part, "index": index, "count": count}
        assert refusal(office_services, wrong) == "The archive part's number is wrong."
    assert refusal(office_services, {**part, "sha256": "x"}) == "The archive part has no SHA-256."
    assert not (folder(office_services) / NAME).exists()


def test_a_forged_archive_is_refused_whole(office_services: Services, archive: Path) -> None:
    lines = archive_member(archive, "trail.jsonl").splitlines(keepends=True)
    rewrite(archive, {"trail.jsonl": b"".join(lines[1:])})
    sent = parts(archive)
    for part in sent[:-1]:
        receive(office_services, part)
    assert refusal(office_services, sent[-1]) == (
        "trail.jsonl in the archive does not match its manifest."
    )
    assert not (folder(office_services) / NAME).exists()


def test_an_archive_signed_by_another_key_than_the_registers_is_refused(
    office_services: Services, archive: Path
) -> None:
    other = trail_keys.new_signer()
    register = office.get_register(office_services.store, REGISTER)
    assert register is not None
    with office_services.store.write() as db:
        db.execute(
            "INSERT INTO pos_register_keys (register_id, key_id, public_key, registered_at)"
            " VALUES (?, ?, ?, ?)",
            [register.id, other.key_id, other.public_key, now_iso()],
        )
    sent = parts(archive)
    for part in sent[:-1]:
        receive(office_services, part)
    signed_by = json.loads(archive_member(archive, "manifest.sig"))["key_id"]
    assert refusal(office_services, sent[-1]) == (
        f"The archive is signed by key {signed_by}, not by the register's key."
    )


def archive_member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as opened:
        return opened.read(name)
