"""The register's closures (issue 17): the list and its buttons, the banner of the sales screen
when a past day was left open, and the printable Z report. The work is webapp/pos/closures.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Self

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.i18n import N_, UserError, _
from webapp.pos import closures, register_config, register_lists, trail_keys
from webapp.settings import read_value
from webapp.web.common import FormData, ServicesDep, page


class ClosureFormError(UserError):
    """A closure form that names no period or no valid date: nothing is closed."""


@dataclass(frozen=True)
class ClosureForm:
    """The closure asked for: its period and a day in it (a date, a month or a year)."""

    period: str
    day: date

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Self:
        period = str(data.get("period") or "").strip()
        if period not in closures.PERIODS:
            raise ClosureFormError(N_("Choose a day, a month or a year to close."))
        text = str(data.get(period) or "").strip()
        try:
            if period == "day":
                return cls(period, date.fromisoformat(text))
            if period == "month":
                return cls(period, date.fromisoformat(f"{text}-01"))
            return cls(period, date(int(text), 1, 1))
        except ValueError:
            raise ClosureFormError(
                N_("This date cannot be read: {value}."), value=text[:20]
            ) from None


def _defaults() -> dict[str, str]:
    """What the forms propose: today, last month, last year (the periods one closes next)."""
    today = closures.today()
    last_month = today.replace(day=1) - timedelta(days=1)
    return {
        "day": today.isoformat(),
        "month": f"{last_month:%Y-%m}",
        "year": str(today.year - 1),
    }


def _list_context(services: Any, **extra: Any) -> dict[str, Any]:
    with services.store.read() as db:
        found = closures.list_closures(db)
        open_days = closures.days_left_open(db)
    return {
        "active": "pos",
        "section": "closures",
        "closures": [(closure, closures.closure_title(closure)) for closure in found],
        "open_days": open_days,
        "defaults": _defaults(),
        "config": register_config.load_config(services.store),
        **extra,
    }


@get("/pos/closures", name="pos_closures", sync_to_thread=False)
def closures_page(request: HTMXRequest, services: ServicesDep) -> Template:
    return page(request, "pos/closures.html", _list_context(services))


def _close(services: Any, period: str, day: date | None) -> tuple[list[Any], str]:
    """The closures written and "" or nothing and the reason it was refused."""
    try:
        return closures.close_here(services.store, services.vault, period, day), ""
    except (
        closures.ClosureError,
        trail_keys.TrailKeyError,
        register_config.RegisterError,
    ) as exc:
        return [], exc.translated()


def _done(written: list[Any]) -> str:
    titles = ", ".join(closures.closure_title(closure) for closure in written)
    return _("Recorded: {closures}.", closures=titles)


@post("/pos/closures", name="pos_closures_close", sync_to_thread=True)
def closures_close(services: ServicesDep, data: FormData) -> Template:
    try:
        form = ClosureForm.parse(data)
    except ClosureFormError as exc:
        context = _list_context(services, error=exc.translated())
        return Template("pos/_closures_list.html", context=context, status_code=422)
    written, error = _close(services, form.period, form.day)
    if error:
        context = _list_context(services, error=error)
        return Template("pos/_closures_list.html", context=context, status_code=422)
    context = _list_context(services, saved=_done(written), latest=written[-1].seq)
    return Template("pos/_closures_list.html", context=context)


def _banner_context(services: Any, **extra: Any) -> dict[str, Any]:
    with services.store.read() as db:
        open_days = closures.days_left_open(db)
    return {"open_days": open_days, **extra}


@get("/pos/closures/banner", name="pos_closures_banner", sync_to_thread=False)
def closure_banner(services: ServicesDep) -> Template:
    """The sales screen's offer to close the past day(s) left open (nothing when all are)."""
    return Template("pos/_closure_banner_body.html", context=_banner_context(services))


@post("/pos/closures/banner", name="pos_closures_banner_close", sync_to_thread=True)
def closure_banner_close(services: ServicesDep) -> Template:
    """Close the past days left open (each its own closure); selling goes on either way."""
    with services.store.read() as db:
        open_days = closures.days_left_open(db)
    if not open_days:
        return Template("pos/_closure_banner_body.html", context=_banner_context(services))
    written, error = _close(services, "day", open_days[-1])
    if error:
        context = _banner_context(services, error=error)
        return Template("pos/_closure_banner_body.html", context=context, status_code=422)
    context = _banner_context(services, saved=_done(written), latest=written[-1].seq)
    return Template("pos/_closure_banner_body.html", context=context)


def _shop(db: Any, code: str | None) -> dict[str, Any]:
    row = db.execute(
        "SELECT name, address, postcode, city, vat_number FROM companies"
        " ORDER BY code = ? COLLATE NOCASE DESC, is_default DESC, id LIMIT 1",
        [code or ""],
    ).fetchone()
    return dict(row) if row else {}


@get("/pos/closures/{seq:int}/print", name="pos_closure_print", sync_to_thread=False)
def closure_print(services: ServicesDep, seq: FromPath[int]) -> Template:
    """The Z report of one closure, laid out for an 80 mm till printer (browser print)."""
    company = read_value(services.store, register_config.COMPANY)
    with services.store.read() as db:
        closure = closures.get_closure(db, seq)
        if closure is None:
            raise NotFoundException(_("No closure {number} on this register.", number=seq))
        shop = _shop(db, company)
        methods = register_lists.method_names(db)
    config = register_config.load_config(services.store)
    payments = [
        (methods.get(code.casefold(), code), amount)
        for code, amount in closure.values["payments"].items()
    ]
    context = {
        "active": "pos",
        "closure": closure,
        "title": closures.closure_title(closure),
        "vat_lines": list(closures.totals_lines(closure.values)),
        "payments": payments,
        "shop": shop,
        "register": config.number if config else None,
        "signature": f"{closure.signature[:12]}…{closure.signature[-6:]}",
    }
    return Template("pos/z_report.html", context=context)


ROUTES = [
    closures_page,
    closures_close,
    closure_banner,
    closure_banner_close,
    closure_print,
]
