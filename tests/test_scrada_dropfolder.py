"""The drop folder: ready files are taken by content, half-written ones wait, others are reported
once, and processed files move aside without ever overwriting one another."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from webapp.scrada import dropfolder
from webapp.scrada.dropfolder import (
    PROCESSED,
    DropFolder,
    DroppedFile,
    document_id,
    mark_processed,
)
from webapp.scrada.formats import MAX_DOCUMENT_BYTES
from webapp.scrada.sniff import document_kind as sniff_kind

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
UBL = CORPUS / "ubl/deinte-scrada-postman__Get_sales_invoice_UBL.xml"
CREDIT_NOTE = CORPUS / "ubl/peppol-bis3__base-creditnote-correction.xml"
CODA_CRLF = CORPUS / "coda/pycoda__Coda_v2_3_single_statement.txt"
CODA_LF = CORPUS / "coda/pycoda__Coda_v2_3_globalisation.txt"
NOW = 1_800_000_000.0
OLD = NOW - 3600


def drop(folder: Path, name: str, data: bytes, mtime: float = OLD) -> Path:
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "drop"
    path.mkdir()
    return path


def names(files: list[DroppedFile]) -> list[str]:
    return [file.name for file in files]


def test_ready_files_are_taken_by_content_oldest_first(folder: Path) -> None:
    drop(folder, "b.xml", UBL.read_bytes(), OLD + 2)
    drop(folder, "statement.bin", CODA_CRLF.read_bytes(), OLD)  # the name says nothing
    drop(folder, "c", CREDIT_NOTE.read_bytes(), OLD + 1)
    result = DropFolder(folder).scan(now=NOW)
    assert [(f.name, f.kind) for f in result.files] == [
        ("statement.bin", "coda"),
        ("c", "ubl"),
        ("b.xml", "ubl"),
    ]
    assert result.refused == [] and result.more is False
    taken = result.files[2]
    assert taken.data == UBL.read_bytes()
    assert taken.sha256 == hashlib.sha256(UBL.read_bytes()).hexdigest()
    assert taken.path == folder / "b.xml"


@pytest.mark.parametrize(
    "name", [".b.xml", "~b.xml", "b.xml.tmp", "b.xml.part", "b.xml.filepart", "B.XML.PART"]
)
def test_hidden_and_temporary_names_are_left_alone(folder: Path, name: str) -> None:
    drop(folder, name, UBL.read_bytes())
    result = DropFolder(folder).scan(now=NOW)
    assert result.files == [] and result.refused == []
    assert (folder / name).exists()


def test_folders_are_not_documents(folder: Path) -> None:
    (folder / PROCESSED).mkdir()
    drop(folder / PROCESSED, "old.xml", UBL.read_bytes())
    (folder / "sub.xml").mkdir()
    assert DropFolder(folder).scan(now=NOW).files == []


def test_a_file_modified_recently_waits_for_the_next_scan(folder: Path) -> None:
    drop(folder, "a.xml", UBL.read_bytes(), NOW - 3)
    scanner = DropFolder(folder, settle_seconds=10)
    assert scanner.scan(now=NOW).files == []
    assert names(scanner.scan(now=NOW + 8).files) == ["a.xml"]
    assert names(DropFolder(folder, settle_seconds=2).scan(now=NOW).files) == ["a.xml"]


def test_a_file_whose_size_changed_since_the_last_look_waits(folder: Path) -> None:
    # A writer that keeps the modification time (some FTP servers set it at the end).
    data = CODA_LF.read_bytes()
    path = drop(folder, "a.cod", data[:300], NOW - 1)
    scanner = DropFolder(folder)
    assert scanner.scan(now=NOW).files == []
    drop(folder, "a.cod", data, OLD)
    assert scanner.scan(now=NOW + 20).files == []  # 300 bytes then, more now
    (taken,) = scanner.scan(now=NOW + 40).files
    assert taken.data == data and taken.path == path


def test_a_file_that_grows_while_read_waits(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drop(folder, "a.xml", UBL.read_bytes())
    real_fstat = os.fstat

    def growing(fd: int) -> os.stat_result:
        stat = real_fstat(fd)
        fields = list(stat)
        fields[6] += 10  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", growing)
    assert DropFolder(folder).scan(now=NOW).files == []
    monkeypatch.setattr(os, "fstat", real_fstat)
    assert names(DropFolder(folder).scan(now=NOW).files) == ["a.xml"]


def test_a_file_held_open_by_its_writer_on_windows_waits(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(folder, "a.xml", UBL.read_bytes())

    def held(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "sharing violation")

    monkeypatch.setattr(Path, "open", held)
    monkeypatch.setattr(dropfolder, "_WINDOWS", True)
    assert DropFolder(folder).scan(now=NOW) == dropfolder.ScanResult([], [])
    monkeypatch.setattr(dropfolder, "_WINDOWS", False)
    (refused,) = DropFolder(folder).scan(now=NOW).refused
    assert refused.message == "{file} cannot be read (permission denied)."


def test_other_files_stay_and_are_reported_once(folder: Path) -> None:
    drop(folder, "notes.txt", b"hello\n")
    drop(
        folder,
        "order.xml",
        b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>",
    )
    drop(folder, "broken.xml", b"<Invoice")
    scanner = DropFolder(folder)
    first = scanner.scan(now=NOW)
    assert first.files == []
    assert sorted(r.params["file"] for r in first.refused) == [
        "broken.xml",
        "notes.txt",
        "order.xml",
    ]
    assert {r.message for r in first.refused} == {
        "{file} is neither a UBL invoice nor a CODA file; it is left in the drop folder."
    }
    assert scanner.scan(now=NOW + 60).refused == []
    drop(folder, "notes.txt", b"hello again\n")
    assert scanner.scan(now=NOW + 120).refused == []  # its size changed: it may be written
    assert [r.params["file"] for r in scanner.scan(now=NOW + 180).refused] == ["notes.txt"]
    assert sorted(p.name for p in folder.iterdir()) == ["broken.xml", "notes.txt", "order.xml"]


def test_a_file_too_large_is_not_read(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder / "huge.xml"
    with path.open("wb") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES + 1)  # sparse: no 20 MB written
    os.utime(path, (OLD, OLD))

    def no_reading(*args: object, **kwargs: object) -> object:
        raise AssertionError("a file over the limit must not be read")

    monkeypatch.setattr(Path, "open", no_reading)
    (refused,) = DropFolder(folder).scan(now=NOW).refused
    assert refused.params == {"file": "huge.xml", "limit": MAX_DOCUMENT_BYTES // (1024 * 1024)}


def test_a_scan_is_bounded(folder: Path) -> None:
    for index in range(5):
        drop(folder, f"{index}.xml", UBL.read_bytes() + b" " * index, OLD + index)
    result = DropFolder(folder, limit=2).scan(now=NOW)
    assert names(result.files) == ["0.xml", "1.xml"] and result.more is True
    assert DropFolder(folder, limit=5).scan(now=NOW).more is False


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (UBL.read_bytes(), "ubl"),
        (b"\xef\xbb\xbf" + UBL.read_bytes(), "ubl"),
        (UBL.read_text().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), "ubl"),
        (CREDIT_NOTE.read_bytes(), "ubl"),
        (CODA_CRLF.read_bytes(), "coda"),
        (CODA_LF.read_bytes(), "coda"),
        # A DOCTYPE is not expanded here; delivery refuses the file, into quarantine.
        (
            b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'>&b;</Invoice>",
            "ubl",
        ),
        (CODA_LF.read_bytes()[1:], None),  # 127 columns
        (b"1" + CODA_LF.read_bytes()[1:], None),  # not a record 0
        (b"<Invoice xmlns='urn:other'/>", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_kind(data: bytes, kind: str | None) -> None:
    assert sniff_kind(data) == kind


def test_processed_files_move_aside_with_numbered_names(folder: Path) -> None:
    for round_ in range(3):
        drop(folder, "x.xml", UBL.read_bytes() + b" " * round_)
        drop(folder, "plain", CODA_LF.read_bytes())
        files = DropFolder(folder).scan(now=NOW).files
        moved = [mark_processed(file) for file in files]
        suffix = "" if round_ == 0 else f" ({round_ + 1})"
        assert sorted(path.name for path in moved) == sorted([f"x{suffix}.xml", f"plain{suffix}"])
    processed = folder / PROCESSED
    assert (processed / "x (3).xml").read_bytes() == UBL.read_bytes() + b"  "
    assert (processed / "x.xml").read_bytes() == UBL.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == [PROCESSED]


def test_moving_without_hard_links_still_never_overwrites(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    drop(folder, "x.xml", b"first")
    (folder / PROCESSED).mkdir()
    (folder / PROCESSED / "x.xml").write_bytes(b"already there")
    file = DroppedFile(folder / "x.xml", "x.xml", "ubl", b"first", "")
    assert mark_processed(file) == folder / PROCESSED / "x (2).xml"
    assert (folder / PROCESSED / "x.xml").read_bytes() == b"already there"
    assert (folder / PROCESSED / "x (2).xml").read_bytes() == b"first"


def test_a_file_not_moved_before_a_crash_has_the_same_id_next_time(folder: Path) -> None:
    drop(folder, "a.xml", UBL.read_bytes())
    (first,) = DropFolder(folder).scan(now=NOW).files
    # kill -9 here: delivered, not moved. A new process scans again.
    (again,) = DropFolder(folder).scan(now=NOW + 60).files
    assert document_id(again) == document_id(first)
    assert document_id(first) == "drop-" + hashlib.sha256(UBL.read_bytes()).hexdigest()[:24]


def test_symbolic_links_are_not_followed(folder: Path, tmp_path: Path) -> None:
    outside = drop(tmp_path, "outside.xml", UBL.read_bytes())
    (folder / "link.xml").symlink_to(outside)
    assert DropFolder(folder).scan(now=NOW) == dropfolder.ScanResult([], [])
