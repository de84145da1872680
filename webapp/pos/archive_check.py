"""Checking an archive file alone (issue 17, docs/pos-trail.md "Archives"), on any machine.

The file is untrusted input: its size and each member's size are checked before anything is read,
only the five names an archive holds are read (nothing is extracted to disk), and bad JSON is a
refusal. Then, in this order: each file's SHA-256 against the manifest, the manifest's signature,
every chain from where the manifest says it stood before the period
(:func:`webapp.pos.trail_verify.check_chains`), and the tickets against the rows that signed them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.i18n import N_
from webapp.pos import trail_keys, trail_verify
from webapp.pos.archives import (
    FILES,
    FORMAT,
    MANIFEST,
    SIGNATURE,
    SIGNED_PREFIX,
    ArchiveError,
    sha256_file,
)
from webapp.pos.trail import TrailRow
from webapp.pos.trail_verify import ChainState

# Limits on an untrusted file, checked before reading: a year of a busy till is far below them.
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, above 1 MiB: JSON compresses ~10x, a bomb ~1000x


@dataclass(frozen=True)
class Checked:
    """An archive that holds: what it says it is."""

    manifest: dict[str, Any]
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        keep = ("register", "office", "company", "kind", "period", "created_at", "key_id", "counts")
        return {"ok": True, "sha256": self.sha256, **{key: self.manifest.get(key) for key in keep}}


def verify_archive(path: Path, trusted: Mapping[str, str] | None = None) -> Checked:
    """Every check of an archive file alone; raises ArchiveError naming the first problem.

    ``trusted`` (key id → public key), when given, is where the register's key must come from
    (the office's copy): without it the file's own key is used, which proves the file whole but
    not who wrote it."""
    members = read_members(path)
    manifest = _load(members, MANIFEST, dict)
    if manifest.get("format") != FORMAT:
        raise ArchiveError(
            N_("This archive's format ({found}) is not one Relais reads."),
            found=str(manifest.get("format")),
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or sorted(files) != sorted(FILES):
        raise ArchiveError(N_("The archive's manifest does not list its files."))
    for name in FILES:
        if hashlib.sha256(members[name]).hexdigest() != files[name]:
            raise ArchiveError(N_("{name} in the archive does not match its manifest."), name=name)
    keys = _load(members, "public_keys.json", dict)
    _check_signature(members, manifest, keys, trusted)
    try:  # values an intruder chose, signed with a key of their own: any surprise is a refusal
        rows = _rows(members, int(manifest.get("register") or 0))
        _check_chains(rows, manifest, dict(trusted or keys))
        tickets = _check_tickets(members, rows)
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
        raise ArchiveError(
            N_("The archive could not be checked ({detail})."), detail=type(exc).__name__
        ) from None
    if manifest.get("counts") != {"rows": len(rows), "tickets": tickets}:
        raise ArchiveError(N_("The archive's counts do not match what it holds."))
    return Checked(manifest, sha256_file(path))


def read_members(path: Path) -> dict[str, bytes]:
    """The five files of an archive, their sizes checked before they are read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArchiveError(
            N_("Cannot read {file}: {detail}"), file=str(path), detail=exc.strerror or str(exc)
        ) from None
    if size > MAX_ARCHIVE_BYTES:
        raise ArchiveError(
            N_("{file} is too big for an archive ({size} bytes)."), file=path.name, size=size
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return _members(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(
            N_("{file} is not a readable Relais archive ({detail})."),
            file=path.name,
            detail=str(exc),
        ) from None


def _members(archive: zipfile.ZipFile) -> dict[str, bytes]:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    expected = sorted((*FILES, MANIFEST, SIGNATURE))
    if sorted(names) != expected:
        unexpected = sorted(set(names) - set(expected)) or sorted(set(expected) - set(names))
        raise ArchiveError(
            N_("The archive does not hold the expected files ({names})."),
            names=", ".join(unexpected or names),
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_MEMBER_BYTES or (info.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            raise ArchiveError(
                N_("{name} in the archive is too big once unpacked."), name=info.filename
            )
    found: dict[str, bytes] = {}
    for info in infos:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) != info.file_size:
            raise ArchiveError(
                N_("{name} in the archive is not the size it declares."), name=info.filename
            )
        found[info.filename] = data
    return found


def _load(members: Mapping[str, bytes], name: str, shape: type) -> Any:
    try:
        value = json.loads(members[name])
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, shape):
        raise ArchiveError(N_("{name} in the archive is not valid JSON."), name=name)
    return value


def _check_signature(
    members: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    keys: Mapping[str, Any],
    trusted: Mapping[str, str] | None,
) -> None:
    signed = _load(members, SIGNATURE, dict)
    key_id = signed.get("key_id")
    public = (trusted or keys).get(key_id) if isinstance(key_id, str) else None
    if trusted is not None and public is None:
        raise ArchiveError(
            N_("The archive is signed by key {key}, not by the register's key."), key=str(key_id)
        )
    if key_id != manifest.get("key_id") or not isinstance(public, str):
        raise ArchiveError(N_("The archive's signing key is not in it."))
    if trusted is None and trail_keys.key_id(public) != key_id:
        raise ArchiveError(N_("public_keys.json in the archive does not match its manifest."))
    data = SIGNED_PREFIX + members[MANIFEST]
    if not trail_keys.verify(public, data, str(signed.get("signature") or "")):
        raise ArchiveError(N_("The archive's manifest was altered: its signature does not match."))


def _rows(members: Mapping[str, bytes], register: int) -> list[TrailRow]:
    rows = []
    for number, line in enumerate(members["trail.jsonl"].splitlines(), 1):
        try:
            value = json.loads(line)
            texts = [
                value[key]
                for key in (
                    "chain",
                    "kind",
                    "ref",
                    "recorded_at",
                    "fields",
                    "previous",
                    "signature",
                    "key_id",
                )
            ]
            seq = value["seq"]
            if not all(isinstance(text, str) for text in texts) or type(seq) is not int:
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            raise ArchiveError(
                N_("Line {line} of trail.jsonl is not a chain record."), line=number
            ) from None
        chain, kind, ref, when, fields, previous, signature, key = texts
        rows.append(
            TrailRow(register, chain, seq, kind, ref, when, fields, previous, signature, key)
        )
    return rows


def _check_chains(rows: list[TrailRow], manifest: Mapping[str, Any], keys: dict[str, str]) -> None:
    try:
        start = {
            chain: ChainState(int(state["seq"]), str(state["signature"]), dict(state["totals"]))
            for chain, state in dict(manifest.get("before") or {}).items()
        }
        stated = {
            chain: (int(found["first"]), int(found["last"]), str(found["last_signature"]))
            for chain, found in dict(manifest.get("chains") or {}).items()
        }
    except (ValueError, KeyError, TypeError):
        raise ArchiveError(
            N_("The archive's manifest does not say where its chains start.")
        ) from None
    states, breaks = trail_verify.check_chains(rows, keys, start)
    if breaks:
        raise ArchiveError(
            breaks[0].problem, chain=breaks[0].chain, seq=breaks[0].seq, **breaks[0].params
        )
    for chain, state in states.items():
        first, last, signature = stated.get(chain, (0, start.get(chain, ChainState()).seq, ""))
        if state.seq != last or (chain in stated and state.signature != signature):
            raise ArchiveError(
                N_("The {chain} chain ends at record {seq}, not where its manifest says ({last})."),
                chain=chain,
                seq=state.seq,
                last=last,
            )
        if chain in stated and start.get(chain, ChainState()).seq != first - 1:
            raise ArchiveError(N_("The archive's manifest does not say where its chains start."))


def _check_tickets(members: Mapping[str, bytes], rows: list[TrailRow]) -> int:
    """The tickets in the file against the rows that signed them (the register's own check)."""
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE pos_tickets (number TEXT NOT NULL UNIQUE, payload TEXT NOT NULL)")
    try:
        for number, line in enumerate(members["tickets.jsonl"].splitlines(), 1):
            try:
                value = json.loads(line)
                db.execute(
                    "INSERT INTO pos_tickets VALUES (?, ?)",
                    [str(value["number"]), _payload_text(value["payload"])],
                )
            except (ValueError, KeyError, TypeError, RecursionError, sqlite3.Error):
                raise ArchiveError(
                    N_("Line {line} of tickets.jsonl is not a ticket."), line=number
                ) from None
        breaks = trail_verify.tickets_against_chain(db, rows)
    finally:
        db.close()
    if breaks:
        raise ArchiveError(
            breaks[0].problem, chain=breaks[0].chain, seq=breaks[0].seq, **breaks[0].params
        )
    return len(members["tickets.jsonl"].splitlines())


def _payload_text(payload: Any) -> str:
    value = json.loads(payload) if isinstance(payload, str) else None
    if not isinstance(value, dict):
        raise TypeError
    return str(payload)
