"""Monthly and yearly archives of a register's chains (issue 17): written, signed, checked alone.

The register is a real data folder; its tickets are recorded as `record_ticket` does (a ticket and
its chain row in one transaction). Tampering edits the ZIP the way an intruder would: a file in it
rewritten, a line dropped, the manifest changed, another key put in.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.test_pos_trail_core import REGISTER as REGISTER
from tests.test_pos_trail_core import payload, record
from webapp import i18n
from webapp.pos import archive_check, archives, register_config, trail, trail_keys, trail_verify
from webapp.pos.archives import ArchiveError, Period
from webapp.services import Services
from webapp.store import Store

OCTOBER, NOVEMBER = "2026-10", "2026-11"


def test_a_chain_checked_from_a_state_before_its_first_row(services: Services) -> None:
    store = services.store
    signer = trail_keys.new_signer()
    for number in range(1, 6):
        record(store, signer, number)
    with store.read() as db:
        rows = trail_verify.register_rows(db, REGISTER)
    keys = {signer.key_id: signer.public_key}
    states, _ = trail_verify.check_chains(rows[:3], keys)
    _, alone = trail_verify.check_chains(rows[3:], keys)
    assert [found.seq for found in alone] == [1]  # rows 4 and 5 alone: 1 to 3 are missing
    reached, breaks = trail_verify.check_chains(rows[3:], keys, start=states)
    assert breaks == []
    assert reached["ticket"].seq == 5
    assert states["ticket"].seq == 3  # the start is copied, not moved


# --- A register with two months of records ------------------------------------------------------


def sell_at(store: Store, signer: trail_keys.Signer, number: int, when: str) -> None:
    """A ticket and its chain row in one transaction, recorded at ``when`` (sign_ticket's row)."""
    ticket = payload(number)
    with store.write() as db:
        db.execute(
            "INSERT INTO pos_tickets (id, number, sold_at, total_incl_vat, payload)"
            " VALUES (?, ?, ?, ?, ?)",
            [f"R2-{number}", ticket["number"], when, ticket["total_incl_vat"], json.dumps(ticket)],
        )
        fields = trail.ticket_fields(ticket, "sale", trail.grand_totals(db))
        trail.append(db, signer, REGISTER, "ticket", "sale", ticket["number"], fields, when)


def event_at(store: Store, signer: trail_keys.Signer, code: str, when: str) -> None:
    with store.write() as db:
        trail.append(db, signer, REGISTER, "event", code, f"E-{when}", {"code": code}, when)


def stock(store: Store, signer: trail_keys.Signer) -> None:
    """Tickets 1-3 and an event in October, tickets 4-6 and two events in November."""
    with store.write() as db:
        register_config.write_settings(
            db,
            {
                register_config.SERVER_URL: "http://127.0.0.1:9",
                register_config.REGISTER_NUMBER: REGISTER,
                register_config.COMPANY: "MAIN",
            },
        )
    event_at(store, signer, "80", "2026-10-14T08:00:00.000000Z")
    for number in (1, 2, 3):
        sell_at(store, signer, number, f"2026-10-15T10:0{number}:00.000000Z")
    event_at(store, signer, "80", "2026-11-14T08:00:00.000000Z")
    for number in (4, 5, 6):
        sell_at(store, signer, number, f"2026-11-15T10:0{number}:00.000000Z")
    event_at(store, signer, "90", "2026-11-16T20:00:00.000000Z")


@pytest.fixture
def signer() -> trail_keys.Signer:
    return trail_keys.new_signer()


@pytest.fixture
def till(services: Services, signer: trail_keys.Signer) -> Store:
    stock(services.store, signer)
    return services.store


def month(text: str) -> Period:
    return archives.period("month", text)


def problem(path: Path, trusted: dict[str, str] | None = None) -> str:
    with i18n.language("en"):
        with pytest.raises(ArchiveError) as caught:
            archive_check.verify_archive(path, trusted)
        return caught.value.translated()


def test_a_month_is_written_signed_and_checked_on_its_own(
    till: Store, signer: trail_keys.Signer
) -> None:
    written = archives.write_archive(till, signer, REGISTER, month(NOVEMBER))
    assert written.path == till.path.parent / "archives" / "relais-register-2-2026-11.zip"
    assert written.counts == {"rows": 5, "tickets": 3}
    checked = archive_check.verify_archive(written.path)
    manifest = checked.manifest
    assert checked.sha256 == written.sha256
    assert manifest["period"] == NOVEMBER and manifest["company"] == "MAIN"
    # November's first ticket is the chain's fourth: the state before it is in the manifest.
    assert manifest["chains"]["ticket"] == {
        "count": 3,
        "first": 4,
        "last": 6,
        "last_signature": manifest["chains"]["ticket"]["last_signature"],
    }
    assert manifest["before"]["ticket"]["seq"] == 3
    assert manifest["before"]["ticket"]["totals"]["sales"] == "90.30"
    with zipfile.ZipFile(written.path) as opened:
        names = sorted(opened.namelist())
        tickets = opened.read("tickets.jsonl").decode().splitlines()
    assert names == sorted([*archives.FILES, archives.MANIFEST, archives.SIGNATURE])
    assert [json.loads(line)["number"] for line in tickets] == [
        "C2-000004",
        "C2-000005",
        "C2-000006",
    ]
    # The archive is itself a signed row of the archive chain, and every chain still holds.
    with till.read() as db:
        row = db.execute(
            "SELECT kind, ref, fields FROM pos_trail WHERE chain = 'archive'"
        ).fetchone()
        assert trail_verify.verify_register(db, REGISTER, {signer.key_id: signer.public_key}) == []
    assert (row["kind"], row["ref"]) == ("month", written.path.name)
    assert json.loads(row["fields"])["sha256"] == written.sha256
    with till.read() as db:
        event = db.execute("SELECT fields FROM pos_trail WHERE kind = '30'").fetchone()
    assert json.loads(event["fields"])["details"]["file"] == written.path.name
    archive_check.verify_archive(written.path, {signer.key_id: signer.public_key})


def test_the_months_closure_is_in_its_archive_even_recorded_after_it(
    till: Store, signer: trail_keys.Signer
) -> None:
    with till.write() as db:
        for ref, when in (
            ("day-2026-10-31", "2026-10-31T19:00:00.000000Z"),
            ("day-2026-11-30", "2026-11-30T19:00:00.000000Z"),
            ("month-2026-11", "2026-12-01T07:00:00.000000Z"),
            ("day-2026-12-01", "2026-12-01T19:00:00.000000Z"),
        ):
            trail.append(db, signer, REGISTER, "closure", ref[: ref.index("-")], ref, {}, when)
    written = archives.write_archive(till, signer, REGISTER, month(NOVEMBER))
    manifest = archive_check.verify_archive(written.path).manifest
    assert manifest["chains"]["closure"]["first"] == 2
    assert manifest["chains"]["closure"]["last"] == 3
    assert manifest["before"]["closure"]["seq"] == 1


def test_a_year_holds_both_months_and_october_its_own(
    till: Store, signer: trail_keys.Signer
) -> None:
    year = archives.write_archive(till, signer, REGISTER, archives.period("year", "2026"))
    october = archives.write_archive(till, signer, REGISTER, month(OCTOBER))
    assert year.counts == {"rows": 9, "tickets": 6}
    assert october.counts == {"rows": 4, "tickets": 3}
    assert archive_check.verify_archive(october.path).manifest["before"]["ticket"]["seq"] == 0
    # The year's archive row is in the archive chain, so the later one carries it.
    later = archives.write_archive(till, signer, REGISTER, archives.period("year", "2026"))
    assert later.counts["rows"] >= 9  # and the two archive rows when they are of 2026
    archive_check.verify_archive(later.path)


def test_a_period_is_a_month_or_a_year_as_written() -> None:
    assert archives.period("month", "2026-02").text == "2026-02"
    assert archives.period("year", "2026").end.startswith(("2026-12-31", "2027-01-01"))
    for kind, text in (
        ("month", "2026"),
        ("year", "2026-11"),
        ("month", "2026-13"),
        ("month", "x"),
    ):
        with pytest.raises(ArchiveError):
            archives.period(kind, text)
    with pytest.raises(ArchiveError):
        archives.period("week", "2026-11")
    # By default the last one that has ended.
    january = datetime(2027, 1, 5, 12, 0)
    assert archives.period("month", None, january).text == "2026-12"
    assert archives.period("month", None, datetime(2026, 11, 30, 12, 0)).text == "2026-10"
    assert archives.period("year", None, january).text == "2026"


# --- Tampering ------------------------------------------------------------------------------------


def rewrite(path: Path, change: dict[str, Any]) -> None:
    """The ZIP written again with some members changed (bytes) or dropped (None)."""
    with zipfile.ZipFile(path) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    for name, data in change.items():
        if data is None:
            members.pop(name)
        else:
            members[name] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as opened:
        for name, data in members.items():
            opened.writestr(name, data)


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as opened:
        return opened.read(name)


@pytest.fixture
def november(till: Store, signer: trail_keys.Signer) -> Path:
    return archives.write_archive(till, signer, REGISTER, month(NOVEMBER)).path


def test_an_edited_ticket_in_the_file_is_named(november: Path) -> None:
    text = member(november, "tickets.jsonl").decode().replace("14.50", "4.50", 1)
    rewrite(november, {"tickets.jsonl": text.encode()})
    assert problem(november) == "tickets.jsonl in the archive does not match its manifest."


def test_a_dropped_trail_line_is_named(november: Path) -> None:
    lines = member(november, "trail.jsonl").splitlines(keepends=True)
    rewrite(november, {"trail.jsonl": b"".join(lines[:2] + lines[3:])})
    assert problem(november) == "trail.jsonl in the archive does not match its manifest."


def test_a_changed_manifest_is_named(november: Path) -> None:
    manifest = json.loads(member(november, "manifest.json"))
    manifest["counts"]["tickets"] = 2
    rewrite(november, {"manifest.json": json.dumps(manifest).encode()})
    assert problem(november) == "The archive's manifest was altered: its signature does not match."


def test_a_swapped_public_key_is_named(november: Path) -> None:
    other = trail_keys.new_signer()
    rewrite(november, {"public_keys.json": json.dumps({other.key_id: other.public_key}).encode()})
    assert problem(november) == "public_keys.json in the archive does not match its manifest."


def resign(path: Path, intruder: trail_keys.Signer, change: dict[str, bytes]) -> None:
    """An intruder's whole new archive: files changed, hashes and manifest signed with their key."""
    manifest = json.loads(member(path, "manifest.json"))
    change = {
        "public_keys.json": json.dumps({intruder.key_id: intruder.public_key}).encode(),
        **change,
    }
    for name, data in change.items():
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
    manifest["key_id"] = intruder.key_id
    text = json.dumps(manifest).encode()
    signed = {"key_id": intruder.key_id, "signature": intruder.sign(archives.SIGNED_PREFIX + text)}
    rewrite(path, {**change, "manifest.json": text, "manifest.sig": json.dumps(signed).encode()})


def test_an_intruder_signing_again_with_another_key_is_found(
    november: Path, signer: trail_keys.Signer
) -> None:
    intruder = trail_keys.new_signer()
    text = member(november, "tickets.jsonl").decode().replace("14.50", "4.50")
    resign(november, intruder, {"tickets.jsonl": text.encode()})
    # The records keep the register's signatures: the intruder's key is not theirs.
    assert problem(november) == (f"ticket record 4 is signed by an unknown key {signer.key_id}.")
    # With the register's key as the office shows it, the file itself is refused.
    assert problem(november, {signer.key_id: signer.public_key}) == (
        f"The archive is signed by key {intruder.key_id}, not by the register's key."
    )


def test_a_ticket_edited_on_the_register_before_archiving_is_named(
    till: Store, signer: trail_keys.Signer
) -> None:
    with till.write() as db:
        db.execute(
            "UPDATE pos_tickets SET payload = replace(payload, '14.50', '4.50')"
            " WHERE number = 'C2-000005'"
        )
    path = archives.write_archive(till, signer, REGISTER, month(NOVEMBER)).path
    assert problem(path) == "Ticket C2-000005 differs from what was signed."


def test_a_row_deleted_on_the_register_before_archiving_is_named(
    till: Store, signer: trail_keys.Signer
) -> None:
    with till.write() as db:
        db.execute("DELETE FROM pos_trail WHERE chain = 'ticket' AND seq = 5")
        db.execute("DELETE FROM pos_tickets WHERE number = 'C2-000005'")
    path = archives.write_archive(till, signer, REGISTER, month(NOVEMBER)).path
    assert problem(path) == "ticket record 5 is missing."


# --- Untrusted files ------------------------------------------------------------------------------


def test_a_file_that_is_no_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_text("not a zip")
    assert problem(path).startswith("x.zip is not a readable Relais archive")
    assert problem(tmp_path / "absent.zip").startswith("Cannot read")


def test_an_oversized_file_is_refused_before_reading(
    november: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_check, "MAX_ARCHIVE_BYTES", 1000)
    assert "is too big for an archive" in problem(november)


def test_a_zip_bomb_is_refused_before_unpacking(november: Path) -> None:
    rewrite(november, {"trail.jsonl": b"\n" * (64 * 1024 * 1024)})
    assert problem(november) == "trail.jsonl in the archive is too big once unpacked."


def test_other_names_and_missing_files_are_refused(november: Path) -> None:
    rewrite(november, {"../../etc/evil": b"x"})
    assert problem(november) == "The archive does not hold the expected files (../../etc/evil)."
    rewrite(november, {"../../etc/evil": None, "public_keys.json": None})
    assert problem(november) == "The archive does not hold the expected files (public_keys.json)."


def test_a_manifest_that_is_not_json_is_refused(november: Path) -> None:
    rewrite(november, {"manifest.json": b"{not json"})
    assert problem(november) == "manifest.json in the archive is not valid JSON."


def test_an_intruders_odd_values_are_refused_not_raised(november: Path) -> None:
    """A whole archive an intruder signed with a key of their own, its register not a number."""
    intruder = trail_keys.new_signer()
    keys = json.dumps({intruder.key_id: intruder.public_key}).encode()
    manifest = json.loads(member(november, "manifest.json"))
    manifest["register"] = "two"
    manifest["key_id"] = intruder.key_id
    manifest["files"]["public_keys.json"] = hashlib.sha256(keys).hexdigest()
    text = json.dumps(manifest).encode()
    signed = {"key_id": intruder.key_id, "signature": intruder.sign(archives.SIGNED_PREFIX + text)}
    rewrite(
        november,
        {
            "public_keys.json": keys,
            "manifest.json": text,
            "manifest.sig": json.dumps(signed).encode(),
        },
    )
    assert problem(november) == "The archive could not be checked (ValueError)."
