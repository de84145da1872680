"""Back-office CSV files in the browser: import in two steps (analysis, then integration) with live
progress, and export of every kind as a download. The same importer and exporter as the CLI."""

from __future__ import annotations

import contextlib
import time
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
from webapp.backoffice.columns import KINDS
from webapp.backoffice.exporter import export_csv
from webapp.backoffice.uploads import ImportTask, UploadTooLarge
from webapp.csvio import MAX_FILE_BYTES, CsvError, CsvOptions
from webapp.i18n import _
from webapp.services import Services
from webapp.web.common import ServicesDep, page

UPLOAD_LIMIT = 256 * 1024 * 1024


@dataclass
class ImportForm:
    kind: str = ""
    file: UploadFile | None = None
    encoding: str = ""
    delimiter: str = ""
    decimal: str = ""
    date_format: str = ""
    skip_bad: str = ""


def _context(**extra: Any) -> dict[str, Any]:
    return {"active": "backoffice", "section": "files", "kinds": KINDS, **extra}


@get("/backoffice/files", name="backoffice_files", sync_to_thread=False)
def files_page(request: HTMXRequest) -> Template:
    return page(request, "backoffice_files.html", _context(task=None, form={}))


def _options(form: ImportForm) -> CsvOptions:
    return CsvOptions(
        encoding=form.encoding or None,
        delimiter=form.delimiter or None,
        decimal=form.decimal or None,
        date_format=form.date_format or None,
    )


@post(
    "/backoffice/import",
    name="backoffice_import",
    sync_to_thread=True,
    request_max_body_size=UPLOAD_LIMIT,
)
def import_start(
    request: HTMXRequest,
    services: ServicesDep,
    data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    form = {"kind": data.kind, "skip_bad": bool(data.skip_bad)}
    error = None
    if data.kind not in KINDS:
        error = _("Choose what the file holds.")
    elif data.file is None or not data.file.filename:
        error = _("Choose a CSV file.")
    if error is None:
        try:
            options = _options(data).checked()
            assert data.file is not None
            path = services.imports.save_upload(
                data.file.file, data.file.filename, min(MAX_FILE_BYTES, UPLOAD_LIMIT)
            )
            task = services.imports.start(
                data.kind, path, data.file.filename, options, bool(data.skip_bad)
            )
        except (CsvError, UploadTooLarge) as exc:
            error = exc.translated()
    if error is not None:
        return Template(
            "_import_form.html", context=_context(error=error, form=form), status_code=422
        )
    return Template("_import_task.html", context=_context(task=task))


def _task(services: Services, token: str) -> ImportTask:
    task = services.imports.get(token)
    if task is None:
        raise NotFoundException()
    return task


@get("/backoffice/import/{token:str}", name="backoffice_import_task", sync_to_thread=False)
def import_status(request: HTMXRequest, services: ServicesDep, token: FromPath[str]) -> Template:
    task = _task(services, token)
    return page(
        request, "backoffice_files.html", _context(task=task, form={}), partial="_import_task.html"
    )


@post(
    "/backoffice/import/{token:str}/confirm", name="backoffice_import_confirm", sync_to_thread=False
)
def import_confirm(services: ServicesDep, token: FromPath[str]) -> Template:
    task = services.imports.confirm(token) or _task(services, token)
    return Template("_import_task.html", context=_context(task=task))


@get("/backoffice/export/{kind:str}", name="backoffice_export", sync_to_thread=True)
def export_download(services: ServicesDep, kind: FromPath[str]) -> File:
    if kind not in KINDS:
        raise NotFoundException()
    folder = services.data_dir.path / "exports"
    _remove_old_exports(folder)
    stamp = clock.file_stamp()
    name = f"{kind}-{stamp}.csv"
    export_csv(services.store, kind, folder / name)
    return File(path=folder / name, filename=name, media_type="text/csv; charset=utf-8")


def _remove_old_exports(folder: Path) -> None:
    """Downloads are written to a file first (atomically); those of an hour ago are served."""
    limit = time.time() - 3600
    for old in folder.glob("*.csv") if folder.is_dir() else []:
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < limit:
                old.unlink()


ROUTES = [files_page, import_start, import_status, import_confirm, export_download]
