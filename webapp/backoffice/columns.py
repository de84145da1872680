"""The CSV columns of the back office's import and export, defined once.

The importer reads with these definitions, the exporter writes with them, and the file specification
is generated from them: a column cannot be documented one way and read another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from webapp.backoffice.column_labels import column_label
from webapp.i18n import N_


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    label: str = ""  # what a select of the import's column mapping shows (translated)
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _labelled(self.name, self.columns))

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


def _labelled(kind: str, columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """Each column with its label: its own, the kind's, the common one, else its description
    (the e-connecteur's columns have none)."""
    return tuple(
        column
        if column.label
        else replace(
            column,
            label=column_label(kind, column.name, column.description),
        )
        for column in columns
    )


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
