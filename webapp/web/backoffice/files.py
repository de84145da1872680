"""Back-office CSV files in the browser: import in two steps (analysis, then integration) with live
progress, and export of every kind as a download. The same importer and exporter as the CLI.

Each step is a task (webapp/backoffice/uploads.py): its page is /backoffice/import/{run id}."""

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
from webapp.backoffice import uploads
from webapp.backoffice.columns import KINDS
from webapp.backoffice.exporter import export_csv
from webapp.backoffice.uploads import UploadTooLarge
from webapp.csvio import MAX_FILE_BYTES, CsvError, CsvOptions
from webapp.i18n import _
from webapp.services import Services
from webapp.tasks import TaskBusy
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
    return page(request, "backoffice/files.html", _context(step=None, form={}))


def _options(form: ImportForm) -> CsvOptions:
    return CsvOptions(
        encoding=form.encoding or None,
        delimiter=form.delimiter or None,
        decimal=form.decimal or None,
        date_format=form.date_format or None,
    )


def _start(services: Services, data: ImportForm) -> int:
    """The analysis's run id; CsvError, UploadTooLarge or TaskBusy when it cannot start."""
    options = _options(data).checked()
    assert data.file is not None
    path = uploads.save_upload(
        uploads.upload_folder(services.data_dir.path),
        data.file.file,
        data.file.filename,
        min(MAX_FILE_BYTES, UPLOAD_LIMIT),
    )
    return uploads.start_analysis(
        services.tasks,
        path,
        kind=data.kind,
        filename=data.file.filename,
        options=options,
        skip_bad=bool(data.skip_bad),
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
            run_id = _start(services, data)
        except (CsvError, UploadTooLarge, TaskBusy) as exc:
            error = exc.translated()
    if error is not None:
        return Template(
            "backoffice/_import_form.html",
            context=_context(error=error, form=form),
            status_code=422,
        )
    return _step_partial(services, run_id)


def _step(services: Services, run_id: int) -> uploads.ImportStep:
    step = uploads.import_step(services.tasks, run_id)
    if step is None:
        raise NotFoundException()
    return step


def _step_partial(
    services: Services, run_id: int, error: str | None = None, status_code: int = 200
) -> Template:
    """One step of the import; the address bar follows it, so a reload shows it again."""
    return Template(
        "backoffice/_import_run.html",
        context=_context(step=_step(services, run_id), error=error),
        status_code=status_code,
        headers={"HX-Push-Url": f"/backoffice/import/{run_id}"},
    )


@get("/backoffice/import/{run_id:int}", name="backoffice_import_task", sync_to_thread=False)
def import_status(request: HTMXRequest, services: ServicesDep, run_id: FromPath[int]) -> Template:
    step = _step(services, run_id)
    context = _context(step=step, form={"kind": step.kind})
    return page(request, "backoffice/files.html", context, partial="backoffice/_import_run.html")


@post(
    "/backoffice/import/{run_id:int}/confirm",
    name="backoffice_import_confirm",
    sync_to_thread=True,
)
def import_confirm(services: ServicesDep, run_id: FromPath[int]) -> Template:
    analysis = _step(services, run_id)
    if not analysis.analysis:
        return _step_partial(services, run_id)
    try:
        return _step_partial(services, uploads.confirm(services.tasks, analysis))
    except TaskBusy as busy:
        return _step_partial(services, run_id, error=busy.translated(), status_code=422)


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
