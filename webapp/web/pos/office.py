"""The office's cash registers page (/pos): registers, rejected records, "Build packages now", and
a form that adds a register and shows its join code once (the address to use, its number and its
token in one string, and as a QR code). A data folder that is a register goes to the register's
own pages instead."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp import history_queries, settings
from webapp.pos import join_code, listener, office, office_records, packages, protocol, trail_breaks
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import FormError, RegisterForm, first_error, texts
from webapp.web.pos import join

REJECTED_SHOWN = 100


def is_register(services: Services) -> bool:
    return bool(settings.read_value(services.store, protocol.ROLE_SETTING) == "register")


def _context(services: Services, **extra: Any) -> dict[str, Any]:
    return {
        "active": "pos",
        "registers": trail_breaks.registers_with_chains(services.store),
        "rejected": office_records.received(
            services.store, status="rejected", limit=REJECTED_SHOWN
        ),
        "running_run_id": services.runner.running_run_id(packages.JOB_NAME),
        "last_runs": history_queries.recent_runs(
            services.store, limit=5, job_name=packages.JOB_NAME
        ),
        "form": {"number": "", "label": "", "company": ""},
        "companies": _companies(services),
        "pos_url": _pos_url(services),
        "join_offer": join.offered(services),
        **extra,
    }


def _pos_url(services: Services) -> str | None:
    """The address the registers must use, or None while their access is off."""
    running = listener.running(services)
    return running.public_url() if running else None


def _companies(services: Services) -> list[dict[str, Any]]:
    with services.store.read() as db:
        rows = db.execute("SELECT code, name FROM companies ORDER BY is_default DESC, code")
        return [{"code": row[0], "name": row[1]} for row in rows.fetchall()]


@get("/pos", name="pos", sync_to_thread=True)
def pos_page(request: HTMXRequest, services: ServicesDep) -> Template | Redirect:
    if is_register(services):
        return Redirect("/pos/register", status_code=303)
    return page(request, "pos/office.html", _context(services))


@get("/pos/office/registers", name="pos_registers", sync_to_thread=True)
def pos_registers(services: ServicesDep) -> Template:
    """The registers' table alone: polled, so a register that joins shows without a reload."""
    return Template(
        "pos/_registers.html",
        context={"registers": trail_breaks.registers_with_chains(services.store)},
    )


@post("/pos/office/export", name="pos_export_now", sync_to_thread=True)
def pos_export_now(services: ServicesDep) -> Template:
    run_id, started = services.runner.start(packages.JOB_NAME, origin="manual")
    run = history_queries.get_run(services.store, run_id)
    return Template("_progress.html", context={"run": run, "already_running": not started})


@post("/pos/office/registers", name="pos_add_register", sync_to_thread=True)
def pos_add_register(services: ServicesDep, data: FormData) -> Template:
    form = texts(data, ("number", "label", "company"))
    context: dict[str, Any] = {
        "form": form,
        "companies": _companies(services),
        "pos_url": _pos_url(services),
    }
    try:
        parsed = RegisterForm.parse(data)
    except FormError as exc:
        context["error"] = first_error(exc)
        return Template("pos/_register_form.html", context=context, status_code=422)
    try:
        register, token = office.add_register(
            services.store, parsed.number, parsed.company, parsed.label
        )
    except office.RegisterError as exc:
        context["error"] = exc.translated()
        return Template("pos/_register_form.html", context=context, status_code=422)
    from webapp.pos import updates_office

    updates_office.ensure_public_key(services.store, services.vault)
    context.update(created=register, token=token, form={"number": "", "label": "", "company": ""})
    if context["pos_url"]:
        code = join_code.encode(context["pos_url"], register.number, token)
        context.update(join_code=code, join_qr=join_code.qr_svg(code))
    # The table refreshes at once (hx-trigger "registers-changed from:body").
    return Template(
        "pos/_register_form.html", context=context, headers={"HX-Trigger": "registers-changed"}
    )


ROUTES = [pos_page, pos_registers, pos_export_now, pos_add_register]
