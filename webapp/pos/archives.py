"""Monthly and yearly archives of a register's chains (issue 17, docs/pos-trail.md "Archives").

An archive is one ZIP file that can be checked on any machine, alone: every ``pos_trail`` row of
the period with its signature, the tickets those rows sign, the register's public key, and a
manifest signed by the register (``manifest.sig``) that names the other files' SHA-256 and where
each chain stood just before the period. It is written atomically (a temporary file in the same
folder, fsync, rename), then recorded as a row of the ``archive`` chain; a kill -9 between the two
leaves a whole file and no row, and the next run writes it again.

:mod:`webapp.pos.archive_check` reads and checks one, on any machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from webapp.clock import now_iso, parse_iso, to_iso
from webapp.i18n import N_, UserError
from webapp.pos import journal, outbox, protocol, trail, trail_keys
from webapp.pos.register_config import COMPANY, OFFICE_ID
from webapp.pos.trail import TrailRow
from webapp.pos.trail_keys import Signer
from webapp.store import Store

FORMAT = 1
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
FILES = ("trail.jsonl", "tickets.jsonl", "public_keys.json")
SIGNED_PREFIX = b"relais-pos-archive-1\n"  # what manifest.sig signs: this, then manifest.json
FOLDER = "archives"
# One outbox record carries this much of the file: 500 records of a batch stay under the
# office's 8 MiB body (webapp/pos/api.py MAX_BODY) once in base64 with their envelope.
PART_BYTES = 8 * 1024
PART_KIND = "archive_part"
_NOT_A_PERIOD = {
    "month": N_("{text} is not a month (write it as 2026-11)."),
    "year": N_("{text} is not a year (write it as 2026)."),
}
_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?")
_HEX = re.compile(r"[0-9a-f]{64}")


class ArchiveError(UserError):
    """An archive that cannot be written, read or trusted; the message names the first problem."""


@dataclass(frozen=True)
class Period:
    kind: str  # month | year
    text: str  # 2026-11 | 2026
    start: str  # stored moments, local midnight at both ends (the shop's days)
    end: str


def period(kind: str, text: str | None = None, now: datetime | None = None) -> Period:
    """The month (``2026-11``) or year (``2026``) asked; by default the last one that has ended."""
    if kind not in ("month", "year"):
        raise ArchiveError(N_("Give month or year."))
    moment = (now or datetime.now()).astimezone()
    if text is None:
        year, month = moment.year, moment.month
        text = (
            f"{year - 1}" if kind == "year" else f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
        )
    found = _PERIOD.fullmatch(text.strip())
    year, month = (int(found.group(1)), int(found.group(2) or 1)) if found else (0, 0)
    shape = found is not None and (kind == "month") == bool(found.group(2))
    if not (shape and 1 <= month <= 12 and 2000 <= year <= 9998) or found is None:
        raise ArchiveError(_NOT_A_PERIOD[kind], text=text)
    after = (year + 1, 1) if kind == "year" or month == 12 else (year, month + 1)
    start = to_iso(datetime(year, month, 1).astimezone())
    return Period(kind, found.group(0), start, to_iso(datetime(*after, 1).astimezone()))


def file_name(register: int, period_text: str) -> str:
    return f"relais-register-{register}-{period_text}.zip"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


# --- Writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    counts: dict[str, int]
    row: TrailRow

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "sha256": self.sha256,
            "counts": self.counts,
            "archive_seq": self.row.seq,
        }


def write_archive(store: Store, signer: Signer, register: int, span: Period) -> Written:
    """Write the period's archive under ``<data dir>/archives/``, then sign its row, its JET
    event (code 30, period archive) and queue its parts for the office, in one transaction."""
    with store.read() as db:
        members, manifest = _contents(db, signer, register, span)
    folder = store.path.parent / FOLDER
    path = folder / file_name(register, span.text)
    _write_atomically(path, members, manifest["created_at"])
    digest = sha256_file(path)
    fields = {"period": span.text, "sha256": digest, "counts": manifest["counts"]}
    with store.write() as db:
        row = trail.append(db, signer, register, "archive", span.kind, path.name, fields)
        details = {"period": span.text, "file": path.name, "sha256": digest}
        journal.record_event(db, signer, register, journal.PERIOD_ARCHIVE, None, details)
        if PART_KIND in protocol.RECORD_KINDS:  # the office takes archives (office_record_kinds)
            queue_parts(db, register, path, digest, span)
    return Written(path, digest, dict(manifest["counts"]), row)


def _contents(
    db: Any, signer: Signer, register: int, span: Period
) -> tuple[dict[str, bytes], dict[str, Any]]:
    rows = _period_rows(db, span)
    tickets = _tickets(db, [row["ref"] for row in rows if row["chain"] == "ticket"])
    keys = {signer.key_id: signer.public_key}
    stored = db.execute(
        "SELECT value FROM settings WHERE key = ?", [trail_keys.PUBLIC_KEY_SETTING]
    ).fetchone()
    if stored and json.loads(stored[0]):
        keys.setdefault(trail_keys.key_id(json.loads(stored[0])), json.loads(stored[0]))
    members = {
        "trail.jsonl": _jsonl(rows),
        "tickets.jsonl": _jsonl(tickets),
        "public_keys.json": _json(keys),
    }
    settings = {
        str(key): json.loads(value)
        for key, value in db.execute(
            "SELECT key, value FROM settings WHERE key IN (?, ?)", [OFFICE_ID, COMPANY]
        )
    }
    chains: dict[str, Any] = {}
    for row in rows:
        chain = chains.setdefault(row["chain"], {"count": 0, "first": row["seq"]})
        chain.update(count=chain["count"] + 1, last=row["seq"], last_signature=row["signature"])
    manifest = {
        "format": FORMAT,
        "register": register,
        "office": settings.get(OFFICE_ID),
        "company": settings.get(COMPANY),
        "kind": span.kind,
        "period": span.text,
        "from": span.start,
        "to": span.end,
        "created_at": now_iso(),
        "key_id": signer.key_id,
        "counts": {"rows": len(rows), "tickets": len(tickets)},
        "chains": chains,
        "before": {
            chain: _state_before(db, chain, found["first"]) for chain, found in chains.items()
        },
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    members[MANIFEST] = _json(manifest)
    signature = signer.sign(SIGNED_PREFIX + members[MANIFEST])
    members[SIGNATURE] = _json({"key_id": signer.key_id, "signature": signature})
    return members, manifest


def _period_rows(db: Any, span: Period) -> list[dict[str, Any]]:
    """Each chain's rows from its first to its last row of the period, in recording order (a
    row recorded under a clock set back stays in its place in the chain). A closure of one of
    the period's days or of the period itself is of the period, even recorded after its end."""
    found = db.execute(
        "WITH span AS (SELECT chain, min(seq) AS low, max(seq) AS high FROM pos_trail"
        " WHERE (recorded_at >= ? AND recorded_at < ?)"
        " OR (chain = 'closure' AND substr(ref, instr(ref, '-') + 1) LIKE ? || '%')"
        " GROUP BY chain)"
        " SELECT t.chain, t.seq, t.kind, t.ref, t.recorded_at, t.fields, t.previous, t.signature,"
        " t.key_id FROM pos_trail t JOIN span s ON s.chain = t.chain"
        " AND t.seq BETWEEN s.low AND s.high ORDER BY t.id",
        [span.start, span.end, span.text],
    )
    return [dict(row) for row in found]


def _tickets(db: Any, numbers: list[str]) -> list[dict[str, Any]]:
    found = db.execute(
        "SELECT id, number, sold_at, user_code, customer_code, total_incl_vat, payload"
        " FROM pos_tickets WHERE number IN (SELECT value FROM json_each(?)) ORDER BY number",
        [json.dumps(numbers)],
    )
    return [dict(row) for row in found]


def _state_before(db: Any, chain: str, first: int) -> dict[str, Any]:
    """Where ``chain`` stood before the period: enough to check the period's rows alone."""
    row = db.execute(
        "SELECT seq, signature, fields FROM pos_trail WHERE chain = ? AND seq = ?",
        [chain, first - 1],
    ).fetchone()
    if row is None:
        return {"seq": 0, "signature": "", "totals": dict(trail.ZERO_TOTALS)}
    totals = json.loads(row["fields"]).get("grand_totals") if chain == "ticket" else None
    return {
        "seq": row["seq"],
        "signature": row["signature"],
        "totals": totals or dict(trail.ZERO_TOTALS),
    }


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(trail.canonical(row).encode("utf-8") + b"\n" for row in rows)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def _write_atomically(path: Path, members: Mapping[str, bytes], created_at: str) -> None:
    """The whole file under its name, or nothing there: a temporary file fsynced, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a run killed while writing
        stale.unlink(missing_ok=True)
    stamp = parse_iso(created_at).astimezone().timetuple()[:6]
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in (*FILES, MANIFEST, SIGNATURE):
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, members[name])
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    if os.name == "nt":  # Windows has no directory handle to fsync; the rename is journaled
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def queue_parts(db: Any, register: int, path: Path, digest: str, span: Period) -> int:
    """The file as outbox records of PART_BYTES each, in the caller's transaction."""
    parts = part_payloads(path, digest, span)
    for part in parts:
        outbox.enqueue(db, register, PART_KIND, part)
    return len(parts)


def part_payloads(path: Path, digest: str, span: Period) -> list[dict[str, Any]]:
    """The payloads of the ``archive_part`` records that carry the file to the office."""
    data = path.read_bytes()
    count = max(1, -(-len(data) // PART_BYTES))
    payloads = []
    for index in range(count):
        part = data[index * PART_BYTES : (index + 1) * PART_BYTES]
        payloads.append(
            {
                "name": path.name,
                "kind": span.kind,
                "period": span.text,
                "index": index,
                "count": count,
                "size": len(data),
                "sha256": digest,
                "part_sha256": hashlib.sha256(part).hexdigest(),
                "data": base64.b64encode(part).decode("ascii"),
            }
        )
    return payloads
