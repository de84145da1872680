"""Office: a register's archives arriving through the outbox (issue 17, docs/pos-trail.md).

An archive travels as ``archive_part`` records of :data:`webapp.pos.archives.PART_BYTES` each, in
order. Each part is kept as a file under ``<office data dir>/archives/register-<N>/.incoming/``
(written again as it is when a record comes twice); the last one puts the parts together, checks
the whole file's SHA-256 and then the archive itself against the register's keys held here, and
only then gives it its name (a temporary file renamed). A file of the same name with other
content is kept, renamed after its SHA-256: nothing received is lost.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from webapp.i18n import N_, UserError
from webapp.pos import archive_check
from webapp.pos.archives import PART_BYTES, ArchiveError, sha256_file
from webapp.pos.office import Register

MAX_PARTS = archive_check.MAX_ARCHIVE_BYTES // PART_BYTES
_NAME = re.compile(r"relais-register-(\d{1,9})-(\d{4}(?:-\d{2})?)\.zip")
_HEX = re.compile(r"[0-9a-f]{64}")


class ArchiveRefused(UserError):
    """An archive part the office refuses; the record is kept as rejected with this reason."""


def apply_part(db: Any, register: Register, payload: Mapping[str, Any]) -> Path | None:
    """Keep one part; the archive's path once its last part made it whole and it holds."""
    name, index, count, digest, data = _checked(register, payload)
    folder = office_folder(db) / "archives" / f"register-{register.number}"
    incoming = folder / ".incoming" / f"{name}.{digest[:16]}"
    final = folder / name
    if not incoming.exists() and final.exists() and sha256_file(final) == digest:
        return final  # a part sent again after its archive was made whole
    incoming.mkdir(parents=True, exist_ok=True)
    _write(incoming / f"{index:06d}.part", data)
    parts = [incoming / f"{number:06d}.part" for number in range(count)]
    if not all(part.exists() for part in parts):
        return None
    if final.exists() and sha256_file(final) == digest:  # a last part sent again
        shutil.rmtree(incoming, ignore_errors=True)
        return final
    whole = b"".join(part.read_bytes() for part in parts)
    if hashlib.sha256(whole).hexdigest() != digest:
        raise ArchiveRefused(N_("The archive {name} did not arrive whole."), name=name)
    temporary = folder / f".{name}.{digest[:16]}.tmp"
    _write(temporary, whole)
    try:
        archive_check.verify_archive(temporary, register_keys(db, register) or None)
    except ArchiveError as exc:
        temporary.unlink(missing_ok=True)
        raise ArchiveRefused(exc.message, **exc.params) from None
    if final.exists():  # another archive of the period, written again on the register: kept
        os.replace(final, folder / f"{final.stem}.{sha256_file(final)[:16]}.zip")
    os.replace(temporary, final)
    shutil.rmtree(incoming, ignore_errors=True)
    return final


def _checked(register: Register, payload: Mapping[str, Any]) -> tuple[str, int, int, str, bytes]:
    name, index, count = payload.get("name"), payload.get("index"), payload.get("count")
    digest, part_digest = payload.get("sha256"), payload.get("part_sha256")
    found = _NAME.fullmatch(name) if isinstance(name, str) else None
    if found is None or int(found.group(1)) != register.number:
        raise ArchiveRefused(
            N_("This is not an archive of register {number}."), number=register.number
        )
    if not (type(count) is int and type(index) is int and 0 <= index < count <= MAX_PARTS):
        raise ArchiveRefused(N_("The archive part's number is wrong."))
    if not all(isinstance(text, str) and _HEX.fullmatch(text) for text in (digest, part_digest)):
        raise ArchiveRefused(N_("The archive part has no SHA-256."))
    try:
        data = base64.b64decode(str(payload.get("data")), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data or len(data) > PART_BYTES or hashlib.sha256(data).hexdigest() != part_digest:
        raise ArchiveRefused(N_("The archive part {index} is damaged."), index=index)
    return str(name), index, count, str(digest), data


def office_folder(db: Any) -> Path:
    """The office's data folder: where its database file is."""
    for row in db.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    raise ArchiveRefused(N_("The office keeps its data in no folder."))


def register_keys(db: Any, register: Register) -> dict[str, str]:
    """The register's public keys the office holds (registered at join)."""
    rows = db.execute(
        "SELECT key_id, public_key FROM pos_register_keys WHERE register_id = ?", [register.id]
    )
    return {str(row[0]): str(row[1]) for row in rows}


def _write(path: Path, data: bytes) -> None:
    """The whole file under its name, or nothing: a temporary file synced, then renamed."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as raw:
            raw.write(data)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
