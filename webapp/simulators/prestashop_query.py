"""The list parameters of PrestaShop's webservice: display, filter, sort, limit, date=1.

Syntax from https://devdocs.prestashop-project.org/8/webservice/tutorials/advanced-use/additional-list-parameters/
and the cheat sheet (webservice/cheat-sheet.md): `display=full|[a,b]`, `filter[f]=[1|5]` (or),
`[1,10]` (interval), `[John]` (literal, not case sensitive), `[Jo]%`, `%[hn]`, `%[oh]%`,
`sort=[f_ASC,g_DESC]`, `limit=N` or `limit=offset,N` (0-based). `>[x]`, `<[x]` and `![x]` come
from PrestaShop's WebserviceRequest::getSQLRetrieveFilter. Date fields (date_add, date_upd) are
filterable and sortable only with `date=1`: without it PrestaShop answers "This filter does not
exist" (error 32) or "Unable to filter by this field" (error 38), as its manageFilters() does.
Error codes and messages are PrestaShop's (WebserviceRequest.php).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from webapp.simulators.prestashop_schema import Resource

DATE_FIELDS = ("date_add", "date_upd")
_FILTER = re.compile(r"^(.*)\[(.*)\](.*)$", re.S)
_INTERVAL = re.compile(r"^([\d.:\-\s]+),([\d.:\-\s]+)$")


class QueryError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class ListQuery:
    fields: list[str] | None = None  # None: ids only ("minimum"); every field for "full"
    full: bool = False
    filters: list[tuple[str, str]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    offset: int = 0
    limit: int | None = None


def did_you_mean(label: str, wrong: str, choices: Sequence[str]) -> str:
    """PrestaShop's setErrorDidYouMean wording."""
    closest = difflib.get_close_matches(wrong, choices, n=1, cutoff=0.0)
    text = f'{label}. Did you mean: "{closest[0] if closest else ""}"?'
    if len(choices) > 1:
        text += ' The full list is: "' + '", "'.join(choices) + '"'
    return text


def filterable(resource: Resource, with_dates: bool) -> list[str]:
    names = [f.name for f in resource.fields if f.kind != "lang"]
    if not with_dates:
        return [n for n in names if n not in DATE_FIELDS]
    return names + [d for d in DATE_FIELDS if d not in names]


def parse_display(resource: Resource, value: str | None) -> tuple[list[str] | None, bool]:
    """(fields, full) from `display`; (None, False) is the ids-only default of a list."""
    if value is None or value == "minimum":
        return None, False
    if value == "full":
        return None, True
    available = ", ".join(f.name for f in resource.fields)
    match = re.fullmatch(r"\[(.*)\]", value, re.S)
    if not match:
        raise QueryError(
            400,
            36,
            "The 'display' syntax is wrong. You can set 'full' or "
            f"'[field_1,field_2,field_3,...]'. These are available: {available}",
        )
    names = [n.strip() for n in match.group(1).split(",") if n.strip()]
    for name in names:
        if name not in resource.by_name and not (name == "associations" and resource.associations):
            raise QueryError(
                400,
                35,
                f'Unable to display this field "{name}". However, these are available: {available}',
            )
    return names, False


def parse_list_query(resource: Resource, params: Mapping[str, str]) -> ListQuery:
    with_dates = bool(params.get("date")) and params.get("date") != "0"
    available = filterable(resource, with_dates)
    languages = [f.name for f in resource.fields if f.kind == "lang"]
    query = ListQuery()
    query.fields, query.full = parse_display(resource, params.get("display"))
    for key, value in params.items():
        match = re.fullmatch(r"filter\[(.+)\]", key)
        if not match:
            continue
        name = match.group(1)
        if name not in available and name not in languages:
            raise QueryError(400, 32, did_you_mean("This filter does not exist", name, available))
        if value == "":
            raise QueryError(400, 33, f'The filter "{name}" is malformed.')
        query.filters.append((name, value))
    if "sort" in params:
        query.sort = _parse_sort(params["sort"], available, languages)
    if "limit" in params:
        parts = params["limit"].split(",")
        if len(parts) > 2:
            raise QueryError(
                400, 39, 'The "limit" value has to be formed as this example: "5,25" or "10"'
            )
        numbers = [_php_int(p) for p in parts]
        query.offset, query.limit = (0, numbers[0]) if len(numbers) == 1 else tuple(numbers)
    return query


def _parse_sort(value: str, available: list[str], languages: list[str]) -> list[tuple[str, bool]]:
    match = re.fullmatch(r"\[(.*)\]", value, re.S)
    items = match.group(1).split(",") if match else [value]
    sort = []
    for item in items:
        name, _, direction = item.strip().rpartition("_")
        if not name or direction.upper() not in ("ASC", "DESC"):
            raise QueryError(
                400,
                37,
                'The "sort" value has to be formed as this example: "field_ASC" or '
                "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' (\"field\" has to be an available "
                "field)",
            )
        if name not in available and name not in languages:
            raise QueryError(
                400,
                38,
                "Unable to filter by this field. However, these are available: "
                + ", ".join(available)
                + ", for i18n fields:"
                + ", ".join(languages),
            )
        sort.append((name, direction.upper() == "DESC"))
    return sort


def _php_int(text: str) -> int:
    """PHP's (int) cast: leading digits, else 0."""
    match = re.match(r"\s*(-?\d+)", text)
    return int(match.group(1)) if match else 0


NUMERIC_KINDS = ("id", "int", "money", "float", "bool")
_NUMBER = re.compile(r"\s*-?\d+(\.\d*)?\s*")


def _key_maker(kind: str) -> Callable[[str], Any]:
    """How a column compares: numbers as numbers, text without case (MySQL's default
    collation); a number column's non-number value sorts first, as MySQL's cast to 0 would."""
    if kind in NUMERIC_KINDS:

        def number(text: str) -> Any:
            if text.isascii() and text.isdigit():
                return int(text)  # ids and states, most values: equal to their Decimal
            return Decimal(text) if _NUMBER.fullmatch(text) else Decimal(0)

        return number
    if kind == "date":
        return str  # "YYYY-MM-DD HH:MM:SS" compares as text, and has no case
    return str.casefold


def predicate(condition: str, kind: str) -> Callable[[str], bool]:
    """One filter value compiled once (getSQLRetrieveFilter's cases) into a test of a value."""
    key = _key_maker(kind)
    match = _FILTER.match(condition)
    if not match:
        wanted = key(condition)
        return lambda value: key(value) == wanted
    before, inner, after = match.groups()
    if before == "%" or after == "%":
        pattern = (
            (".*" if before == "%" else "") + re.escape(inner) + (".*" if after == "%" else "")
        )
        compiled = re.compile(pattern, re.I | re.S)
        return lambda value: compiled.fullmatch(value) is not None
    if before == "" and after == "":
        if "|" in inner:
            choices = {key(v) for v in inner.split("|")}
            return lambda value: key(value) in choices
        interval = _INTERVAL.match(inner)
        if interval:
            low, high = sorted((key(interval.group(1)), key(interval.group(2))))
            return lambda value: low <= key(value) <= high
        wanted = key(inner)
        return lambda value: key(value) == wanted
    if before in (">", "<"):
        bound = key(inner)
        if before == ">":
            return lambda value: key(value) > bound
        return lambda value: key(value) < bound
    if before == "!":
        refused = {key(v) for v in inner.split("|")}
        return lambda value: key(value) not in refused
    return lambda value: False


def apply(
    resource: Resource, query: ListQuery, records: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The records a list query selects, sorted and paged."""
    return page(query, select(resource, query, records))


def select(
    resource: Resource, query: ListQuery, records: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The records a list query's filters select, sorted; `records` come in id order (the
    tables keep it), the order of a list without `sort`."""
    kinds = {f.name: f.kind for f in resource.fields}
    tests = [(name, predicate(value, kinds.get(name, "date"))) for name, value in query.filters]
    chosen = list(records)
    for name, test in tests:  # one pass per filter: no generator per record
        chosen = [r for r in chosen if test(r.get(name, ""))]
    for name, descending in reversed(query.sort):
        key = _key_maker(kinds.get(name, "date"))
        if key is str:
            chosen.sort(key=lambda r, n=name: r.get(n, ""), reverse=descending)  # type: ignore[misc]
        else:
            chosen.sort(key=lambda r, n=name, k=key: k(r.get(n, "")), reverse=descending)  # type: ignore[misc]
    return chosen


def page(query: ListQuery, chosen: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`limit=N` or `limit=offset,N` of the selected records."""
    if query.limit is None:
        return chosen[query.offset :] if query.offset else chosen
    return chosen[query.offset : query.offset + max(query.limit, 0)]


def selection_key(resource: Resource, query: ListQuery) -> tuple[Any, ...]:
    """What select() depends on besides the table: the same key, the same selection."""
    return (resource.name, tuple(query.filters), tuple(query.sort))
