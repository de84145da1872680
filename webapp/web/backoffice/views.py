"""The back office ("Gestion commerciale"): articles, customers, suppliers and documents.

Thin: the queries and the checks are in ``webapp.backoffice`` (catalog, parties, document_list).
Lists answer an htmx request that targets their results with the results alone, so searching,
filtering, sorting and paging swap one section and push the URL.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from webapp.backoffice import catalog, document_list, parties
from webapp.backoffice.listing import FormError
from webapp.i18n import N_
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep

PARTY_TITLES = {"customer": N_("Customers"), "supplier": N_("Suppliers")}
PARTY_PATHS = {"customer": "/customers", "supplier": "/suppliers"}


def _context(section: str, **extra: Any) -> dict[str, Any]:
    return {
        "active": "backoffice",
        "section": section,
        "document_kinds": document_list.KINDS,
        "document_status": document_list.status_label,
        "party_paths": PARTY_PATHS,
        "party_name": parties.display_name,
        **extra,
    }


def _render(
    request: HTMXRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str,
    target: str,
) -> Template:
    """A list: its results only for an htmx request aimed at ``target``; the whole page
    otherwise (a first visit, a reload, or htmx restoring history after the back button)."""
    htmx = request.htmx
    if bool(htmx) and htmx.target == target and not htmx.history_restore_request:
        # The list's own URL goes in the address bar: no empty fields, no default sort.
        canonical = context["query"].link(context["path"])
        return Template(partial, context=context, headers={"HX-Push-Url": canonical})
    return Template(template, context=context)


# Articles ------------------------------------------------------------------------------------


@get("/articles", name="articles", sync_to_thread=False)
def articles_page(request: HTMXRequest, services: ServicesDep) -> Template:
    query = catalog.parse_article_query(request.query_params)
    ref = catalog.reference(services.store)
    default = ref.default_category
    result = catalog.list_articles(services.store, query, default["id"] if default else None)
    context = _context("articles", query=query, page=result, ref=ref, path="/articles")
    return _render(
        request,
        "backoffice/articles.html",
        context,
        partial="backoffice/_articles_results.html",
        target="article-results",
    )


def _article_or_404(services: Services, article_id: int) -> dict[str, Any]:
    article = catalog.get_article(services.store, article_id)
    if article is None:
        raise NotFoundException()
    return article


def _article_context(services: Services, article: dict[str, Any], **extra: Any) -> dict[str, Any]:
    values = {
        "article": article,
        "ref": catalog.reference(services.store),
        "form": catalog.article_form(article),
        "errors": {},
    }
    return _context("articles", **{**values, **extra})


@get("/articles/{article_id:int}", name="article", sync_to_thread=False)
def article_page(
    request: HTMXRequest, services: ServicesDep, article_id: FromPath[int]
) -> Template:
    article = _article_or_404(services, article_id)
    created = request.query_params.get("created") == "1"
    return Template(
        "backoffice/article.html", context=_article_context(services, article, created=created)
    )


@post("/articles/{article_id:int}/save", name="article_save", sync_to_thread=True)
def article_save(
    request: HTMXRequest, services: ServicesDep, article_id: FromPath[int], data: FormData
) -> Response[Any]:
    try:
        if not catalog.update_article(services.store, article_id, data):
            raise NotFoundException()
    except FormError as exc:
        article = _article_or_404(services, article_id)
        ref = catalog.reference(services.store)
        form = {**catalog.form_values(data, ref), "code": article["code"]}
        context = _article_context(services, article, form=form, errors=exc.translated())
        name = "backoffice/_article.html" if request.htmx else "backoffice/article.html"
        return Template(name, context=context, status_code=422)
    if not request.htmx:
        return Redirect(f"/articles/{article_id}", status_code=303)
    article = _article_or_404(services, article_id)
    context = _article_context(services, article, saved=True)
    return Template("backoffice/_article.html", context=context)


@get("/articles/new", name="article_new", sync_to_thread=False)
def article_new(services: ServicesDep) -> Template:
    ref = catalog.reference(services.store)
    context = _context("articles", ref=ref, form=catalog.blank_article_form(ref), errors={})
    return Template("backoffice/article_new.html", context=context)


@post("/articles/create", name="article_create", sync_to_thread=True)
def article_create(services: ServicesDep, data: FormData) -> Response[Any]:
    try:
        article_id = catalog.create_article(services.store, data)
    except FormError as exc:
        ref = catalog.reference(services.store)
        form = catalog.form_values(data, ref)
        context = _context("articles", ref=ref, form=form, errors=exc.translated())
        return Template("backoffice/article_new.html", context=context, status_code=422)
    return Redirect(f"/articles/{article_id}?created=1", status_code=303)


# Customers and suppliers -----------------------------------------------------------------------


def _party_routes(kind: str) -> list[Any]:
    base = PARTY_PATHS[kind]
    section = f"{kind}s"
    results_id = f"{kind}-results"

    def context(services: Services, **extra: Any) -> dict[str, Any]:
        return _context(
            section,
            kind=kind,
            path=base,
            title=PARTY_TITLES[kind],
            ref=parties.reference(services.store, kind),
            **extra,
        )

    def party_or_404(services: Services, party_id: int) -> dict[str, Any]:
        party = parties.get_party(services.store, kind, party_id)
        if party is None:
            raise NotFoundException()
        return party

    def detail_context(services: Services, party: dict[str, Any], **extra: Any) -> dict[str, Any]:
        values = {"party": party, "form": parties.party_form(party), "errors": {}}
        return context(services, **{**values, **extra})

    @get(base, name=section, sync_to_thread=False)
    def list_page(request: HTMXRequest, services: ServicesDep) -> Template:
        query = parties.parse_party_query(request.query_params)
        result = parties.list_parties(services.store, kind, query)
        return _render(
            request,
            "backoffice/parties.html",
            context(services, query=query, page=result),
            partial="backoffice/_parties_results.html",
            target=results_id,
        )

    @get(f"{base}/{{party_id:int}}", name=kind, sync_to_thread=False)
    def detail(request: HTMXRequest, services: ServicesDep, party_id: FromPath[int]) -> Template:
        party = party_or_404(services, party_id)
        created = request.query_params.get("created") == "1"
        return Template(
            "backoffice/party.html", context=detail_context(services, party, created=created)
        )

    @post(f"{base}/{{party_id:int}}/save", name=f"{kind}_save", sync_to_thread=True)
    def save(
        request: HTMXRequest, services: ServicesDep, party_id: FromPath[int], data: FormData
    ) -> Response[Any]:
        try:
            if not parties.update_party(services.store, kind, party_id, data):
                raise NotFoundException()
        except FormError as exc:
            party = party_or_404(services, party_id)
            form = {**parties.form_values(data), "code": party["code"]}
            ctx = detail_context(services, party, form=form, errors=exc.translated())
            name = "backoffice/_party.html" if request.htmx else "backoffice/party.html"
            return Template(name, context=ctx, status_code=422)
        if not request.htmx:
            return Redirect(f"{base}/{party_id}", status_code=303)
        party = party_or_404(services, party_id)
        return Template(
            "backoffice/_party.html", context=detail_context(services, party, saved=True)
        )

    @get(f"{base}/new", name=f"{kind}_new", sync_to_thread=False)
    def new(services: ServicesDep) -> Template:
        ctx = context(services, form=parties.blank_party_form(), errors={})
        return Template("backoffice/party_new.html", context=ctx)

    @post(f"{base}/create", name=f"{kind}_create", sync_to_thread=True)
    def create(services: ServicesDep, data: FormData) -> Response[Any]:
        try:
            party_id = parties.create_party(services.store, kind, data)
        except FormError as exc:
            ctx = context(services, form=parties.form_values(data), errors=exc.translated())
            return Template("backoffice/party_new.html", context=ctx, status_code=422)
        return Redirect(f"{base}/{party_id}?created=1", status_code=303)

    return [list_page, detail, save, new, create]


# Documents -------------------------------------------------------------------------------------


@get("/documents", name="documents", sync_to_thread=False)
def documents_page(request: HTMXRequest, services: ServicesDep) -> Template:
    query = document_list.parse_document_query(request.query_params)
    result = document_list.list_documents(services.store, query)
    context = _context("documents", query=query, page=result, path="/documents")
    return _render(
        request,
        "backoffice/documents.html",
        context,
        partial="backoffice/_documents_results.html",
        target="document-results",
    )


@get("/documents/{document_id:int}", name="document", sync_to_thread=False)
def document_page(services: ServicesDep, document_id: FromPath[int]) -> Template:
    document = document_list.get_document(services.store, document_id)
    if document is None:
        raise NotFoundException()
    return Template("backoffice/document.html", context=_context("documents", document=document))


ROUTES = [
    articles_page,
    article_page,
    article_save,
    article_new,
    article_create,
    *_party_routes("customer"),
    *_party_routes("supplier"),
    documents_page,
    document_page,
]
