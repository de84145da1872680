"""The documents inside one e-mail from Scrada: UBL invoices, CODA statements and zips of them.

`read_message(uid, raw)` parses the message bytes (stdlib `email`) and sorts every attached file
into what the pull takes (`MailAttachment`, kind 'ubl' or 'coda') and what it leaves, each with a
reason a user can read (`Skipped`, an English msgid and its params, as history items store them).

The kind is decided by the content, never by the file name alone: a UBL is XML whose root is
Invoice or CreditNote; a CODA starts with a 128-column header record. The full validation is
delivery's (`formats.check_ubl` / `check_coda`): a document that looks like one but is broken must
end in quarantine with its reason, not be dropped here. A zip is opened once (a zip inside it is not
followed), with limits on entries and sizes read as the data streams, so a zip bomb costs at most
the limit, and member names are only shown, never used as paths.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import PurePosixPath
from typing import Any

from webapp.i18n import N_, gettext
from webapp.scrada.formats import MAX_DOCUMENT_BYTES
from webapp.scrada.sniff import document_kind

MAX_PARTS_PER_MESSAGE = 100
MAX_ZIP_ENTRIES = 200
MAX_MESSAGE_DOCUMENT_BYTES = 100 * 1024 * 1024  # all documents of one message, zips unpacked
TAKEN_EXTENSIONS = {".xml", ".cod", ".coda", ".txt", ".zip"}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
XML_TYPES = {"application/xml", "text/xml"}
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    NotImplementedError,  # a compression method zipfile lacks (deflate64, ...)
    RuntimeError,  # an encrypted member
    EOFError,
    OSError,
    ValueError,
)


@dataclass(frozen=True)
class MailAttachment:
    uid: int
    message_id: str
    filename: str  # as shown to a user; "archive.zip/member.xml" for a zip member
    kind: str  # 'ubl' or 'coda'
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Skipped:
    uid: int
    message_id: str
    filename: str
    message: str  # an English msgid
    params: dict[str, str | int] = field(default_factory=dict)

    def translated(self) -> str:
        return gettext(self.message, **self.params)


@dataclass(frozen=True)
class MailMessage:
    uid: int
    message_id: str  # the Message-ID header, or "sha256:<hex>" of the message without one
    attachments: tuple[MailAttachment, ...]
    skipped: tuple[Skipped, ...]


@dataclass
class _Collector:
    uid: int
    message_id: str
    budget: int = MAX_MESSAGE_DOCUMENT_BYTES
    taken: list[MailAttachment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, filename: str, message: str, **params: str | int) -> None:
        self.skipped.append(Skipped(self.uid, self.message_id, filename, message, params))

    def take(self, filename: str, kind: str, data: bytes) -> None:
        if len(data) > self.budget:
            self.skip(
                filename,
                N_("Not taken: the message's documents exceed {limit} MB in all."),
                limit=MAX_MESSAGE_DOCUMENT_BYTES // (1024 * 1024),
            )
            return
        self.budget -= len(data)
        digest = hashlib.sha256(data).hexdigest()
        self.taken.append(MailAttachment(self.uid, self.message_id, filename, kind, data, digest))


def message_identity(raw: bytes, header: str | None) -> str:
    """The Message-ID, or for a message without one a digest of its bytes (the same bytes read
    again after a crash give the same identity)."""
    if header and header.strip():
        return " ".join(header.split())
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def read_message(uid: int, raw: bytes) -> MailMessage:
    """Every attached file of `raw`, taken or skipped with a reason."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    collector = _Collector(uid, message_identity(raw, _header(parsed, "Message-ID")))
    for number, (name, content_type, data) in enumerate(_files(parsed)):
        if number >= MAX_PARTS_PER_MESSAGE:
            collector.skip(
                name,
                N_("Not taken: a message is read up to its first {limit} attachments."),
                limit=MAX_PARTS_PER_MESSAGE,
            )
            break
        _sort_file(collector, name, content_type, data)
    return MailMessage(uid, collector.message_id, tuple(collector.taken), tuple(collector.skipped))


def too_large(uid: int, message_id: str, size: int, limit: int) -> MailMessage:
    """A message not downloaded at all because of its size: reported, so it can be marked done."""
    collector = _Collector(uid, message_id)
    collector.skip(
        "",
        N_("The message is larger than {limit} MB ({size} bytes): not read."),
        limit=limit // (1024 * 1024),
        size=size,
    )
    return MailMessage(uid, message_id, (), tuple(collector.skipped))


def _header(parsed: Message, name: str) -> str | None:
    try:
        value = parsed.get(name)
    except (ValueError, TypeError, IndexError):  # a header the parser cannot make sense of
        return None
    return None if value is None else str(value)


def _files(parsed: Message) -> Iterator[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each attached file; the text of the mail itself (a part
    without a file name or attachment disposition) is not a file."""
    for part in parsed.walk():
        if part.is_multipart():
            continue
        try:
            name = part.get_filename() or ""
        except (ValueError, TypeError, IndexError):
            name = ""
        if not name and part.get_content_disposition() != "attachment":
            continue
        payload: Any = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        yield PurePosixPath(name.replace("\\", "/")).name, part.get_content_type(), data


def _sort_file(collector: _Collector, name: str, content_type: str, data: bytes) -> None:
    suffix = PurePosixPath(name.lower()).suffix
    if suffix == ".zip" or content_type in ZIP_TYPES or data.startswith(_ZIP_MAGIC):
        _open_zip(collector, name or "attachment.zip", data)
        return
    if suffix not in TAKEN_EXTENSIONS and content_type not in XML_TYPES:
        collector.skip(
            name,
            N_("Not taken: only UBL (.xml), CODA (.cod, .coda, .txt) and zip files are read."),
        )
        return
    _classify(collector, name, data)


def _classify(collector: _Collector, name: str, data: bytes) -> None:
    if len(data) > MAX_DOCUMENT_BYTES:
        collector.skip(
            name,
            N_("Not taken: the file is larger than {limit} MB ({size} bytes)."),
            limit=MAX_DOCUMENT_BYTES // (1024 * 1024),
            size=len(data),
        )
        return
    kind = document_kind(data)
    if kind is None:
        collector.skip(name, N_("Not taken: neither a UBL invoice or credit note nor a CODA file."))
        return
    collector.take(name, kind, data)


def _open_zip(collector: _Collector, name: str, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_ENTRIES:
                collector.skip(
                    name,
                    N_("Not taken: the zip holds {count} entries, more than {limit}."),
                    count=len(members),
                    limit=MAX_ZIP_ENTRIES,
                )
                return
            for member in members:
                _zip_member(collector, name, archive, member)
    except _ZIP_ERRORS as exc:
        collector.skip(name, N_("Not taken: the zip cannot be read ({error})."), error=str(exc))


def _zip_member(
    collector: _Collector, zip_name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo
) -> None:
    if member.is_dir():
        return
    shown = f"{zip_name}/{member.filename}"
    if not _safe_member_name(member.filename):
        collector.skip(shown, N_("Not taken: the zip entry's name is not a plain relative path."))
        return
    if member.flag_bits & 0x1:
        collector.skip(shown, N_("Not taken: the zip entry is encrypted."))
        return
    if member.file_size > MAX_DOCUMENT_BYTES:
        collector.skip(
            shown,
            N_("Not taken: the file is larger than {limit} MB ({size} bytes)."),
            limit=MAX_DOCUMENT_BYTES // (1024 * 1024),
            size=member.file_size,
        )
        return
    try:
        with archive.open(member) as stream:
            # The declared size may lie: never inflate more than the limit plus one byte.
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
    except _ZIP_ERRORS as exc:  # a damaged entry; the others may be fine
        collector.skip(
            shown, N_("Not taken: the zip entry cannot be read ({error})."), error=str(exc)
        )
        return
    if data.startswith(_ZIP_MAGIC) or member.filename.lower().endswith(".zip"):
        collector.skip(shown, N_("Not taken: a zip inside a zip is not opened."))
        return
    suffix = PurePosixPath(member.filename.lower()).suffix
    if suffix not in TAKEN_EXTENSIONS:
        collector.skip(
            shown,
            N_("Not taken: only UBL (.xml), CODA (.cod, .coda, .txt) and zip files are read."),
        )
        return
    _classify(collector, shown, data)


def _safe_member_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    if len(name) > 1 and name[1] == ":":  # a Windows drive
        return False
    return ".." not in PurePosixPath(name).parts
