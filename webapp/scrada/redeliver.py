"""Deliver again, from the archive, the documents whose file is no longer in its folder.

For each delivery of a date range (by document date), the file is looked for at the very path it
was delivered to. There: left alone (never a second copy; other bytes there are reported, not
replaced). Missing: written again atomically from the archived copy, whose sha256 must be the
delivery's. Each document is one item of a `scrada_redeliver` run in the history.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from webapp import history
from webapp.config import DataDir
from webapp.files import atomic_write_bytes
from webapp.i18n import N_, UserError, gettext
from webapp.jobs import RunStopped
from webapp.scrada import archive
from webapp.scrada import config as scrada_config
from webapp.scrada.delivery import ITEM_KINDS, temporary_folder
from webapp.store import Store

JOB_NAME = "scrada_redeliver"
TEMPORARY_SOURCE = "redeliver"  # its own temporary subfolder under ROOT/.relais-tmp/
BOOK_KINDS = ("daily-receipts", "cash-book", "peppol-inbound", "purchase-invoices")
PROGRESS_LABEL = N_("Writing the missing documents again")
PROGRESS_INTERVAL_S = 0.25
_DAY_FORMATS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{2}/\d{2}/\d{4}"), "%d/%m/%Y"),
)

Progress = Callable[[int, int], None]


class BadRequest(UserError):
    """A redelivery refused before it starts: bad dates, unknown company or book kind."""


@dataclass
class RedeliverReport:
    run_id: int
    date_from: date
    date_to: date
    rewritten: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "run_id": self.run_id,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "rewritten": self.rewritten,
            "present": len(self.present),
            "problems": self.problems,
        }


def parse_day(text: str) -> date:
    """YYYY-MM-DD or DD/MM/YYYY; BadRequest otherwise."""
    value = text.strip()
    for pattern, layout in _DAY_FORMATS:
        if pattern.fullmatch(value):
            try:
                return datetime.strptime(value, layout).date()
            except ValueError:
                break
    raise BadRequest(N_("Not a date: {value} (write YYYY-MM-DD or DD/MM/YYYY)."), value=text)


def check_dates(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise BadRequest(
            N_("The start date {start} is after the end date {end}."),
            start=date_from.isoformat(),
            end=date_to.isoformat(),
        )


def check_request(
    store: Store, date_from: date, date_to: date, company_id: str | None, book_kind: str | None
) -> None:
    check_dates(date_from, date_to)
    if book_kind is not None and book_kind not in BOOK_KINDS:
        raise BadRequest(N_("Unknown kind of book: {kind}."), kind=book_kind)
    if company_id is not None:
        with store.read() as db:
            known = db.execute(
                "SELECT 1 FROM scrada_companies WHERE id = ?", [company_id]
            ).fetchone()
        if known is None:
            raise BadRequest(N_("No such company: {company}."), company=company_id)


def configured_root(store: Store, data_dir: DataDir) -> Path:
    """The root folder of the Scrada settings, where the recorded paths start."""
    root = scrada_config.load(store).root_in(data_dir)
    if root is None:
        raise BadRequest(N_("Choose the root folder where the documents go."))
    return root


def _deliveries(
    store: Store, date_from: date, date_to: date, company_id: str | None, book_kind: str | None
) -> list[dict[str, Any]]:
    where = ["d.state = 'delivered'", "d.document_date BETWEEN ? AND ?"]
    params: list[Any] = [date_from.isoformat(), date_to.isoformat()]
    if company_id is not None:
        where.append("d.company_id = ?")
        params.append(company_id)
    if book_kind is not None:
        where.append("d.book_kind = ?")
        params.append(book_kind)
    with store.read() as db:
        rows = db.execute(
            "SELECT d.id, d.company_id, d.book_kind, d.book_id, d.path, d.sha256,"
            " coalesce(nullif(c.name, ''), d.company_id) AS company,"
            " coalesce(b.name, d.book_id) AS book"
            " FROM scrada_deliveries d"
            " LEFT JOIN scrada_companies c ON c.id = d.company_id"
            " LEFT JOIN scrada_books b ON b.company_id = d.company_id AND b.kind = d.book_kind"
            "  AND b.id = d.book_id"
            f" WHERE {' AND '.join(where)} ORDER BY d.document_date, d.id",
            params,
        ).fetchall()
    return [dict(row) for row in rows]


def redeliver(
    store: Store,
    data_dir: DataDir | Path,
    root: Path,
    *,
    date_from: date,
    date_to: date,
    company_id: str | None = None,
    book_kind: str | None = None,
    progress: Progress | None = None,
    run_id: int | None = None,
    origin: str = "command",
    check_stop: Callable[[], None] | None = None,
) -> RedeliverReport:
    """Rewrite the missing files of the range; BadRequest before anything is written. `run_id`: a
    run the caller started (history.start_run(store, JOB_NAME, "manual")) to show its progress;
    `check_stop` raises jobs.RunStopped between documents when Relais is closing."""
    try:
        check_request(store, date_from, date_to, company_id, book_kind)
    except BadRequest as exc:
        if run_id is not None:  # the caller's run must not stay "running"
            history.finish_run(store, run_id, "failed", exc.message, exc.params)
        raise
    rows = _deliveries(store, date_from, date_to, company_id, book_kind)
    if run_id is None:
        run_id = history.start_run(store, JOB_NAME, origin)
    report = RedeliverReport(run_id, date_from, date_to)
    tracker = _Tracker(store, run_id, len(rows), progress)
    try:
        tracker.update(0)
        for index, row in enumerate(rows):
            if check_stop is not None:
                check_stop()
            _one(store, data_dir, root.resolve(), row, report)
            tracker.update(index + 1)
    except RunStopped:
        history.finish_run(store, run_id, "interrupted", N_("Stopped because Relais was closing."))
        raise
    except BaseException:
        history.finish_run(store, run_id, "failed", N_("The redelivery stopped on an error."))
        raise
    _finish(store, report)
    return report


def _one(
    store: Store, data_dir: DataDir | Path, base: Path, row: dict[str, Any], report: RedeliverReport
) -> None:
    """One document: left, written again, or a problem; its history item either way."""
    relative = PurePosixPath(row["path"])
    if relative.is_absolute() or ".." in relative.parts:
        _problem(
            store, report, row, N_("{company}, {book}: its recorded path leaves the root folder")
        )
        return
    target = base.joinpath(*relative.parts)
    if target.exists():
        if _same_bytes(target, row["sha256"]):
            report.present.append(row["path"])
            _backfill(data_dir, target, row["sha256"])
            _item(
                store, report, row, "skipped", N_("{company}, {book}: in its folder, left as it is")
            )
        else:
            _problem(
                store,
                report,
                row,
                N_("{company}, {book}: another file is at its path; left as it is"),
            )
        return
    try:
        data = archive.read(data_dir, row["sha256"])
    except archive.ArchiveError as exc:
        _problem(store, report, row, N_("{company}, {book}: {reason}"), reason=exc.translated())
        return
    try:
        atomic_write_bytes(target, data, tmp_dir=temporary_folder(base, TEMPORARY_SOURCE))
    except OSError as exc:
        _problem(
            store, report, row, N_("{company}, {book}: cannot be written: {error}"), error=str(exc)
        )
        return
    report.rewritten.append(row["path"])
    _item(store, report, row, "done", N_("{company}, {book}: written again from the archive"))


def _backfill(data_dir: DataDir | Path, target: Path, sha256: str) -> None:
    """A document delivered before the archive existed gets its copy from its file, here."""
    if archive.copy_path(data_dir, sha256).exists():
        return
    # Unreadable: the file stays where it is; only a future redelivery of it is at stake.
    with contextlib.suppress(OSError):
        archive.keep(data_dir, target.read_bytes())


def _same_bytes(target: Path, sha256: str) -> bool:
    """An unreadable file counts as different: it is left where it is and reported."""
    try:
        return archive.file_sha256(target) == sha256
    except OSError:
        return False


def _item(
    store: Store,
    report: RedeliverReport,
    row: dict[str, Any],
    status: str,
    message: str,
    **extra: str,
) -> None:
    history.add_item(
        store,
        report.run_id,
        JOB_NAME,
        kind=ITEM_KINDS.get(row["book_kind"], "file"),
        status=status,
        reference=row["path"],
        message=message,
        params={"company": row["company"], "book": row["book"], **extra},
    )


def _problem(
    store: Store, report: RedeliverReport, row: dict[str, Any], message: str, **extra: str
) -> None:
    params = {"company": row["company"], "book": row["book"], **extra}
    report.problems.append({"path": row["path"], "problem": gettext(message, **params)})
    _item(store, report, row, "error", message, **extra)


def _finish(store: Store, report: RedeliverReport) -> None:
    params = {
        "start": report.date_from.isoformat(),
        "end": report.date_to.isoformat(),
        "rewritten": len(report.rewritten),
        "present": len(report.present),
        "problems": len(report.problems),
    }
    message = N_(
        "Documents from {start} to {end}: {rewritten} written again, {present} already in their"
        " folder, {problems} could not be written again."
    )
    history.finish_run(store, report.run_id, "success" if report.ok else "warning", message, params)


class _Tracker:
    """The run's progress (throttled, like RunContext.progress) and the caller's callback."""

    def __init__(self, store: Store, run_id: int, total: int, callback: Progress | None) -> None:
        self.store, self.run_id, self.total, self.callback = store, run_id, total, callback
        self.last = 0.0

    def update(self, done: int) -> None:
        moment = time.monotonic()
        if done >= self.total or moment - self.last >= PROGRESS_INTERVAL_S:
            self.last = moment
            history.set_progress(self.store, self.run_id, done, self.total, PROGRESS_LABEL)
        if self.callback is not None:
            self.callback(done, self.total)
