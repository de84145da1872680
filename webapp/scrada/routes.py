"""Which route delivers each book, and what to set up for the books that have none (Scrada page,
`relais scrada status`).

A book can be fed by several sources: the partner feed (assumed; an account may not offer it), the
Peppol inbox (documented, opt-in), and the documents that arrive by themselves: webhooks, the
mailbox and the drop folder. What each source did is read from the deliveries (which source, how
many, when last) and from the source states the pull keeps (source_state.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from webapp.config import DataDir
from webapp.i18n import N_, gettext
from webapp.scrada import config as scrada_config
from webapp.scrada import source_state
from webapp.scrada.source_state import SourceKey
from webapp.secrets import Vault
from webapp.store import Store

SOURCES_BY_KIND: dict[str, tuple[str, ...]] = {
    "daily-receipts": ("partner", "webhook", "mailbox", "folder"),
    "cash-book": ("partner", "webhook", "mailbox", "folder"),
    "peppol-inbound": ("api", "webhook"),
    "purchase-invoices": ("webhook",),
}
SOURCE_LABELS = {
    "partner": N_("partner feed"),
    "api": N_("Peppol inbox"),
    "webhook": N_("webhook"),
    "mailbox": N_("mailbox"),
    "folder": N_("drop folder"),
}
PUSHED = ("webhook", "mailbox", "folder")

# Source states as shown: the pulled ones as the pull found them, the pushed ones as set up.
DELIVERING = "delivering"  # documents arrived this way
OFFERED = source_state.OFFERED  # asked, answers, nothing new yet
NOT_OFFERED = source_state.NOT_OFFERED
ERROR = source_state.ERROR
NOT_ASKED = "not-asked"  # a pulled source not asked yet (or the book is not ticked)
SET_UP = "set-up"  # a pushed source configured in Relais, nothing arrived yet
NOT_SET_UP = "not-set-up"

NO_ROUTE = N_(
    "No route delivers this book: Scrada's account does not offer the partner feed. Set up a"
    " webhook in Scrada to Relais's webhook address, or have Scrada e-mail the files to the"
    " mailbox, or push them by (S)FTP to the drop folder."
)
WAITING = N_("Nothing has arrived by {routes} yet: check in Scrada that this book is sent there.")
PEPPOL_OPT_IN = N_(
    "Not taken: tick the Peppol inbox to take it. Confirming a document takes it out of Scrada's"
    " inbox for your other programs too."
)
PEPPOL_CONSUMES = N_(
    "Taken and confirmed: the documents leave Scrada's inbox, also for your other programs."
)
NOT_TICKED = N_("Not ticked: this book is not pulled.")


@dataclass(frozen=True)
class SetUp:
    """Which pushed sources are configured in Relais."""

    webhook: bool = False
    mailbox: bool = False
    folder: bool = False

    def has(self, source: str) -> bool:
        return bool(getattr(self, source, False))


def setup_of(config: scrada_config.ScradaConfig, vault: Vault | None, data_dir: DataDir) -> SetUp:
    webhook = vault is not None and bool(scrada_config.webhook_secret(vault))
    return SetUp(
        webhook=webhook,
        mailbox=config.mailbox is not None,
        folder=config.drop_folder_in(data_dir) is not None,
    )


@dataclass(frozen=True)
class SourceRoute:
    source: str
    state: str
    delivered: int = 0
    last_delivery: str | None = None
    checked_at: str | None = None
    message: str | None = None  # the last error or refusal (English msgid) and its params
    params: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return gettext(SOURCE_LABELS[self.source])


@dataclass(frozen=True)
class BookRoute:
    company_id: str
    company_name: str
    company_number: str
    book_kind: str
    book_id: str
    book_name: str
    selected: bool
    sources: tuple[SourceRoute, ...]
    route: str | None  # the source of the latest delivery
    last_delivery: str | None
    advice: str | None  # English msgid: what to set up, or what taking the book means
    advice_params: dict[str, str] | None = None

    @property
    def advice_text(self) -> str | None:
        return gettext(self.advice, **(self.advice_params or {})) if self.advice else None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["advice_text"] = self.advice_text
        return values


def routes_by_book(store: Store, setup: SetUp) -> list[BookRoute]:
    """Every book of every company with its sources, in the order of the Scrada page."""
    with store.read() as db:
        books = db.execute(
            "SELECT b.company_id, c.name, c.company_number, b.kind, b.id, b.name, b.selected,"
            " c.selected FROM scrada_books b JOIN scrada_companies c ON c.id = b.company_id"
            " ORDER BY c.name COLLATE NOCASE, c.id, b.kind, b.name"
        ).fetchall()
        counts = db.execute(
            "SELECT company_id, book_kind, book_id, source, count(*), max(delivered_at)"
            " FROM scrada_deliveries GROUP BY company_id, book_kind, book_id, source"
        ).fetchall()
        states = source_state.all_states(db)
    delivered = {(r[0], r[1], r[2], r[3]): (int(r[4]), str(r[5])) for r in counts}
    routes = []
    for row in books:
        company_id, kind, book_id = str(row[0]), str(row[3]), str(row[4])
        sources = tuple(
            _source(SourceKey(company_id, kind, book_id, name), delivered, states, setup)
            for name in SOURCES_BY_KIND.get(kind, PUSHED)
        )
        latest = max(
            (s for s in sources if s.last_delivery),
            key=lambda s: s.last_delivery or "",
            default=None,
        )
        advice, params = _advice(kind, bool(row[6]), sources)
        routes.append(
            BookRoute(
                company_id,
                str(row[1]),
                str(row[2]),
                kind,
                book_id,
                str(row[5]),
                bool(row[6]) and bool(row[7]),
                sources,
                latest.source if latest else None,
                latest.last_delivery if latest else None,
                advice,
                params,
            )
        )
    return routes


def _source(
    key: SourceKey,
    delivered: dict[tuple[str, str, str, str], tuple[int, str]],
    states: dict[SourceKey, source_state.SourceState],
    setup: SetUp,
) -> SourceRoute:
    count, last = delivered.get((key.company_id, key.book_kind, key.book_id, key.source), (0, None))
    known = states.get(key)
    if key.source in PUSHED:
        state = DELIVERING if count else (SET_UP if setup.has(key.source) else NOT_SET_UP)
        return SourceRoute(key.source, state, count, last)
    if known is None:
        state = DELIVERING if count else NOT_ASKED
        return SourceRoute(key.source, state, count, last)
    state = DELIVERING if count and known.state == OFFERED else known.state
    return SourceRoute(
        key.source, state, count, last, known.checked_at, known.message, known.params
    )


def _advice(
    kind: str, selected: bool, sources: tuple[SourceRoute, ...]
) -> tuple[str | None, dict[str, str] | None]:
    if kind == "peppol-inbound":
        return (PEPPOL_CONSUMES if selected else PEPPOL_OPT_IN), None
    if not selected:
        return NOT_TICKED, None
    if any(s.state in (DELIVERING, OFFERED) for s in sources):
        return None, None
    waiting = [s.label for s in sources if s.state == SET_UP]
    if waiting:
        return WAITING, {"routes": ", ".join(waiting)}
    if any(s.state in (NOT_ASKED, ERROR) for s in sources if s.source == "partner"):
        return None, None  # the feed has not said yet whether it is offered
    return NO_ROUTE, None


def routes_summary(routes: list[BookRoute]) -> list[str]:
    """One translated line per book for `relais scrada status`: the route, or what is missing."""
    lines = []
    for route in routes:
        name = f"{route.company_name or route.company_id} — {route.book_name}"
        if route.route is not None:
            how = gettext(
                N_("delivered by {source}, last {when}"),
                source=gettext(SOURCE_LABELS[route.route]),
                when=route.last_delivery or "",
            )
        else:
            how = gettext(N_("nothing delivered yet"))
        missing = [
            gettext(SOURCE_LABELS[s.source]) for s in route.sources if s.state == NOT_OFFERED
        ]
        if missing:
            how += "; " + gettext(N_("not offered: {sources}"), sources=", ".join(missing))
        advice = route.advice_text
        lines.append(f"{name}: {how}" + (f". {advice}" if advice else ""))
    return lines
