"""Correspondences as a CSV file on the mass-edit screens (issue 14): an export link, and an import
in two steps, the analysis (a dry run of the same import) then the confirmation.

Each screen handles its kinds: the articles page its articles, the customers page its customers,
the codes page VAT codes, units and countries. The upload waits in the data folder between the
two steps (as the back-office import's), named by a random token the confirmation sends back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import File, Template

from webapp import clock
from webapp.backoffice import uploads
from webapp.backoffice.row_checks import ImportProblem
from webapp.backoffice.uploads import UploadTooLarge
from webapp.csvio import CsvError, CsvOptions
from webapp.econnector.connectors import Connector
from webapp.econnector.mapping_files import CODE_KINDS, export_mapping_file
from webapp.econnector.mapping_identical import map_identical, parse_code_list, waiting_codes
from webapp.econnector.mapping_import import MappingReport, import_mapping_file
from webapp.i18n import _
from webapp.services import Services
from webapp.web.backoffice.files import _remove_old_exports as remove_old_exports
from webapp.web.common import FormData, ServicesDep, first
from webapp.web.econnector import maps

UPLOAD_LIMIT = 64 * 1024 * 1024
UPLOAD_NAME = re.compile(r"upload-[0-9a-f]{16}\.csv")


@dataclass(frozen=True)
class MappingPage:
    """One mass-edit screen: the kinds it imports and exports, and how it is drawn again."""

    kinds: tuple[str, ...]
    default_kind: str | None
    template: str
    partial: str
    context: Callable[[Services, str, dict[str, str]], dict[str, Any]]


PAGES = {
    "articles": MappingPage(
        ("article",),
        "article",
        "econnector/articles.html",
        "econnector/_articles.html",
        lambda services, code, form: maps._articles_context(
            services,
            code,
            form["show"] if form.get("show") in maps.SHOW else "export",
            form.get("tags", ""),
        ),
    ),
    "customers": MappingPage(
        ("customer",),
        "customer",
        "econnector/customers.html",
        "econnector/_customers.html",
        lambda services, code, form: maps._customers_context(services, code),
    ),
    "codes": MappingPage(
        CODE_KINDS,
        None,
        "econnector/codes.html",
        "econnector/_codes.html",
        lambda services, code, form: maps._codes_context(services, code),
    ),
}


@dataclass
class MappingForm:
    connector: str = ""
    page: str = ""
    file: UploadFile | None = None
    encoding: str = ""
    delimiter: str = ""
    skip_bad: str = ""
    show: str = ""
    tags: str = ""


def _page(name: str) -> MappingPage:
    if name not in PAGES:
        raise NotFoundException()
    return PAGES[name]


def _render(
    request: HTMXRequest,
    services: Services,
    connector: str,
    name: str,
    form: dict[str, str],
    status_code: int = 200,
    **mapping: Any,
) -> Template:
    """The screen again (its section for htmx), with the import's analysis or result in place."""
    page = _page(name)
    context = page.context(services, connector, form)
    context.update(mapping_form=form, **mapping)
    template = page.partial if request.htmx else page.template
    return Template(template, context=context, status_code=status_code)


def _options(form: dict[str, str]) -> CsvOptions:
    return CsvOptions(
        encoding=form.get("encoding") or None, delimiter=form.get("delimiter") or None
    )


@post(
    "/connectors/mappings/import",
    name="connector_mappings_import",
    sync_to_thread=True,
    request_max_body_size=UPLOAD_LIMIT,
)
def mappings_import(
    request: HTMXRequest,
    services: ServicesDep,
    data: Annotated[MappingForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """The analysis: the file kept, read and checked; nothing written."""
    connector = maps._connector(services, data.connector)
    page = _page(data.page)
    form = {
        name: str(getattr(data, name) or "")
        for name in ("page", "encoding", "delimiter", "skip_bad", "show", "tags")
    }
    if data.file is None or not data.file.filename:
        error = _("Choose a CSV file.")
        return _render(request, services, connector.code, data.page, form, 422, mapping_error=error)
    try:
        options = _options(form).checked()
        path = uploads.save_upload(
            uploads.upload_folder(services.data_dir.path), data.file.file, data.file.filename
        )
        report = _analyse(services, connector, page, path, options, bool(form["skip_bad"]))
    except (CsvError, ImportProblem, UploadTooLarge) as exc:
        return _render(
            request, services, connector.code, data.page, form, 422, mapping_error=exc.translated()
        )
    report.file = data.file.filename
    return _render(
        request, services, connector.code, data.page, form, mapping=report, upload=path.name
    )


def _analyse(
    services: Services,
    connector: Connector,
    page: MappingPage,
    path: Path,
    options: CsvOptions,
    skip_bad: bool,
    *,
    dry_run: bool = True,
) -> MappingReport:
    try:
        return import_mapping_file(
            services.store,
            connector,
            path,
            options,
            default_kind=page.default_kind,
            dry_run=dry_run,
            skip_bad=skip_bad,
        )
    except (CsvError, ImportProblem):
        if dry_run:
            path.unlink(missing_ok=True)
        raise


@post("/connectors/mappings/confirm", name="connector_mappings_confirm", sync_to_thread=True)
def mappings_confirm(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    """The import of the analysed file, all or nothing (unless the bad lines were to be skipped)."""
    connector = maps._connector(services, first(data.get("connector")))
    names = ("page", "encoding", "delimiter", "skip_bad", "show", "tags", "upload", "filename")
    form = {name: first(data.get(name)) for name in names}
    page = _page(form["page"])
    path = uploads.upload_folder(services.data_dir.path) / form["upload"]
    if not UPLOAD_NAME.fullmatch(form["upload"]) or not path.is_file():
        error = _("The file is no longer there: analyse it again.")
        return _render(
            request, services, connector.code, form["page"], form, 422, mapping_error=error
        )
    try:
        report = _analyse(
            services,
            connector,
            page,
            path,
            _options(form).checked(),
            bool(form["skip_bad"]),
            dry_run=False,
        )
    except (CsvError, ImportProblem) as exc:
        error = exc.translated()
        return _render(
            request, services, connector.code, form["page"], form, 422, mapping_error=error
        )
    finally:
        path.unlink(missing_ok=True)
    report.file = form["filename"] or report.file
    status = 200 if report.committed else 422
    return _render(request, services, connector.code, form["page"], form, status, mapping=report)


@post("/connectors/mappings/identical", name="connector_mappings_identical", sync_to_thread=True)
def mappings_identical(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    """Map by identical code: the given outside codes and, if asked, those of the waiting files."""
    connector = maps._connector(services, first(data.get("connector")))
    form = {name: first(data.get(name)) for name in ("show", "tags", "waiting")}
    codes = parse_code_list(str(data.get("codes") or ""))
    if form["waiting"]:
        codes += waiting_codes(connector)
    if not codes:
        error = _("Give outside codes, or tick the files waiting in the import folder.")
        return _render(
            request, services, connector.code, "articles", form, 422, identical_error=error
        )
    report = map_identical(services.store, connector, codes)
    return _render(request, services, connector.code, "articles", form, identical=report)


@get("/connectors/{code:str}/mappings.csv", name="connector_mappings_export", sync_to_thread=True)
def mappings_export(request: HTMXRequest, services: ServicesDep, code: FromPath[str]) -> File:
    """The screen's correspondences as a CSV file (UTF-8 with BOM, `;`), written then served."""
    connector = maps._connector(services, code)
    page = _page(request.query_params.get("page") or "")
    folder = services.data_dir.path / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    remove_old_exports(folder)
    name = (
        f"correspondences-{connector.code}-{request.query_params['page']}-{clock.file_stamp()}.csv"
    )
    if not re.fullmatch(r"[\w.-]+", name):
        name = f"correspondences-{clock.file_stamp()}.csv"
    export_mapping_file(services.store, connector, folder / name, page.kinds)
    return File(path=folder / name, filename=name, media_type="text/csv; charset=utf-8")


ROUTES = [mappings_import, mappings_confirm, mappings_identical, mappings_export]
