"""Back-office CSV files in the browser: import in three steps (the file's columns mapped to
Relais's fields, the analysis, then the integration) with live progress, and export of every kind
as a download. The same importer and exporter as the CLI.

The upload is kept in the data folder from the mapping step on; the analysis and the integration
are tasks (webapp/backoffice/uploads.py) whose page is /backoffice/import/{run id}. The mapping
form is read by webapp/web/backoffice/import_forms.py."""

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
from webapp.backoffice import import_profiles, uploads
from webapp.backoffice.columns import KINDS
from webapp.backoffice.exporter import export_csv
from webapp.backoffice.import_mapping import MappingProblem, check
from webapp.backoffice.importer import file_label
from webapp.backoffice.uploads import UploadGone, UploadTooLarge
from webapp.csvio import MAX_FILE_BYTES, CsvError, CsvOptions
from webapp.i18n import _
from webapp.services import Services
from webapp.tasks import TaskBusy
from webapp.web.backoffice.import_forms import (
    OPTION_FIELDS,
    MappingForm,
    MappingRefused,
    MappingStep,
    mapping_step,
)
from webapp.web.common import FormData, ServicesDep, page

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


def _keep(services: Services, data: ImportForm) -> MappingStep:
    """The upload kept, its headings read and their fields suggested; CsvError, UploadTooLarge."""
    _options(data).checked()  # CsvError for an option the form does not offer
    assert data.file is not None
    folder = uploads.upload_folder(services.data_dir.path)
    path = uploads.save_upload(
        folder, data.file.file, data.file.filename, min(MAX_FILE_BYTES, UPLOAD_LIMIT)
    )
    form = MappingForm(
        kind=data.kind,
        upload=path.name,
        file=file_label(data.file.filename),
        options={name: getattr(data, name) or "" for name in OPTION_FIELDS},
        skip_bad=bool(data.skip_bad),
    )
    try:
        return mapping_step(services.store, folder, form)
    except CsvError:
        path.unlink(missing_ok=True)  # a file that cannot be read will not be mapped
        raise


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
    """The upload: kept, then its mapping step (which field each of its headings gives)."""
    form = {"kind": data.kind, "skip_bad": bool(data.skip_bad)}
    error = None
    if data.kind not in KINDS:
        error = _("Choose what the file holds.")
    elif data.file is None or not data.file.filename:
        error = _("Choose a CSV file.")
    if error is None:
        try:
            return _mapping_partial(_keep(services, data))
        except (CsvError, UploadTooLarge) as exc:
            error = exc.translated()
    return Template(
        "backoffice/_import_form.html",
        context=_context(error=error, form=form),
        status_code=422,
    )


def _mapping_partial(step: MappingStep | None, status_code: int = 200, **extra: Any) -> Template:
    return Template(
        "backoffice/_import_mapping.html",
        context=_context(mapping=step, **extra),
        status_code=status_code,
    )


@post("/backoffice/import/mapping", name="backoffice_import_mapping", sync_to_thread=True)
def import_mapping(services: ServicesDep, data: FormData) -> Template:
    """One path for the mapping step's selects and buttons: `action` says which."""
    folder = uploads.upload_folder(services.data_dir.path)
    try:
        form = MappingForm.parse(data)
        step = mapping_step(services.store, folder, form, use_profile=form.action == "profile")
    except (MappingRefused, UploadGone, CsvError) as refused:
        return _mapping_partial(None, 422, error=refused.translated())
    try:
        if form.action == "save":
            step.profile = import_profiles.save(
                services.store, form.kind, form.profile_name, step.mapping
            )
            step.profiles = import_profiles.profiles(services.store, form.kind)
            step.notice = _("Profile saved.")
        elif form.action == "delete" and form.profile is not None:
            import_profiles.delete(services.store, form.profile)
            step.profiles = import_profiles.profiles(services.store, form.kind)
            step.profile, step.notice = None, _("Profile deleted.")
        elif form.action == "analyse":
            return _analyse(services, step)
    except (MappingProblem, import_profiles.ProfileProblem, TaskBusy) as refused:
        step.error = refused.translated()
        return _mapping_partial(step, 422)
    return _mapping_partial(step)


def _analyse(services: Services, step: MappingStep) -> Template:
    """The analysis of the kept upload through the mapping; MappingProblem or TaskBusy."""
    check(step.kind, step.mapping)
    form = step.form
    path = uploads.upload_folder(services.data_dir.path) / form.upload
    run_id = uploads.start_analysis(
        services.tasks,
        path,
        kind=form.kind,
        filename=form.file,
        options=form.csv_options,
        skip_bad=form.skip_bad,
        mapping=step.mapping,
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
    folder = uploads.upload_folder(services.data_dir.path)
    try:
        return _step_partial(services, uploads.confirm(services.tasks, analysis, folder))
    except (TaskBusy, UploadGone) as refused:
        return _step_partial(services, run_id, error=refused.translated(), status_code=422)


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


ROUTES = [
    files_page,
    import_start,
    import_mapping,
    import_status,
    import_confirm,
    export_download,
]
