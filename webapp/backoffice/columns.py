"""The CSV columns of the back office's import and export, defined once.

The importer reads with these definitions, the exporter writes with them, and the file specification
is generated from them: a column cannot be documented one way and read another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from webapp.csvio import CsvFormat, ValueProblem, parse_date, parse_decimal, unguard_formula
from webapp.i18n import N_


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False  # the header must name it
    not_empty: bool = False  # and every row must fill it
    aliases: tuple[str, ...] = ()
    max_length: int = 200
    example: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    @property
    def decimal_columns(self) -> set[str]:
        return self._names_of_type("decimal")

    @property
    def date_columns(self) -> set[str]:
        return self._names_of_type("date")

    def _names_of_type(self, type_name: str) -> set[str]:
        names: set[str] = set()
        for column in self.columns:
            if column.type == type_name:
                names.update((column.name, *column.aliases))
        return names


def _text(name: str, description: str, **extra: Any) -> Column:
    return Column(name, "text", description, **extra)


_PARTY_COLUMNS = (
    Column(
        "code",
        "code",
        N_("Code, unique; the key for updates"),
        required=True,
        not_empty=True,
        aliases=("code_client", "customer_code", "reference", "ref"),
        max_length=50,
        example="C0001",
    ),
    _text("last_name", N_("Last name"), required=True, aliases=("nom",), example="Martin"),
    _text("first_name", N_("First name"), required=True, aliases=("prenom",), example="Claire"),
    _text(
        "company",
        N_("Company name"),
        required=True,
        aliases=("societe", "entreprise", "raison_sociale"),
        example="Cave des Ducs",
    ),
    Column(
        "email",
        "email",
        N_("E-mail address"),
        required=True,
        aliases=("e_mail", "courriel", "mail"),
        example="claire@example.fr",
    ),
    _text("phone", N_("Phone"), required=True, aliases=("telephone", "tel"), max_length=40),
    _text("address", N_("Street address"), required=True, aliases=("adresse",)),
    _text(
        "postcode",
        N_("Postcode"),
        required=True,
        aliases=("code_postal", "cp", "zip"),
        max_length=20,
        example="21200",
    ),
    _text("city", N_("City"), required=True, aliases=("ville", "localite"), example="Beaune"),
    Column(
        "country",
        "country",
        N_("Country: ISO code (FR, BE) or name"),
        required=True,
        aliases=("pays",),
        example="FR",
    ),
    Column(
        "vat_number",
        "vat_number",
        N_("VAT number, checked for BE and FR"),
        required=True,
        aliases=("tva", "numero_tva", "tva_intracom", "vat"),
        max_length=20,
        example="FR40303265045",
    ),
    Column("family", "code", N_("Family code (created if new)"), aliases=("famille",)),
    Column(
        "created_on",
        "date",
        N_("Customer since"),
        aliases=("date_creation", "created"),
        example="15/03/2024",
    ),
)

KINDS: dict[str, Kind] = {
    "articles": Kind(
        "articles",
        N_("Articles"),
        ("code",),
        (
            Column(
                "code",
                "code",
                N_("Article code, unique; the key for updates"),
                required=True,
                not_empty=True,
                aliases=("code_article", "article_code", "reference", "ref", "sku"),
                max_length=50,
                example="VR-BOUR-21",
            ),
            _text(
                "label",
                N_("Label"),
                required=True,
                not_empty=True,
                aliases=("libelle", "designation", "description", "name"),
                example="Bourgogne rouge 2021",
            ),
            Column(
                "unit",
                "code",
                N_("Sales unit: code or label of an existing unit"),
                required=True,
                not_empty=True,
                aliases=("unite",),
                example="BT",
            ),
            Column(
                "vat_rate",
                "text",
                N_("VAT rate in % (20, 5,5) or VAT code (FR20)"),
                required=True,
                not_empty=True,
                aliases=("tva", "taux_tva", "vat"),
                example="20",
            ),
            Column(
                "price_excl_vat",
                "decimal",
                N_("Price excluding VAT, standard price category"),
                required=True,
                not_empty=True,
                aliases=("prix_ht", "price", "prix", "pu_ht"),
                example="14,50",
            ),
            Column(
                "vat_code",
                "code",
                N_("VAT code; wins over vat_rate when given"),
                aliases=("code_tva",),
                example="FR20",
            ),
            Column("family", "code", N_("Family code (created if new)"), aliases=("famille",)),
            Column(
                "barcode",
                "barcode",
                N_("Barcode (EAN/GTIN digits are checked)"),
                aliases=("ean", "code_barre", "gencod"),
                max_length=64,
                example="3760123450017",
            ),
            Column(
                "export",
                "flag",
                N_("Available for export: 1/0, oui/non"),
                aliases=("exportable", "a_exporter"),
                example="1",
            ),
            Column(
                "tags",
                "tags",
                N_("Free tags separated by spaces or commas"),
                aliases=("etiquettes", "mots_cles"),
                example="bio rouge",
            ),
            Column(
                "stock",
                "decimal",
                N_("Stock in the default warehouse"),
                aliases=("quantite_stock", "qte_stock"),
                example="120",
            ),
            Column("active", "flag", N_("Active: 1/0, oui/non"), aliases=("actif",)),
        ),
    ),
    "customers": Kind("customers", N_("Customers"), ("code",), _PARTY_COLUMNS),
    "suppliers": Kind("suppliers", N_("Suppliers"), ("code",), _PARTY_COLUMNS),
    "contacts": Kind(
        "contacts",
        N_("Contacts"),
        ("customer_code", "contact_no"),
        (
            Column(
                "customer_code",
                "code",
                N_("Code of the customer (or supplier) the contact belongs to"),
                required=True,
                not_empty=True,
                aliases=("code_client", "customer", "client", "party_code"),
                example="C0001",
            ),
            Column(
                "contact_no",
                "integer",
                N_("Contact number for this customer (next free one if empty)"),
                aliases=("numero", "no", "numero_contact"),
                example="1",
            ),
            _text("last_name", N_("Last name"), required=True, aliases=("nom",)),
            _text("first_name", N_("First name"), aliases=("prenom",)),
            _text("role", N_("Role"), aliases=("fonction", "poste")),
            Column("email", "email", N_("E-mail address"), aliases=("e_mail", "courriel")),
            _text("phone", N_("Phone"), aliases=("telephone", "tel"), max_length=40),
            Column(
                "kind",
                "party_kind",
                N_("customer (default) or supplier"),
                aliases=("type",),
                example="customer",
            ),
        ),
    ),
    "users": Kind(
        "users",
        N_("Cash register users"),
        ("code",),
        (
            Column(
                "code",
                "code",
                N_("User code, unique"),
                required=True,
                not_empty=True,
                aliases=("code_utilisateur", "login"),
                max_length=50,
                example="MARIE",
            ),
            _text(
                "name",
                N_("Name shown on the register"),
                required=True,
                not_empty=True,
                aliases=("nom",),
                example="Marie Dupont",
            ),
            Column(
                "registers",
                "numbers",
                N_("Register numbers the user may use, separated by spaces"),
                required=True,
                aliases=("caisses",),
                example="1 2",
            ),
            Column("active", "flag", N_("Active: 1/0, oui/non"), aliases=("actif",)),
        ),
    ),
    "registers": Kind(
        "registers",
        N_("Cash registers"),
        ("number",),
        (
            Column(
                "number",
                "integer",
                N_("Register number, unique"),
                required=True,
                not_empty=True,
                aliases=("numero", "caisse", "no"),
                example="1",
            ),
            _text(
                "label",
                N_("Label"),
                required=True,
                not_empty=True,
                aliases=("libelle", "nom"),
                example="Caisse boutique",
            ),
            Column("company", "code", N_("Company code (default company if empty)")),
            Column(
                "warehouse",
                "code",
                N_("Warehouse code (default warehouse if empty)"),
                aliases=("depot",),
            ),
            _text(
                "ticket_prefix",
                N_("Prefix of the ticket numbers"),
                aliases=("prefixe",),
                max_length=10,
                example="C1-",
            ),
            Column("active", "flag", N_("Active: 1/0, oui/non"), aliases=("actif",)),
        ),
    ),
    "vat_rates": Kind(
        "vat_rates",
        N_("VAT rates"),
        ("code",),
        (
            Column(
                "code",
                "code",
                N_("VAT code, unique"),
                required=True,
                not_empty=True,
                example="FR20",
            ),
            _text("label", N_("Label"), required=True, not_empty=True, aliases=("libelle",)),
            Column(
                "rate",
                "decimal",
                N_("Rate in %"),
                required=True,
                not_empty=True,
                aliases=("taux",),
                example="20",
            ),
            Column("country", "country", N_("Country (ISO code)"), aliases=("pays",)),
            Column("valid_from", "date", N_("Valid from"), aliases=("debut", "date_debut")),
            Column("valid_to", "date", N_("Valid until"), aliases=("fin", "date_fin")),
        ),
    ),
    "units": Kind(
        "units",
        N_("Sales units"),
        ("code",),
        (
            Column("code", "code", N_("Unit code, unique"), required=True, not_empty=True),
            _text("label", N_("Label"), required=True, not_empty=True, aliases=("libelle",)),
            Column(
                "decimals",
                "integer",
                N_("Decimals allowed in quantities (0 to 6)"),
                aliases=("decimales",),
                example="0",
            ),
        ),
    ),
}

# -- value parsers -------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FLAGS = {
    "1": True,
    "0": False,
    "oui": True,
    "non": False,
    "o": True,
    "n": False,
    "yes": True,
    "no": False,
    "y": True,
    "true": True,
    "false": False,
    "vrai": True,
    "faux": False,
    "x": True,
}


def parse_flag(raw: str) -> bool:
    flag = _FLAGS.get(raw.strip().lower())
    if flag is None:
        raise ValueProblem("{value} is not yes or no (use 1/0 or oui/non)", value=raw)
    return flag


def parse_integer(raw: str) -> int:
    value = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", value):
        raise ValueProblem("{value} is not a whole number", value=raw)
    return int(value)


def parse_email(raw: str) -> str:
    value = raw.strip()
    if not _EMAIL.match(value):
        raise ValueProblem("{value} is not an e-mail address", value=raw)
    return value


def parse_tags(raw: str) -> str:
    seen: dict[str, None] = {}
    for tag in re.split(r"[\s,;]+", raw.strip().lower()):
        if tag:
            seen[tag] = None
    return " ".join(seen)


def parse_numbers(raw: str) -> list[int]:
    numbers = []
    for part in re.split(r"[\s,;]+", raw.strip()):
        if part:
            numbers.append(parse_integer(part))
    return numbers


def gtin_is_valid(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(
        int(char) * (3 if index % 2 == 0 else 1) for index, char in enumerate(reversed(body))
    )
    return (10 - total % 10) % 10 == check


def parse_barcode(raw: str) -> str:
    value = raw.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9A-Za-z\-.$/+%]{1,64}", value):
        raise ValueProblem("{value} is not a barcode", value=raw)
    if value.isdigit() and len(value) in (8, 12, 13, 14) and not gtin_is_valid(value):
        raise ValueProblem("{value}: the check digit of this EAN/GTIN is wrong", value=raw)
    return value


def belgian_number_is_valid(digits: str) -> bool:
    return len(digits) == 10 and 97 - int(digits[:8]) % 97 == int(digits[8:])


def french_vat_is_valid(rest: str) -> bool:
    if not re.fullmatch(r"[0-9A-Z]{2}\d{9}", rest):
        return False
    if not rest[:2].isdigit():
        return True  # the old alphabetic keys cannot be checked offline
    return (12 + 3 * (int(rest[2:]) % 97)) % 97 == int(rest[:2])


def parse_vat_number(raw: str, country: str | None = None) -> str:
    value = re.sub(r"[\s.\-/]", "", raw.strip().upper())
    if value.isdigit() and country == "BE" and len(value) in (9, 10):
        value = "BE" + value.zfill(10)
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", value):
        raise ValueProblem(
            "{value} is not a VAT number (two country letters, then digits)", value=raw
        )
    prefix, rest = value[:2], value[2:]
    if prefix == "BE" and not (rest.isdigit() and belgian_number_is_valid(rest.zfill(10))):
        raise ValueProblem("{value} is not a valid Belgian VAT number", value=raw)
    if prefix == "FR" and not french_vat_is_valid(rest):
        raise ValueProblem("{value} is not a valid French VAT number", value=raw)
    return "BE" + rest.zfill(10) if prefix == "BE" else value


def parse_party_kind(raw: str) -> str:
    value = raw.strip().lower()
    kinds = {"customer": "customer", "client": "customer", "supplier": "supplier"}
    kinds["fournisseur"] = "supplier"
    if value not in kinds:
        raise ValueProblem("{value} is neither customer nor supplier", value=raw)
    return kinds[value]


def value_parser(column: Column, fmt: CsvFormat) -> Callable[[str], Any]:
    """The function turning this column's text into its value (raises ValueProblem)."""
    simple: dict[str, Callable[[str], Any]] = {
        "flag": parse_flag,
        "integer": parse_integer,
        "email": parse_email,
        "tags": parse_tags,
        "numbers": parse_numbers,
        "barcode": parse_barcode,
        "party_kind": parse_party_kind,
    }
    if column.type in simple:
        return simple[column.type]
    if column.type == "decimal":
        mark = fmt.decimal
        return lambda raw: _decimal(raw, mark)
    if column.type == "date":
        order = fmt.date_format
        return lambda raw: _date(raw, order)
    return _text_parser(column.max_length)


def _text_parser(limit: int) -> Callable[[str], str]:
    """A text column's check: trimmed, our formula guard undone, length and control characters."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if value[:1] == "'":
            value = unguard_formula(value)
        if len(value) > limit:
            raise ValueProblem(
                "is {length} characters long; the limit is {limit}", length=len(value), limit=limit
            )
        if not value.isprintable() and _CONTROL.search(value):
            raise ValueProblem("contains control characters")
        return value

    return parse


def _decimal(raw: str, mark: str) -> Decimal:
    return parse_decimal(raw.replace("%", "") if "%" in raw else raw, mark)


def _date(raw: str, order: str) -> date:
    return parse_date(raw, order)
