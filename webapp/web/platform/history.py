"""The history page: filters, pagination, resolving an error with a justification, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Stream, Template

from webapp import history, history_queries
from webapp.formatting import local_time
from webapp.history import HistoryError
from webapp.history_queries import Cursor, ItemFilter, Page
from webapp.i18n import _, translate_stored
from webapp.job_labels import job_label
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, local_user, page
from webapp.web.forms import HistoryQuery, ResolveForm

PER_PAGE = 50
RESULTS = "platform/_history_results.html"  # what a page turn by htmx gets
EXPORT_CHUNK = 1000  # rows read per query while the CSV streams


def _query_string(filters: ItemFilter) -> str:
    values = {
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
        "job": filters.job_name or "",
        "kind": filters.kind or "",
        "status": filters.status or "",
    }
    return urlencode({key: value for key, value in values.items() if value})


def page_links(result: Page, place: str) -> dict[str, str]:
    """The queries of the next and previous links: ``place`` (the filters) and the edge row's
    cursor; the page number rides along to be shown, never to count rows."""
    after, before = result.next_cursor, result.previous_cursor
    prefix = place + "&" if place else ""
    return {
        "next_qs": prefix + urlencode({"after": after.token(), "page": result.number + 1})
        if after
        else "",
        "previous_qs": prefix + urlencode({"before": before.token(), "page": result.number - 1})
        if before
        else "",
    }


def shown_rows(services: Services, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items with what their row shows, worked out here rather than by template calls per
    cell: each process, kind and status is translated once per page, not once per row."""
    # Per page (the language is the request's): a handful of codes among fifty rows.
    process, kind, status = map(cache, (job_label, history.kind_label, history.status_label))
    return [
        {
            **item,
            "when": local_time(item["created_at"]),
            "process": process(item["job_name"]),
            "kind_text": kind(item["kind"]),
            "status_text": status(item["status"]),
            "text": translate_stored(item["message"], item["params"]),
            "resolved_text": _(
                "Resolved on {date} by {who}: {text}",
                date=local_time(item["resolved_at"]),
                who=item["resolved_by"],
                text=item["resolution"],
            )
            if item["resolved_at"]
            else "",
        }
        for item in items
    ]


@get("/history", name="history", sync_to_thread=False)
def history_page(request: HTMXRequest, services: ServicesDep) -> Template:
    """Keyset pages: an old ``?page=N`` link without a cursor opens the first page. A page turn
    by htmx gets the results alone; going back in the browser (a history restore) the whole page."""
    query = HistoryQuery.parse(request.query_params)
    filters, params = query.filters, request.query_params
    result = history_queries.query_page(
        services.store,
        filters,
        after=Cursor.parse(params.get("after")),
        before=Cursor.parse(params.get("before")),
        number=query.page,
        per_page=PER_PAGE,
    )
    context = {
        "active": "history",
        "page": result,
        "rows": shown_rows(services, result.items),
        "filters": filters,
        **page_links(result, _query_string(filters)),
        "export_qs": _query_string(filters),
    }
    turn = request.htmx and not request.htmx.history_restore_request
    if turn:  # the results alone: no filter form to fill
        return page(request, "platform/history.html", context, partial=RESULTS)
    return page(request, "platform/history.html", {**context, **filter_options(services)})


def filter_options(services: Services) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices, (value, label), each label translated once."""
    kinds = sorted((history.kind_label(kind), kind) for kind in history.KIND_LABELS)
    statuses = [(status, history.status_label(status)) for status in history.ITEM_STATUSES]
    return {
        "jobs": job_choices(services),
        "kinds": [(kind, label) for label, kind in kinds],
        "statuses": [*statuses, ("unresolved", _("unresolved errors"))],
    }


def job_choices(services: Services) -> list[tuple[str, str]]:
    """Every process that has runs, manual ones too, and every one the program can run; in words,
    in the order of their labels."""
    names = {*history_queries.job_names(services.store), *services.run_kinds()}
    return sorted(((name, job_label(name)) for name in names), key=lambda pair: pair[1].casefold())


def _item_or_404(services: Services, item_id: int) -> dict[str, Any]:
    with services.store.read() as db:
        row = db.execute("SELECT * FROM run_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFoundException()
    return history_queries.decode_row(row)


@get("/history/items/{item_id:int}/resolve", name="history_resolve_form", sync_to_thread=False)
def resolve_form(services: ServicesDep, item_id: FromPath[int]) -> Template:
    """The row with its resolve form open: loaded on demand, so long pages of errors stay light."""
    context = {"rows": shown_rows(services, [_item_or_404(services, item_id)]), "editing": True}
    return Template("platform/_history_row.html", context=context)


@post("/history/items/{item_id:int}/resolve", name="history_resolve", sync_to_thread=True)
def resolve(
    request: HTMXRequest, services: ServicesDep, item_id: FromPath[int], data: FormData
) -> Template:
    form = ResolveForm.parse(data, default_who=local_user())
    try:
        item = history.resolve_item(services.store, item_id, form.justification, form.who)
        error = None
        status = 200
    except HistoryError as exc:
        error = exc.translated()
        status = 422
        item = _item_or_404(services, item_id)
    context = {"item": item, "rows": shown_rows(services, [item]), "error": error, "editing": True}
    # A page that shows the item its own way (a connector's history) aims at its resolution only.
    only_resolution = request.headers.get("hx-target") == f"resolution-{item_id}"
    template = (
        "platform/_history_resolution.html" if only_resolution else "platform/_history_row.html"
    )
    return Template(template, context=context, status_code=status)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralise them."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@get("/history/export.csv", name="history_export", sync_to_thread=True)
def export_csv(request: HTMXRequest, services: ServicesDep) -> Response[Any]:
    filters = HistoryQuery.parse(request.query_params).filters

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(
            [
                _("Date"),
                _("Process"),
                _("Kind"),
                _("Status"),
                _("Reference"),
                _("Message"),
                _("Resolved on"),
                _("Resolved by"),
                _("Justification"),
            ]
        )
        after: Cursor | None = None
        while True:
            result = history_queries.query_page(
                services.store, filters, after=after, per_page=EXPORT_CHUNK
            )
            for item in result.items:
                writer.writerow(
                    [
                        csv_safe(v)
                        for v in (
                            item["created_at"],
                            job_label(item["job_name"]),
                            history.kind_label(item["kind"]),
                            history.status_label(item["status"]),
                            item["reference"],
                            _stored(item),
                            item["resolved_at"],
                            item["resolved_by"],
                            item["resolution"],
                        )
                    ]
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            after = result.next_cursor
            if after is None:
                break

    return Stream(
        ("\ufeff" + chunk if index == 0 else chunk for index, chunk in enumerate(rows())),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="relais-historique.csv"'},
    )


def _stored(item: dict[str, Any]) -> str:
    from webapp.i18n import translate_stored

    return translate_stored(item.get("message"), item.get("params"))


ROUTES = [history_page, resolve_form, resolve, export_csv]
