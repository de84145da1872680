"""The Scrada page's "Deliver again" form: the documents of a date range whose file left its
folder are written again from the archive (webapp/scrada/redeliver.py), in the background, with
the run's live progress (templates/_progress.html) and its items in the history."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from litestar import post
from litestar.response import Template

from webapp import history, history_queries
from webapp.jobs import RunStopped
from webapp.scrada import records, redeliver
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep
from webapp.web.forms import FormError, RedeliverForm, texts

log = logging.getLogger(__name__)
_FIELD_OF = {"No such company: {company}.": "company", "Unknown kind of book: {kind}.": "book"}
BOOK_CHOICES = ("daily-receipts", "cash-book", "peppol-inbound")


@dataclass
class _Running:
    run_id: int
    thread: threading.Thread
    stop: threading.Event


# One redelivery at a time per data folder (a second start would mark the first interrupted).
_running: dict[str, _Running] = {}
_lock = threading.Lock()


def redeliver_context(services: Services, **extra: Any) -> dict[str, Any]:
    today = date.today().isoformat()
    return {
        "companies": records.companies(services.store),
        "book_choices": BOOK_CHOICES,
        "redeliver_values": {"date_from": today, "date_to": today, "company": "", "book": ""},
        "redeliver_errors": {},
        "redeliver_run": None,
        **extra,
    }


def _start(services: Services, request: RedeliverForm) -> tuple[int, bool]:
    """The run of the redelivery started now, or of the one still under way (False)."""
    key = str(services.data_dir.path)
    with _lock:
        current = _running.get(key)
        if current is not None and current.thread.is_alive():
            return current.run_id, False
        root = redeliver.configured_root(services.store, services.data_dir)
        redeliver.check_request(
            services.store,
            request.date_from,
            request.date_to,
            request.company_id,
            request.book_kind,
        )
        run_id = history.start_run(services.store, redeliver.JOB_NAME, "manual")
        stop = threading.Event()
        thread = threading.Thread(
            target=_run,
            args=(services, request, root, run_id, stop),
            daemon=True,
            name=f"scrada-redeliver-{run_id}",
        )
        _running[key] = _Running(run_id, thread, stop)
        services.stoppers.append(lambda: _stop(stop, thread))
        thread.start()
    return run_id, True


def _run(
    services: Services, request: RedeliverForm, root: Path, run_id: int, stop: threading.Event
) -> None:
    def check_stop() -> None:
        if stop.is_set():
            raise RunStopped()

    try:
        redeliver.redeliver(
            services.store,
            services.data_dir,
            root,
            date_from=request.date_from,
            date_to=request.date_to,
            company_id=request.company_id,
            book_kind=request.book_kind,
            run_id=run_id,
            origin="manual",
            check_stop=check_stop,
        )
    except (RunStopped, redeliver.BadRequest):
        pass  # the run is finished with its reason by redeliver() itself
    except Exception:  # recorded as failed by redeliver() itself; the details go to the log
        log.exception("scrada redelivery %s failed", run_id)


def _stop(stop: threading.Event, thread: threading.Thread) -> None:
    stop.set()
    thread.join(timeout=10)


@post("/scrada/redeliver", name="scrada_redeliver", sync_to_thread=True)
def start_redeliver(services: ServicesDep, data: FormData) -> Template:
    values = texts(data, ("date_from", "date_to", "company", "book"))
    try:
        run_id, started = _start(services, RedeliverForm.parse(data))
    except FormError as exc:
        context = redeliver_context(
            services, redeliver_values=values, redeliver_errors=exc.translated()
        )
        return Template("scrada/_redeliver.html", context=context, status_code=422)
    except redeliver.BadRequest as exc:
        field = _FIELD_OF.get(exc.message)
        context = redeliver_context(
            services,
            redeliver_values=values,
            redeliver_errors={field: exc.translated()} if field else {},
            redeliver_error=None if field else exc.translated(),
        )
        return Template("scrada/_redeliver.html", context=context, status_code=422)
    run = history_queries.get_run(services.store, run_id)
    context = redeliver_context(
        services, redeliver_values=values, redeliver_run=run, already_running=not started
    )
    return Template("scrada/_redeliver.html", context=context)


ROUTES = [start_redeliver]
