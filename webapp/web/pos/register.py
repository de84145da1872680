"""The register's pages (POS-4 to POS-6): the sales screen, the register dashboard (outbox, last
contact, packages, update packages) and the local ticket API for other till software."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, RawBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.formatting import money
from webapp.i18n import _
from webapp.numbers import NumberProblem, parse_decimal
from webapp.pos import (
    protocol,
    register,
    register_lists,
    register_status,
    selling,
    trail_keys,
    updates_register,
)
from webapp.pos.register_client import OfficeError
from webapp.secrets import VaultError
from webapp.security import is_loopback
from webapp.services import Services
from webapp.web.common import FormData, ServicesDep, page
from webapp.web.forms import CartForm, ModeForm
from webapp.web.pos import tickets, till

MAX_CART_LINES = 200


# -- the cart (kept in the form itself: nothing is stored until "Encaisser") ----------------------


@dataclass
class CartLine:
    code: str
    quantity: str
    label: str = ""
    unit_price: Decimal | None = None
    total: Decimal | None = None
    error: str = ""


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)
    total: Decimal = Decimal(0)
    vat: Decimal = Decimal(0)

    @property
    def valid(self) -> bool:
        return bool(self.lines) and not any(line.error for line in self.lines)

    def request(self, form: CartForm) -> dict[str, Any]:
        """The ticket request the cart stands for (the same one the local API takes)."""
        return {
            "lines": [{"article": line.code, "quantity": line.quantity} for line in self.lines],
            "payments": [{"method": form.payment}] if form.payment else None,
            "user": form.user or None,
        }


def _cart(services: Services, codes: list[str], quantities: list[str]) -> Cart:
    cart = Cart()
    with services.store.read() as db:
        for position, (code, quantity) in enumerate(zip(codes, quantities, strict=False), 1):
            line = CartLine(code, quantity.replace(",", ".") or "1")
            try:
                parsed = selling.parse_line(
                    db, {"article": code, "quantity": line.quantity}, position
                )
            except selling.TicketError as exc:
                line.error = exc.translated()
            else:
                line.label = parsed.label
                line.unit_price = parsed.unit_price_incl_vat
                line.total = parsed.total
                line.quantity = selling.wire(parsed.quantity)
                cart.total += parsed.total
                cart.vat += parsed.vat
            cart.lines.append(line)
    return cart


def _add(codes: list[str], quantities: list[str], code: str) -> None:
    """A scan or a click: one more of this article (on its line when it is already there)."""
    for index, existing in enumerate(codes):
        if existing.casefold() == code.casefold():
            try:
                counted = parse_decimal(quantities[index].replace(",", ".") or "0")
            except NumberProblem:  # the line shows its own error; the scan starts it over
                counted = Decimal(0)
            quantities[index] = selling.wire(counted + 1)
            return
    if len(codes) < MAX_CART_LINES:
        codes.append(code)
        quantities.append("1")


def _sell_context(
    services: Services, cart: Cart, form: CartForm | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "active": "pos",
        "section": "sell",
        "cart": cart,
        "families": register_lists.article_families(services.store, [x.code for x in cart.lines]),
        "methods": register_lists.payment_methods(services.store),
        "users": [user for user in register_lists.list_users(services.store) if user["active"]],
        "payment": form.payment if form else "",
        "user": form.user if form else "",
        "config": register.load_config(services.store),
        "vault": services.vault,  # locked: the unlock form beside the ticket (each one is signed)
        **extra,
    }


@get("/pos/sell", name="pos_sell", sync_to_thread=False)
def sell_page(request: HTMXRequest, services: ServicesDep) -> Template:
    context = _sell_context(services, Cart(), till=register_status.till(services.store))
    return page(request, "pos/sell.html", context)


@get("/pos/sell/search", name="pos_sell_search", sync_to_thread=False)
def sell_search(services: ServicesDep, scan: FromQuery[str] = "") -> Template:
    articles = selling.search_articles(services.store, scan[:200])
    families = register_lists.article_families(services.store, [a.code for a in articles])
    context = {"articles": articles, "q": scan, "families": families}
    return Template("pos/_sell_results.html", context=context)


@post("/pos/sell/cart", name="pos_sell_cart", sync_to_thread=True)
def sell_cart(services: ServicesDep, data: FormData) -> Template:
    form = CartForm.parse(data)
    codes, quantities, scanned = list(form.codes), list(form.quantities), form.scanned
    error = ""
    if form.remove is not None:
        del codes[form.remove], quantities[form.remove]
    if scanned:
        with services.store.read() as db:
            article = selling.find_article(db, scanned)
        if article is None:
            matches = selling.search_articles(services.store, scanned, limit=2)
            article = matches[0] if len(matches) == 1 else None
        if article is None:
            error = _("No article for “{text}”: search by its label.", text=scanned)
        else:
            _add(codes, quantities, article.code)
    cart = _cart(services, codes, quantities)
    context = _sell_context(services, cart, form, error=error, clear_scan=bool(scanned))
    return Template("pos/_sell_cart.html", context=context)


@post("/pos/sell/checkout", name="pos_sell_checkout", sync_to_thread=True)
def sell_checkout(services: ServicesDep, data: FormData) -> Template:
    form = CartForm.parse(data)
    cart = _cart(services, list(form.codes), list(form.quantities))
    try:
        signer = selling.signer_for(services.store, services.vault)
        recorded = selling.record_ticket(services.store, cart.request(form), signer)
    except (selling.TicketError, register.RegisterError, trail_keys.TrailKeyError) as exc:
        locked = isinstance(exc, trail_keys.TrailKeyError) and not services.vault.is_unlocked
        context = _sell_context(services, cart, form, error=exc.translated(), show_vault=locked)
        return Template("pos/_sell_cart.html", context=context, status_code=422)
    if register.RUNNING is not None:
        register.RUNNING.wake()
    message = _(
        "Ticket {number} recorded: {total} ({methods}).",
        number=recorded.number,
        total=money(Decimal(recorded.total)),
        methods=_method_names(services, recorded.payload) or "—",
    )
    kept = CartForm((), (), None, "", "", form.user)  # the next ticket: same seller
    context = _sell_context(services, Cart(), kept, saved=message)
    return Template("pos/_sell_cart.html", context=context)


def _method_names(services: Services, payload: dict[str, Any]) -> str:
    """The payment methods of a recorded ticket by name (the code is what the wire carries)."""
    with services.store.read() as db:
        names = register_lists.method_names(db)
    codes = [str(row.get("method") or "") for row in payload.get("payments") or []]
    return ", ".join(names.get(code.casefold(), code) for code in codes)


# -- the register dashboard -----------------------------------------------------------------------


def _register_context(services: Services, **extra: Any) -> dict[str, Any]:
    return {
        "active": "pos",
        "section": "register",
        "status": register_status.status(services.store),
        "mode": updates_register.mode(services.store),
        "modes": updates_register.MODES,
        "updates": list(reversed(updates_register.received(services.store)))[:20],
        "running": register.RUNNING is not None,
        "role": register.role(services.store),
        **extra,
    }


@get("/pos/register", name="pos_register", sync_to_thread=False)
def register_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return page(request, "pos/register.html", _register_context(services))


@get("/pos/register/status", name="pos_register_status", sync_to_thread=False)
def register_status_part(services: ServicesDep) -> Template:
    return Template("pos/_register_status.html", context=_register_context(services))


@post("/pos/register/sync", name="pos_register_sync", sync_to_thread=True)
def register_sync(services: ServicesDep) -> Template:
    try:
        result = register.sync_once(services.store, services.vault)
    except (OfficeError, register.RegisterError, VaultError) as exc:
        context = _register_context(services, error=exc.translated())
        return Template("pos/_register_status.html", context=context)
    message = _(
        "Packages applied: {applied}; records sent: {sent}; rejected: {rejected}.",
        applied=len(result.imported.applied),
        sent=result.pushed.sent,
        rejected=len(result.pushed.rejected),
    )
    return Template("pos/_register_status.html", context=_register_context(services, saved=message))


@post("/pos/register/updates/{number:int}/confirm", name="pos_update_confirm", sync_to_thread=True)
def update_confirm(services: ServicesDep, number: FromPath[int]) -> Template:
    try:
        row = updates_register.confirm(services.store, number)
    except (updates_register.UpdateError, register.RegisterError) as exc:
        context = _register_context(services, update_error=exc.translated())
        return Template("pos/_register_updates.html", context=context, status_code=422)
    if row.get("state") == "applied":
        message = _("Update package {number} applied.", number=number)
        context = _register_context(services, update_saved=message)
    else:
        context = _register_context(services, update_error=_(row.get("reason") or "?"))
    return Template("pos/_register_updates.html", context=context)


@post("/pos/register/update-mode", name="pos_update_mode", sync_to_thread=True)
def update_mode(services: ServicesDep, data: FormData) -> Template:
    try:
        updates_register.set_mode(services.store, ModeForm.parse(data).mode)
    except updates_register.UpdateError as exc:
        context = _register_context(services, update_error=exc.translated())
        return Template("pos/_register_updates.html", context=context, status_code=422)
    context = _register_context(services, update_saved=_("Confirmation mode saved."))
    return Template("pos/_register_updates.html", context=context)


# -- the local ticket API (other till software on this machine) -----------------------------------


def _same_origin(request: Request[Any, Any, Any]) -> bool:
    """A browser page of another site may POST here (CSRF is off for this route): refuse any
    request a browser marks as cross-site, and any Origin other than this server's own."""
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return not origin or urlsplit(origin).netloc == request.headers.get("host", "")


# A ticket's answer is for the program that asked, once: no cache may keep or replay it.
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _api_error(status: int, message: str) -> Response[dict[str, Any]]:
    return Response({"ok": False, "error": message}, status_code=status, headers=API_HEADERS)


@post(
    "/api/pos/v1/local/tickets",
    name="pos_local_tickets",
    sync_to_thread=True,
    exclude_from_csrf=True,
)
def local_ticket(
    request: Request[Any, Any, Any], services: ServicesDep, body: RawBody
) -> Response[Any]:
    """Same validation and same outbox as the sales screen; loopback callers only (see docs).

    The body is read raw and parsed by `protocol.parse_json`, as the office parses a push: a
    body nested 100,000 deep is a 400, and numbers are never floats."""
    client = request.client.host if request.client else ""
    if not is_loopback(client) or not _same_origin(request):
        return _api_error(403, _("Only programs on this computer may record tickets here."))
    if not request.headers.get("content-type", "").startswith("application/json"):
        return _api_error(415, _("Send the ticket as JSON (Content-Type: application/json)."))
    try:
        data = protocol.parse_json(body)
    except protocol.BadJson as exc:
        return _api_error(400, _("The body is not JSON Relais can read: {error}.", error=str(exc)))
    if not protocol.valid_text(data):
        return _api_error(400, _("The body holds text that is not valid Unicode."))
    if not isinstance(data, dict):
        return _api_error(400, _("The body must be a JSON object."))
    ticket = {key: value for key, value in data.items() if key not in ("number", "id")}
    try:
        signer = selling.signer_for(services.store, services.vault)
        recorded = selling.record_ticket(services.store, ticket, signer)
    except (register.RegisterError, trail_keys.TrailKeyError) as exc:
        return _api_error(409, exc.translated())
    except selling.TicketError as exc:
        return _api_error(422, exc.translated())
    if register.RUNNING is not None:
        register.RUNNING.wake()
    answer = {
        "ok": True,
        "id": recorded.id,
        "number": recorded.number,
        "total_incl_vat": recorded.total,
        "state": "queued",
        "ticket": recorded.payload,
    }
    return Response(answer, status_code=201, headers=API_HEADERS)


ROUTES = [
    sell_page,
    sell_search,
    sell_cart,
    sell_checkout,
    register_page,
    register_status_part,
    register_sync,
    update_confirm,
    update_mode,
    local_ticket,
    *till.ROUTES,
    *tickets.ROUTES,
]
