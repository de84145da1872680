"""PrestaShop's webservice XML, read into plain dicts and written back for a PUT.

What the shop sends (PrestaShop's webservice docs): every value in CDATA, a link to another
resource as `xlink:href` beside its id, multi-language fields as `<language id="1">` children,
`<associations>` holding lists of records (an order's `order_rows`), money with six decimals
(`71.510000`), dates `YYYY-MM-DD HH:MM:SS` and `0000-00-00 00:00:00` for none.

What the caller gets: a record is a dict; ids (`id`, `id_*`, `*_id`), states and quantities are
ints (None when empty), money and rates are Decimal, dates are strings exactly as the shop wrote
them (None for the zero date: the shop's clock is not ours, and the cursor compares the shop's
own text), a multi-language field is a :class:`Languages` dict (language id -> text),
`associations` is a dict of :class:`Association` lists of records. Everything else stays text.

The parser is hardened as the UBL one is: no entities, no DTD, no network, a size cap.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from webapp.i18n import N_, UserError

MAX_BYTES = 50_000_000  # one answer; a page of 100 full orders is a few hundred kB
NO_DATES = frozenset({"", "0000-00-00 00:00:00", "0000-00-00"})
XLINK_NS = "http://www.w3.org/1999/xlink"
HREF = f"{{{XLINK_NS}}}href"

# Decimal fields beyond the rule (a name holding "price", or starting with "total_").
_DECIMALS = frozenset(
    {
        "additional_shipping_cost",
        "carrier_tax_rate",
        "conversion_rate",
        "ecotax",
        "rate",
        "reduction_amount",
        "reduction_amount_tax_excl",
        "reduction_amount_tax_incl",
        "reduction_percent",
        "tax_rate",
        "weight",
        "product_weight",
        "width",
        "height",
        "depth",
    }
)
_DATES = frozenset(
    {"birthday", "available_date", "newsletter_date_add", "last_passwd_gen", "delivery_date"}
)

_INTS = frozenset({"current_state", "quantity", "product_quantity", "position"})

# Fields the shop prints but refuses in a PUT ("parameter ... not writable").
READ_ONLY = {"products": frozenset({"manufacturer_name", "quantity", "position_in_category"})}

# The element of one record, by resource (PrestaShop's singular names).
_NODES = {
    "accessories": "product",
    "addresses": "address",
    "categories": "category",
    "countries": "country",
    "order_histories": "order_history",
    "order_states": "order_state",
    "taxes": "tax",
    "stock_availables": "stock_available",
}


class ShopAnswerError(UserError):
    """The shop's answer cannot be read as PrestaShop's XML."""


class Languages(dict[str, str]):
    """A multi-language field: language id -> text."""


class Association(list[dict[str, Any]]):
    """The records of one association (an order's `order_rows`), with their element's name."""

    def __init__(self, node: str, items: list[dict[str, Any]] | None = None) -> None:
        super().__init__(items or [])
        self.node = node


@dataclass(frozen=True)
class ShopError:
    code: str
    message: str


@dataclass(frozen=True)
class ApiIndex:
    """`GET /api/`: the resources this key may use, with the methods allowed on each."""

    shop_name: str
    methods: dict[str, frozenset[str]] = field(default_factory=dict)

    def readable(self) -> list[str]:
        return sorted(name for name, allowed in self.methods.items() if "GET" in allowed)

    def writable(self) -> list[str]:
        return sorted(name for name, allowed in self.methods.items() if "PUT" in allowed)


def node_name(resource: str) -> str:
    """The element of one record of `resource`: orders -> order, addresses -> address."""
    return _NODES.get(resource, resource.removesuffix("s"))


def parse(data: bytes) -> Any:
    """The `<prestashop>` root of an answer; ShopAnswerError when it is not PrestaShop's XML."""
    if len(data) > MAX_BYTES:
        raise ShopAnswerError(N_("The shop's answer is bigger than {size} MB."), size=50)
    # A new parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        strip_cdata=True,
    )
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as error:
        raise ShopAnswerError(
            N_("The shop's answer is not well-formed XML (line {line})."), line=error.lineno or 0
        ) from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ShopAnswerError(N_("The shop's answer declares a DOCTYPE; it is refused."))
    root = tree.getroot()
    if root.tag != "prestashop":
        raise ShopAnswerError(N_("The answer is not PrestaShop's XML (root {tag})."), tag=root.tag)
    return root


def errors(root: Any) -> list[ShopError]:
    """PrestaShop's `<errors><error><code/><message/></error></errors>`, if any."""
    return [
        ShopError(
            code=(item.findtext("code") or "").strip(), message=item.findtext("message") or ""
        )
        for item in root.iterfind("errors/error")
    ]


def api_index(root: Any) -> ApiIndex:
    """`GET /api/`: `<api shopName="...">` with one element per resource and get/put/... flags."""
    api = root.find("api")
    if api is None:
        raise ShopAnswerError(N_("The shop's /api/ answer lists no resources."))
    methods: dict[str, frozenset[str]] = {}
    for item in api:
        if not isinstance(item.tag, str):
            continue
        allowed = {name.upper() for name, value in item.attrib.items() if value.lower() == "true"}
        methods[item.tag] = frozenset(allowed & {"GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"})
    return ApiIndex(shop_name=api.get("shopName", ""), methods=methods)


def record(root: Any, resource: str) -> dict[str, Any]:
    """One resource: `<prestashop><order>...</order></prestashop>`."""
    element = root.find(node_name(resource))
    if element is None:
        raise ShopAnswerError(N_("The shop sent no {resource} record."), resource=resource)
    return _record(element)


def records(root: Any, resource: str) -> list[dict[str, Any]]:
    """A list with `display=full` (or `display=[...]`): one dict a record."""
    return [_record(element) for element in _list_items(root, resource)]


def ids(root: Any, resource: str) -> list[int]:
    """A list without `display`: `<order id="1" xlink:href="..."/>`, ids in the shop's order."""
    found = []
    for element in _list_items(root, resource):
        found.append(_int("id", element.get("id") or element.findtext("id") or ""))
    return [value for value in found if value is not None]


def _list_items(root: Any, resource: str) -> list[Any]:
    listing = root.find(resource)
    if listing is None:
        # An empty JSON-less list still has its element; none at all is another answer.
        raise ShopAnswerError(N_("The shop sent no list of {resource}."), resource=resource)
    return [item for item in listing if isinstance(item.tag, str)]


def _record(element: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "associations":
            values["associations"] = {
                association.tag: _association(association)
                for association in child
                if isinstance(association.tag, str)
            }
        elif not len(child):  # most fields: asked first, a third of a page's decoding saved
            values[child.tag] = value_of(child.tag, child.text or "")
        elif child.find("language") is not None:
            values[child.tag] = Languages(
                {item.get("id", ""): item.text or "" for item in child.iterfind("language")}
            )
        else:
            values[child.tag] = _record(child)
    return values


def _association(element: Any) -> Association:
    items = [item for item in element if isinstance(item.tag, str)]
    node = element.get("nodeType") or (items[0].tag if items else node_name(element.tag))
    return Association(node, [_record(item) for item in items])


def value_of(name: str, text: str) -> Any:
    """A field's text as the caller uses it: int ids, Decimal money, dates as written."""
    if name == "id" or name.startswith("id_") or name.endswith("_id"):
        return _int(name, text)
    if name in _DECIMALS or "price" in name or name.startswith("total_"):
        return _decimal(name, text)
    if name in _INTS:
        return _int(name, text)
    if name.startswith("date_") or name.endswith("_date") or name in _DATES:
        return None if text.strip() in NO_DATES else text
    return text


def _int(name: str, text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not value.removeprefix("-").isdigit():  # a stock quantity may be negative
        raise ShopAnswerError(
            N_("The shop sent {value} for {field}, not a number."), value=value[:40], field=name
        )
    return int(value)


def _decimal(name: str, text: str) -> Decimal | None:
    value = text.strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ShopAnswerError(
            N_("The shop sent {value} for {field}, not an amount."), value=value[:40], field=name
        )
    return number


# -- writing ------------------------------------------------------------------------------------


def document(resource: str, values: Mapping[str, Any]) -> bytes:
    """The body of a PUT (or POST): the whole record, as PrestaShop reads it back."""
    root = etree.Element("prestashop", nsmap={"xlink": XLINK_NS})
    element = etree.SubElement(root, node_name(resource))
    skipped = READ_ONLY.get(resource, frozenset())
    _write(element, {name: value for name, value in values.items() if name not in skipped})
    body: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return body


def _write(element: Any, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        child = etree.SubElement(element, name)
        if name == "associations" and isinstance(value, Mapping):
            for association, items in value.items():
                holder = etree.SubElement(child, association)
                node = items.node if isinstance(items, Association) else node_name(association)
                for item in items:
                    _write(etree.SubElement(holder, node), item)
        elif isinstance(value, Languages):
            for language, text in value.items():
                etree.SubElement(child, "language", id=language).text = etree.CDATA(text)
        elif isinstance(value, Mapping):
            _write(child, value)
        else:
            child.text = etree.CDATA(_text(value))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
