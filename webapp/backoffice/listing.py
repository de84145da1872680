"""What the back-office lists share: full-text search terms, whitelisted sorts, pages, form errors.

Lists are built for 200,000 articles and 100,000 customers: every query orders by an indexed column
(or searches the FTS5 index), and a page fetches one row more than it shows instead of counting.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from webapp.i18n import N_, UserError

PER_PAGE = 50
MAX_PAGE = 100_000
_WORD = re.compile(r"\w", re.UNICODE)
_AMOUNT = re.compile(r"-?(\d+([.,]\d*)?|[.,]\d+)")


def fts_match(text: str) -> str | None:
    """The user's words as an FTS5 query: each one a quoted prefix phrase, all required.

    Quoting (with inner double quotes doubled) makes FTS5 read ``-``, ``*``, ``:``, ``(``, ``AND``
    or ``NEAR`` as plain text, so no input can cause a syntax error. Words with no letter or digit
    are dropped: they can match nothing. Returns None when nothing is left to search for.
    At most 12 words are kept.
    """
    terms = [word for word in text.split() if _WORD.search(word)][:12]
    if not terms:
        return None
    return " ".join(_term(word) for word in terms)


def _term(word: str) -> str:
    """A quoted prefix; a single character is a whole word only ("c" would match half the
    catalogue, and the index keeps prefixes of 2 and 3 characters)."""
    quoted = '"' + word.replace('"', '""') + '"'
    return quoted if len(word) == 1 else quoted + "*"


@dataclass(frozen=True)
class Sort:
    """A column the user may sort on: the ORDER BY for each direction (an index serves both)."""

    ascending: str
    descending: str


@dataclass
class ListQuery:
    """What a list shows: search words, whitelisted filters and sort, page number."""

    q: str = ""
    sort: str = ""
    descending: bool = False
    page: int = 1
    filters: dict[str, str] = field(default_factory=dict)
    default_sort: str = ""

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort

    def params(self, **overrides: Any) -> dict[str, str]:
        """The URL parameters of this query, with ``overrides`` applied; empty ones and the
        default sort are left out, so one list has one URL."""
        values: dict[str, Any] = {"q": self.q, **self.filters, "sort": self.sort_param}
        values["page"] = str(self.page) if self.page > 1 else ""
        values.update(overrides)
        if values["sort"] == self.default_sort:
            values["sort"] = ""
        return {key: str(value) for key, value in values.items() if value not in ("", None)}

    def link(self, path: str, **overrides: Any) -> str:
        encoded = urlencode(self.params(**overrides))
        return f"{path}?{encoded}" if encoded else path

    def sort_link(self, path: str, key: str) -> str:
        """Sort on ``key``; a second click on the current column reverses it. Back to page 1."""
        descending = key == self.sort and not self.descending
        return self.link(path, sort=("-" if descending else "") + key, page="")

    def page_link(self, path: str, number: int) -> str:
        return self.link(path, page=str(number) if number > 1 else "")

    def with_filters(self, **filters: str) -> ListQuery:
        return replace(self, filters={**self.filters, **filters})


FilterParser = Callable[[str], str | None]


def parse_query(
    params: Mapping[str, Any],
    sorts: Mapping[str, Sort],
    default_sort: str,
    filters: Mapping[str, FilterParser],
) -> ListQuery:
    """Read a list's URL parameters, keeping only known sorts and valid filter values."""
    sort = text_param(params, "sort")
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in sorts:
        sort, descending = default_sort.lstrip("-"), default_sort.startswith("-")
    kept: dict[str, str] = {}
    for name, parser in filters.items():
        value = parser(text_param(params, name))
        if value is not None:
            kept[name] = value
    return ListQuery(
        q=text_param(params, "q")[:200],
        sort=sort,
        descending=descending,
        page=page_number(text_param(params, "page")),
        filters=kept,
        default_sort=default_sort,
    )


def text_param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def page_number(value: str) -> int:
    try:
        return min(max(1, int(value)), MAX_PAGE)
    except ValueError:
        return 1


def id_filter(value: str) -> str | None:
    """A row id from a select: digits only."""
    return value if value.isdigit() and len(value) < 19 else None


def flag_filter(value: str) -> str | None:
    """A yes/no select: "1", "0" or nothing."""
    return value if value in ("0", "1") else None


def date_filter(value: str) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date input."""
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def text_filter(value: str) -> str | None:
    return value[:100] if value else None


def order_by(sorts: Mapping[str, Sort], query: ListQuery) -> str:
    """The ORDER BY clause: only ever text from the whitelist, never from the request."""
    chosen = sorts[query.sort]
    return chosen.descending if query.descending else chosen.ascending


def where_clause(
    query: ListQuery,
    filter_sql: Mapping[str, str],
    *,
    search_sql: str = "",
    always: Sequence[tuple[str, Any]] = (),
    integers: Collection[str] = (),
) -> tuple[str, list[Any]]:
    """A list's WHERE clause (empty when nothing restricts it) and its arguments.

    ``always`` holds the clauses every page has, each with its argument; ``search_sql`` takes the
    FTS5 query of the search words (one ``?``) when there are words; then each filter's clause from
    ``filter_sql``, its value an int for the names in ``integers``. Only whitelisted text is joined.
    """
    clauses = [clause for clause, _ in always]
    args = [arg for _, arg in always]
    match = fts_match(query.q) if search_sql else None
    if match:
        clauses.append(search_sql)
        args.append(match)
    for name, value in query.filters.items():
        clauses.append(filter_sql[name])
        args.append(int(value) if name in integers else value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


@dataclass
class Page:
    rows: list[dict[str, Any]]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def window(query: ListQuery, per_page: int = PER_PAGE) -> list[int]:
    """LIMIT and OFFSET of a page: one row more than shown tells whether a next page exists."""
    return [per_page + 1, (query.page - 1) * per_page]


def paged(ids_sql: str, select_sql: str, order: str) -> str:
    """Pick the page's ids first, then join what the rows show for those ids only.

    The inner query walks an index (or the FTS matches) and skips ``OFFSET`` entries without
    touching the joined tables; with the joins outside, page 2,000 costs an index walk instead
    of 100,000 joined rows. ``select_sql`` joins the alias ``page`` (column ``id``).
    """
    return f"{select_sql.format(page=f'({ids_sql} LIMIT ? OFFSET ?) AS page')} ORDER BY {order}"


def fetch_page(db: Any, sql: str, args: Sequence[Any], query: ListQuery) -> Page:
    """Run a query built with :func:`paged` and :func:`window`; keep the rows of one page."""
    cursor: sqlite3.Cursor = db.execute(sql, list(args))
    rows = [dict(row) for row in cursor.fetchall()]
    return Page(rows[:PER_PAGE], query.page, PER_PAGE, len(rows) > PER_PAGE)


class FormError(Exception):
    """Field errors of a submitted form: field name -> message (msgid with params)."""

    def __init__(self, errors: Mapping[str, UserError]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)

    def translated(self) -> dict[str, str]:
        return {name: error.translated() for name, error in self.errors.items()}


class Errors:
    """Collects field errors while a form is checked; raises them all at once."""

    def __init__(self) -> None:
        self.found: dict[str, UserError] = {}

    def add(self, name: str, message: str, **params: Any) -> None:
        self.found.setdefault(name, UserError(message, **params))

    def raise_if_any(self) -> None:
        if self.found:
            raise FormError(self.found)


def parse_amount(text: str, errors: Errors, name: str, places: int = 4) -> Decimal | None:
    """A price typed by a person: "12,50", "12.5", "1 234,5"; None when left empty.

    Refused (with a message for the field): not a number, negative, more than ``places`` decimals,
    one billion or more.
    """
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text)
    if not cleaned:
        return None
    if not _AMOUNT.fullmatch(cleaned):
        errors.add(name, N_("“{value}” is not an amount."), value=text.strip()[:40])
        return None
    value = Decimal(cleaned.replace(",", "."))
    if value < 0:
        errors.add(name, N_("An amount cannot be negative."))
    elif -min(0, int(value.normalize().as_tuple().exponent)) > places:
        errors.add(name, N_("At most {places} decimals."), places=places)
    elif value >= 1_000_000_000:
        errors.add(name, N_("This amount is too large."))
    else:
        return value
    return None


def to_decimal(value: float | int | None) -> Decimal | None:
    """A REAL read from SQLite back to the decimal it was written as."""
    return None if value is None else Decimal(str(value))


def parse_flag(value: Any) -> int:
    """A checkbox: present (any value but "0"/"") means yes."""
    text = value[0] if isinstance(value, list) and value else value
    return 1 if text not in (None, "", "0", []) else 0
