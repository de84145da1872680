"""Scheduled processes: list, edit trigger, enable, run now; a run's live progress."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp import history_queries
from webapp.jobs import JobError
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import ProcessForm, SchedulerForm
from webapp.web.roles import REGISTER, REGISTER_JOBS, request_role


def _processes(request: HTMXRequest, services: Services) -> list[dict[str, Any]]:
    """Every process, or on a cash register only those that run there (its own upkeep)."""
    definitions = services.runner.definitions()
    if request_role(request) == REGISTER:
        return [row for row in definitions if row["name"] in REGISTER_JOBS]
    return definitions


@get("/processes", name="processes", sync_to_thread=False)
def process_list(request: HTMXRequest, services: ServicesDep) -> Template:
    context = {
        "active": "processes",
        "processes": _processes(request, services),
        "paused": services.runner.paused,
    }
    return page(request, "platform/processes.html", context)


def _definition(services: Services, name: str) -> dict[str, Any]:
    try:
        return services.runner.definition(name)
    except JobError:
        raise NotFoundException() from None


@post("/processes/{name:str}", name="process_update", sync_to_thread=True)
def process_update(
    request: HTMXRequest, services: ServicesDep, name: FromPath[str], data: FormData
) -> Template:
    _definition(services, name)
    form = ProcessForm.parse(data)
    error = None
    try:
        services.runner.update_definition(name, form.trigger_kind, form.trigger_value, form.enabled)
    except JobError as exc:
        error = exc.translated()
    context = {
        "active": "processes",
        "process": _definition(services, name),
        "error": error,
        "saved": error is None,
        "processes": _processes(request, services),
    }
    return page(
        request,
        "platform/processes.html",
        context,
        partial="platform/_process_row.html",
        status_code=422 if error else 200,
    )


@post("/processes/{name:str}/run", name="process_run", sync_to_thread=True)
def process_run(request: HTMXRequest, services: ServicesDep, name: FromPath[str]) -> Template:
    process = _definition(services, name)
    run_id, started = services.runner.start(name, origin="manual")
    run = history_queries.get_run(services.store, run_id)
    context = {
        "run": run,
        "process": process,
        "already_running": not started,
        "active": "processes",
    }
    return page(request, "platform/run.html", {**context, "items": []}, partial="_progress.html")


def _run_or_404(services: Services, run_id: int) -> dict[str, Any]:
    run = history_queries.get_run(services.store, run_id)
    if run is None:
        raise NotFoundException()
    return run


@get("/runs/{run_id:int}", name="run_detail", sync_to_thread=False)
def run_detail(request: HTMXRequest, services: ServicesDep, run_id: FromPath[int]) -> Template:
    run = _run_or_404(services, run_id)
    context = {
        "active": "history",
        "run": run,
        "items": history_queries.run_items(services.store, run_id),
    }
    return page(request, "platform/run.html", context)


@get("/runs/{run_id:int}/progress", name="run_progress", sync_to_thread=False)
def run_progress(request: HTMXRequest, services: ServicesDep, run_id: FromPath[int]) -> Template:
    run = services.tasks.with_live_progress(_run_or_404(services, run_id))
    return Template("_progress.html", context={"run": run})


@post("/processes/scheduler", name="scheduler_state", sync_to_thread=True, status_code=303)
def scheduler_state(services: ServicesDep, data: FormData) -> Redirect:
    if SchedulerForm.parse(data).pause:
        services.runner.pause()
    else:
        services.runner.resume()
    return Redirect("/processes", status_code=303)


ROUTES = [scheduler_state, process_list, process_update, process_run, run_detail, run_progress]
