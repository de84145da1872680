"""The Scrada page's company choices: "all companies" switched to "selected" with every company
kept ticked, and each company's folder with its last files, each downloadable (read only)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import File, Redirect, Template

from webapp import settings
from webapp.i18n import N_
from webapp.scrada import config as scrada_config
from webapp.scrada import records
from webapp.services import Services
from webapp.web.common import ServicesDep, page

FILES_SHOWN = 10
KIND_WORDS = {
    "daily-receipts": N_("daily receipts"),
    "cash-book": N_("cash book"),
    "peppol-inbound": N_("Peppol inbox"),
    "purchase-invoices": N_("purchase invoices"),
}
# Served from here, not inline: the pages' Content-Security-Policy allows scripts of 'self' only.
COPY_SCRIPT = """document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  var done = function () { button.setAttribute("data-copied", "yes"); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () {});
  } else if (document.execCommand("copy")) { done(); }
});
"""


def company_folder(root: Path, files: list[dict[str, Any]]) -> Path:
    """The folder that holds the company's files: their deepest common folder, else the root."""
    parents = [str(PurePosixPath(row["path"]).parent) for row in files]
    if not parents:
        return root
    common = os.path.commonpath(parents) if all(parent != "." for parent in parents) else ""
    folder = (root / common).resolve() if common else root.resolve()
    return folder if folder.is_relative_to(root.resolve()) else root.resolve()


def files_context(services: Services, company: records.Company) -> dict[str, Any]:
    root = scrada_config.load(services.store).root_in(services.data_dir)
    files = records.last_files(services.store, company.id, FILES_SHOWN)
    folder = company_folder(root, files) if root is not None else None
    return {
        "company": company,
        "files": [{**row, "name": PurePosixPath(row["path"]).name} for row in files],
        "folder": str(folder) if folder else "",
        "folder_uri": folder.as_uri() if folder else "",
        "kind_words": KIND_WORDS,
        "active": "scrada",
    }


def _company_or_404(services: Services, company_id: str) -> records.Company:
    for company in records.companies(services.store):
        if company.id == company_id:
            return company
    raise NotFoundException()


@post("/scrada/scope/selected", name="scrada_scope_selected", sync_to_thread=True)
def switch_to_selected(services: ServicesDep) -> Redirect:
    """From "all companies" to "selected": every company stays ticked, so nothing changes until
    the user unticks one. The whole page comes back (the settings show the new mode too)."""
    with services.store.write() as db:
        records.select_all_companies(db)
    config = scrada_config.load(services.store)
    settings.write_value(
        services.store, scrada_config.SETTINGS_KEY, replace(config, scope="selected").as_dict()
    )
    return Redirect("/scrada#scrada-companies", status_code=303)


@get("/scrada/companies/{company_id:str}/files", name="scrada_company_files", sync_to_thread=True)
def company_files(
    request: HTMXRequest, services: ServicesDep, company_id: FromPath[str]
) -> Template:
    context = files_context(services, _company_or_404(services, company_id))
    return page(request, "scrada/company_files.html", context, partial="scrada/_company_files.html")


@get("/scrada/files/{delivery_id:int}", name="scrada_file", sync_to_thread=True)
def delivered_file(services: ServicesDep, delivery_id: FromPath[int]) -> File:
    """A delivered file, downloaded as it is in its folder: only a recorded file inside the root
    folder (a record pointing outside, by '..' or a link, is refused as unknown)."""
    row = records.delivered_file(services.store, delivery_id)
    root = scrada_config.load(services.store).root_in(services.data_dir)
    if row is None or root is None or row["state"] != "delivered":
        raise NotFoundException()
    base = root.resolve()
    path = (base / row["path"]).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise NotFoundException()
    return File(
        path=path,
        filename=path.name,
        media_type="application/octet-stream",
        content_disposition_type="attachment",
    )


@get("/scrada/copy-path.js", name="scrada_copy_script", sync_to_thread=False)
def copy_script() -> Response[str]:
    return Response(
        COPY_SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "max-age=3600"},
    )


ROUTES = [switch_to_selected, company_files, delivered_file, copy_script]
