"""The Scrada page: settings and Verify, companies and books to pull, "Synchroniser maintenant"
with live progress, and the log per run, company and book (SCR-1 to SCR-7)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from litestar import MediaType, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp import history_queries
from webapp.csvio import guard_formula
from webapp.scrada import config as scrada_config
from webapp.scrada import records, verify
from webapp.scrada.delivery import JOB_NAME
from webapp.scrada.paths import FIELD_HELP, TemplateError, example_paths
from webapp.scrada.source_settings import MissingDropFolder, SourceSettingsError
from webapp.services import Services
from webapp.web import forms
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import SelectionForm
from webapp.web.scrada import choices as scrada_choice_views
from webapp.web.scrada import moves as scrada_move_views
from webapp.web.scrada import overview as scrada_overview_views
from webapp.web.scrada import redeliver as scrada_redeliver_views
from webapp.web.scrada import sources as scrada_source_views

LOG_COLUMNS = (
    "run_id",
    "started_at",
    "company_name",
    "company_id",
    "book_kind",
    "book_name",
    "delivered",
    "skipped",
    "quarantined",
    "errors",
    "last_error",
)


def _secrets_state(services: Services) -> dict[str, bool | None]:
    vault = services.vault
    if not vault.is_unlocked:
        return {"api_key": None, "password": None, "webhook_secret": None}
    return {
        "api_key": bool(vault.get(scrada_config.SECRET_API_KEY)),
        "password": bool(vault.get(scrada_config.SECRET_PASSWORD)),
        "webhook_secret": bool(vault.get(scrada_config.SECRET_WEBHOOK)),
    }


def _examples(template: str, root: Path | None) -> tuple[list[tuple[str, str]], str | None]:
    """The preview rows under `root` (shortened as the pull would), and the template's error."""
    try:
        return example_paths(template, root), None
    except TemplateError as exc:
        return example_paths(scrada_config.ScradaConfig().template), exc.translated()


def _settings_context(services: Services, **extra: Any) -> dict[str, Any]:
    config = scrada_config.load(services.store)
    examples, template_error = _examples(config.template, config.root_in(services.data_dir))
    return {
        "active": "scrada",
        "config": config,
        "secrets": _secrets_state(services),
        "examples": examples,
        "template_error": template_error,
        "field_help": FIELD_HELP,
        "errors": {},
        "urls": {"production": scrada_config.PRODUCTION_URL, "test": scrada_config.TEST_URL},
        **extra,
    }


def _context(services: Services, **extra: Any) -> dict[str, Any]:
    companies = records.companies(services.store)
    books = records.books(services.store)
    by_company: dict[str, list[records.Book]] = {}
    for book in books:
        by_company.setdefault(book.company_id, []).append(book)
    return {
        **_settings_context(services),
        **scrada_redeliver_views.redeliver_context(services),
        **scrada_source_views.mailbox_context(services),
        **scrada_overview_views.overview_context(services),
        "companies": companies,
        "books": by_company,
        "running_run_id": services.runner.running_run_id(JOB_NAME),
        "last_runs": history_queries.recent_runs(services.store, limit=5, job_name=JOB_NAME),
        **extra,
    }


@get("/scrada", name="scrada", sync_to_thread=False)
def scrada_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return page(request, "scrada/scrada.html", _context(services))


@post("/scrada/settings", name="scrada_settings", sync_to_thread=True)
def scrada_save(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    change = forms.scrada_settings(data)
    before = scrada_config.load(services.store).template
    try:
        scrada_config.apply(services.store, services.vault, change, services.data_dir)
    except (scrada_config.ConfigError, TemplateError, SourceSettingsError) as exc:
        field = scrada_config.error_field(exc)
        errors = {field: exc.translated()} if field else {}
        context = _settings_context(
            services,
            error=None if field else exc.translated(),
            errors=errors,
            form=forms.texts(data, forms.SCRADA_SETTINGS_SHOWN),
            offer_create=isinstance(exc, MissingDropFolder),
        )
        return Template("scrada/_settings.html", context=context, status_code=422)
    moved = scrada_config.load(services.store).template != before  # the files stay: offer a move
    context = _settings_context(services, saved=True, template_changed=moved)
    return Template("scrada/_settings.html", context=context)


@get("/scrada/template-help", name="scrada_template_help", sync_to_thread=False)
def template_help(
    services: ServicesDep, template: FromQuery[str] = "", root: FromQuery[str] = ""
) -> Template:
    folder = (
        scrada_config.typed_root(root, services.data_dir)
        if root.strip()
        else scrada_config.load(services.store).root_in(services.data_dir)
    )
    rows, error = _examples(template, folder)
    context = {"examples": rows, "field_help": FIELD_HELP, "template_error": error}
    return Template("scrada/_template_help.html", context=context)


@post("/scrada/verify", name="scrada_verify", sync_to_thread=True)
def scrada_verify(services: ServicesDep) -> Template:
    result = verify.verify(services.store, services.vault)
    context = {"result": result, "book_kinds": verify.BOOK_KINDS}
    return Template("scrada/_verify.html", context=context)


@post("/scrada/pull", name="scrada_pull_now", sync_to_thread=True)
def scrada_pull_now(services: ServicesDep) -> Template:
    run_id, started = services.runner.start(JOB_NAME, origin="manual")
    run = history_queries.get_run(services.store, run_id)
    return Template("_progress.html", context={"run": run, "already_running": not started})


@post("/scrada/companies/{company_id:str}", name="scrada_select_company", sync_to_thread=True)
def select_company(
    request: HTMXRequest, services: ServicesDep, company_id: FromPath[str], data: FormData
) -> Template:
    if scrada_config.load(services.store).scope == "all":  # every company is pulled: no choice
        context, status = _context(services), 409
    else:
        records.set_selected(services.store, company_id, SelectionForm.parse(data).selected, None)
        context, status = _context(services), 200
    return page(
        request,
        "scrada/scrada.html",
        context,
        partial="scrada/_companies.html",
        status_code=status,
    )


@post("/scrada/books/{company_id:str}", name="scrada_select_book", sync_to_thread=True)
def select_book(
    request: HTMXRequest, services: ServicesDep, company_id: FromPath[str], data: FormData
) -> Template:
    form = SelectionForm.parse(data)
    records.set_selected(services.store, company_id, form.selected, (form.kind, form.book))
    return page(request, "scrada/scrada.html", _context(services), partial="scrada/_companies.html")


@get("/scrada/log", name="scrada_log", sync_to_thread=False)
def scrada_log(request: HTMXRequest, services: ServicesDep) -> Template:
    context = {"active": "scrada", "rows": records.log_rows(services.store)}
    return page(request, "scrada/log.html", context)


@get("/scrada/log.csv", name="scrada_log_csv", sync_to_thread=False, media_type=MediaType.TEXT)
def scrada_log_csv(services: ServicesDep) -> Response[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(LOG_COLUMNS)
    for row in records.log_rows(services.store, limit=100_000):
        writer.writerow([guard_formula(str(row.get(name) or "")) for name in LOG_COLUMNS])
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="scrada-log.csv"'},
    )


ROUTES = [
    scrada_page,
    scrada_save,
    template_help,
    scrada_verify,
    scrada_pull_now,
    select_company,
    select_book,
    scrada_log,
    scrada_log_csv,
    *scrada_source_views.ROUTES,
    *scrada_overview_views.ROUTES,
    *scrada_redeliver_views.ROUTES,
    *scrada_choice_views.ROUTES,
    *scrada_move_views.ROUTES,
]
