"""The e-connecteur's correspondences (ECN-3, ECN-4), history (ECN-8) and file specification (ECN-9).

Article correspondences are edited from the article page (a block loaded on demand) and in mass on
their own screen; customers linked by receptions can be unlinked; VAT, unit and country codes are
listed and added per connector.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp import i18n, settings
from webapp.econnector import connectors as connector_store
from webapp.econnector import mappings, records, spec
from webapp.econnector.connectors import Connector, ConnectorError
from webapp.econnector.mappings import set_mapping
from webapp.i18n import N_, gettext
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, first, page
from webapp.web.econnector.sync import CODE_KINDS

SHOW = {
    "export": N_("Show the articles available for export"),
    "filter": N_("Show the articles matching the filter:"),
}
TAB_LABELS = {"reception": N_("Receptions"), "send": N_("Sends"), "error": N_("Errors")}
DATA_KINDS = {
    "document": N_("Document"),
    "customer": N_("Customer"),
    "supplier": N_("Supplier"),
    "articles": N_("Articles"),
    "customers": N_("Customers"),
    "contacts": N_("Contacts"),
}


def _connector(services: Services, code: str) -> Connector:
    try:
        return connector_store.get(services.store, code)
    except ConnectorError:
        raise NotFoundException() from None


def _chosen(services: Services, code: str) -> tuple[list[Connector], Connector | None]:
    """All the connectors, and the one asked for (the first when none is named)."""
    items = connector_store.list_all(services.store)
    if code:
        return items, _connector(services, code)
    return items, (items[0] if items else None)


def _base(section: str, **extra: Any) -> dict[str, Any]:
    return {"active": "connectors", "section": section, **extra}


# Article correspondences: the mass-edit screen --------------------------------------------------


def _articles_context(
    services: Services, code: str, show: str, tags: str, **extra: Any
) -> dict[str, Any]:
    items, connector = _chosen(services, code)
    rows = mappings.articles_for_mapping(services.store, connector, show, tags) if connector else []
    return _base(
        "articles",
        connectors=items,
        connector=connector,
        show=show,
        tags=tags,
        show_labels=SHOW,
        rows=rows[:500],
        more=len(rows) > 500,
        **{"errors": {}, **extra},
    )


@get("/connectors/articles", name="connector_articles", sync_to_thread=False)
def articles_page(request: HTMXRequest, services: ServicesDep) -> Template:
    params = request.query_params
    show = str(params.get("show")) if params.get("show") in SHOW else "export"
    context = _articles_context(
        services, params.get("connector") or "", show, params.get("tags") or ""
    )
    return page(request, "econnector/articles.html", context, partial="econnector/_articles.html")


@post("/connectors/articles/save", name="connector_articles_save", sync_to_thread=True)
def articles_save(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    connector = _connector(services, first(data.get("connector")))
    show = first(data.get("show")) or "export"
    tags = first(data.get("tags"))
    lines = _lines(data, "article")
    template = "econnector/_articles.html" if request.htmx else "econnector/articles.html"
    try:
        changed = mappings.set_article_codes(services.store, connector, lines)
    except ConnectorError as exc:
        given = {line.article: (line.external, line.variant) for line in lines}
        errors = {exc.field or "": exc.translated()}
        context = _articles_context(
            services, connector.code, show, tags, errors=errors, given=given
        )
        return Template(template, context=context, status_code=422)
    context = _articles_context(services, connector.code, show, tags, saved=changed)
    return Template(template, context=context)


def _lines(data: dict[str, Any], key: str, article: str = "") -> list[mappings.ArticleCode]:
    """The form's lines: `key` names the column that varies (article, or connector)."""
    names = ("external", "variant", "old_external", "old_variant")
    keys, *columns = (_list(data.get(name)) for name in (key, *names))
    return [
        mappings.ArticleCode(
            article or keys[index],
            *(column[index] if index < len(column) else "" for column in columns),
        )
        for index in range(len(keys))
    ]


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(item).strip() for item in values]


# Article correspondences: the block of the article page -----------------------------------------


def _article(services: Services, article_id: int) -> dict[str, Any]:
    with services.store.read() as db:
        row = db.execute("SELECT id, code, label FROM articles WHERE id = ?", [article_id])
        found = row.fetchone()
    if found is None:
        raise NotFoundException()
    return dict(found)


@get("/articles/{article_id:int}/connectors", name="article_connectors", sync_to_thread=False)
def article_block(services: ServicesDep, article_id: FromPath[int]) -> Template:
    article = _article(services, article_id)
    context = {
        "article": article,
        "rows": mappings.article_codes(services.store, article_id),
        "error": None,
    }
    return Template("econnector/_article_block.html", context=context)


@post(
    "/articles/{article_id:int}/connectors/save",
    name="article_connectors_save",
    sync_to_thread=True,
)
def article_block_save(
    services: ServicesDep, article_id: FromPath[int], data: FormData
) -> Template:
    article = _article(services, article_id)
    lines = _lines(data, "connector", article["code"])
    codes = _list(data.get("connector"))
    by_connector: dict[str, list[mappings.ArticleCode]] = {}
    for code, line in zip(codes, lines, strict=False):
        by_connector.setdefault(code, []).append(line)
    error = None
    try:
        for code, connector_lines in by_connector.items():
            connector = _connector(services, code)
            mappings.set_article_codes(services.store, connector, connector_lines)
    except ConnectorError as exc:
        error = exc.translated()
    rows = mappings.article_codes(services.store, article_id)
    if error:  # the user's values stay in the form
        rows = [
            {**row, "external": line.external, "variant": line.variant}
            for row, line in zip(rows, lines, strict=False)
        ]
    context = {"article": article, "rows": rows, "error": error, "saved": not error}
    return Template(
        "econnector/_article_block.html", context=context, status_code=422 if error else 200
    )


# Customer correspondences -----------------------------------------------------------------------


def _customers_context(services: Services, code: str, **extra: Any) -> dict[str, Any]:
    items, connector = _chosen(services, code)
    rows = mappings.customer_links(services.store, connector) if connector else []
    return _base("sync", connectors=items, connector=connector, rows=rows, **extra)


@get("/connectors/customers", name="connector_customers", sync_to_thread=False)
def customers_page(request: HTMXRequest, services: ServicesDep) -> Template:
    context = _customers_context(services, request.query_params.get("connector") or "")
    return page(request, "econnector/customers.html", context, partial="econnector/_customers.html")


@post("/connectors/customers/unlink", name="connector_customers_unlink", sync_to_thread=True)
def customers_unlink(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    connector = _connector(services, first(data.get("connector")))
    refs = [ref for ref in _list(data.get("external")) if ref]
    template = "econnector/_customers.html" if request.htmx else "econnector/customers.html"
    if not refs:
        context = _customers_context(
            services, connector.code, error=gettext("Tick the customers to unlink.")
        )
        return Template(template, context=context, status_code=422)
    removed = mappings.unlink_customers(services.store, connector, refs)
    return Template(
        template, context=_customers_context(services, connector.code, unlinked=removed)
    )


# VAT, unit and country correspondences ---------------------------------------------------------


def _codes_context(services: Services, code: str, **extra: Any) -> dict[str, Any]:
    items, connector = _chosen(services, code)
    rows = mappings.code_links(services.store, connector) if connector else []
    return _base(
        "sync",
        connectors=items,
        connector=connector,
        rows=rows,
        code_kinds=CODE_KINDS,
        ref=connector_store.reference(services.store),
        **{"form": {}, "errors": {}, **extra},
    )


@get("/connectors/codes", name="connector_codes", sync_to_thread=False)
def codes_page(request: HTMXRequest, services: ServicesDep) -> Template:
    context = _codes_context(services, request.query_params.get("connector") or "")
    return page(request, "econnector/codes.html", context, partial="econnector/_codes.html")


@post("/connectors/codes/add", name="connector_codes_add", sync_to_thread=True)
def codes_add(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    connector = _connector(services, first(data.get("connector")))
    form = {name: first(data.get(name)) for name in ("kind", "external", "internal")}
    template = "econnector/_codes.html" if request.htmx else "econnector/codes.html"
    try:
        if form["kind"] not in CODE_KINDS:
            raise ConnectorError(N_("Choose a value from the list."), field="kind")
        if not form["internal"]:
            raise ConnectorError(N_("Choose a value from the list."), field="internal")
        set_mapping(services.store, connector, form["kind"], form["external"], form["internal"])
    except ConnectorError as exc:
        context = _codes_context(
            services, connector.code, form=form, errors={exc.field or "external": exc.translated()}
        )
        return Template(template, context=context, status_code=422)
    return Template(template, context=_codes_context(services, connector.code, added=form))


@post("/connectors/codes/delete", name="connector_codes_delete", sync_to_thread=True)
def codes_delete(request: HTMXRequest, services: ServicesDep, data: FormData) -> Template:
    connector = _connector(services, first(data.get("connector")))
    mappings.delete_code(
        services.store, connector, first(data.get("kind")), first(data.get("external"))
    )
    template = "econnector/_codes.html" if request.htmx else "econnector/codes.html"
    return Template(template, context=_codes_context(services, connector.code))


# History ---------------------------------------------------------------------------------------


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


@get("/connectors/{code:str}/history", name="connector_history", sync_to_thread=False)
def history_page(request: HTMXRequest, services: ServicesDep, code: FromPath[str]) -> Template:
    connector = _connector(services, code)
    params = request.query_params
    tab = str(params.get("tab")) if params.get("tab") in records.TABS else "reception"
    start, end = records.default_period()
    date_from = _day(params.get("date_from"), start)
    date_to = _day(params.get("date_to"), end)
    # The platform history about this connector, by keyset pages as on /history (the cursor's
    # format is history_queries'; a link without one, or an old one, opens the first page).
    from webapp.history_queries import Cursor, ItemFilter, query_page
    from webapp.web.platform.history import PER_PAGE, page_links

    filters = ItemFilter(
        date_from=date_from, date_to=date_to, status=records.TABS[tab], subject=connector.code
    )
    number = str(params.get("page") or "1")
    result = query_page(
        services.store,
        filters,
        after=Cursor.parse(params.get("after")),
        before=Cursor.parse(params.get("before")),
        number=int(number) if number.isdigit() else 1,
        per_page=PER_PAGE,
    )
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    context = _base(
        "sync",
        connector=connector,
        tab=tab,
        tabs=TAB_LABELS,
        rows=result.items,
        page=result,
        **page_links(result, urlencode({"tab": tab, **query})),
        date_from=date_from,
        date_to=date_to,
        tab_query=urlencode(query),
        data_kinds=DATA_KINDS,
        retention_months=int(settings.get(services.store, "history_retention_months")),
    )
    # The pager's htmx turn gets the section alone; the back button (a history restore) the page.
    partial = None if request.htmx.history_restore_request else "econnector/_history.html"
    return page(request, "econnector/history.html", context, partial=partial)


# File specification -----------------------------------------------------------------------------


@get("/connectors/spec", name="connector_spec", sync_to_thread=False)
def spec_page() -> Template:
    context = _base("spec", files=spec.files(), rules=spec.general_rules())
    return Template("econnector/spec.html", context=context)


@get(
    "/connectors/spec.md", name="connector_spec_md", sync_to_thread=False, media_type=MediaType.TEXT
)
def spec_markdown() -> Response[bytes]:
    return Response(
        spec.markdown().encode("utf-8"),
        media_type="text/markdown; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="e-connecteur-specification.md"'},
    )


@get("/connectors/spec.html", name="connector_spec_html", sync_to_thread=False)
def spec_html() -> Response[bytes]:
    return Response(
        spec.html(i18n.current_language()).encode("utf-8"),
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="e-connecteur-specification.html"'},
    )


@get("/connectors/spec/{filename:str}", name="connector_spec_example", sync_to_thread=False)
def spec_example(filename: FromPath[str]) -> Response[bytes]:
    kind = filename.removeprefix("example-").removesuffix(".csv")
    text = spec.example_csv(kind) if filename == f"example-{kind}.csv" else None
    if text is None:
        raise NotFoundException()
    return Response(
        ("\ufeff" + text).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="example-{kind}.csv"'},
    )


ROUTES = [
    articles_page,
    articles_save,
    article_block,
    article_block_save,
    customers_page,
    customers_unlink,
    codes_page,
    codes_add,
    codes_delete,
    history_page,
    spec_page,
    spec_markdown,
    spec_html,
    spec_example,
]
