"""Which Relais field each heading of an imported file gives: suggested from the heading, then
chosen by the user (webapp/web/backoffice/files.py) or taken from a saved profile
(webapp/backoffice/import_profiles.py).

A mapping is a dict: the file's heading, normalised as the CSV reader does ('Prix HT' → 'prix_ht'),
to a field name of the kind, or IGNORE. The importer reads the file through it
(webapp/backoffice/importer.py); a heading the mapping does not name is read as before.

A suggestion tries, in this order: the field's own name, its aliases of columns.py, the synonyms
below (French, Dutch, English, as cash registers and accounting programs write them), then the
same with the underscores left out ('codebarre'). Each field is suggested for one heading only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from webapp.backoffice.columns import Kind
from webapp.csvformat import normalise_header
from webapp.i18n import N_, UserError, gettext

IGNORE = ""

_SYNONYMS = {  # field: its other headings, separated by "|"
    "code": (
        "Référence|Réf.|Code article|N° article|Code produit|Code client|"
        "Code fournisseur|Artikelcode|Artikelnummer|Artikelnr|Referentie|Klantcode|"
        "Klantnummer|Leverancierscode|Item code|Product code|SKU|Customer code|"
        "Supplier code"
    ),
    "label": (
        "Libellé|Désignation|Description|Intitulé|Nom article|Article|Produit|"
        "Omschrijving|Benaming|Artikelnaam|Productnaam|Name|Product name|Item name|"
        "Product"
    ),
    "unit": "Unité|Unité de vente|Eenheid|Verkoopeenheid|Unit|UOM",
    "vat_rate": (
        "TVA|Taux TVA|Taux de TVA|% TVA|BTW|BTW %|BTW tarief|BTW-tarief|BTW percentage|"
        "VAT|VAT %|Tax|Tax rate"
    ),
    "price_excl_vat": (
        "Prix HT|Prix|Prix de vente HT|PV HT|PU HT|Prix unitaire HT|Tarif|Prijs|"
        "Prijs excl|Prijs excl. BTW|Prijs exclusief BTW|Verkoopprijs|Verkoopprijs excl|"
        "Price|Price excl. VAT|Unit price|Net price"
    ),
    "vat_code": "Code TVA|BTW code|BTW-code|VAT code|Tax code",
    "family": (
        "Famille|Catégorie|Groupe|Rayon|Familie|Categorie|Groep|Productgroep|"
        "Artikelgroep|Family|Category|Group"
    ),
    "barcode": "EAN|EAN13|Code-barre|Code-barres|Code barre|Gencod|GTIN|UPC|Streepjescode|Barcode",
    "export": "Exportable|À exporter|Export|Webshop|En ligne|Online",
    "tags": "Étiquettes|Mots-clés|Trefwoorden|Tags|Keywords",
    "stock": "Stock|Quantité|Qté|Quantité en stock|Voorraad|Qty|Quantity",
    "active": "Actif|Actief|Active|Enabled",
    "last_name": "Nom|Nom de famille|Naam|Achternaam|Familienaam|Surname",
    "first_name": "Prénom|Voornaam|First name|Given name",
    "company": "Société|Entreprise|Raison sociale|Bedrijf|Bedrijfsnaam|Firma|Company|Company name",
    "email": "E-mail|Courriel|Adresse e-mail|Mail|E-mailadres|Email",
    "phone": "Téléphone|Tél.|GSM|Portable|Telefoon|Phone|Mobile",
    "address": "Adresse|Rue|Adres|Straat|Address|Street",
    "postcode": "Code postal|CP|Postcode|Postnummer|ZIP|Postal code",
    "city": "Ville|Localité|Commune|Gemeente|Stad|Plaats|City|Town",
    "country": "Pays|Land|Country",
    "vat_number": (
        "N° TVA|Numéro de TVA|TVA intracom|BTW-nummer|BTW nummer|BTW nr|"
        "Ondernemingsnummer|VAT number|VAT no|VAT ID"
    ),
    "created_on": "Date de création|Client depuis|Klant sinds|Aangemaakt|Created",
    "customer_code": "Code client|Client|Klantcode|Klant|Customer",
    "contact_no": "N° contact|Numéro|Contactnummer|Nummer",
    "role": "Fonction|Poste|Functie|Role|Job title",
    "kind": "Type|Soort|Kind",
    "name": "Nom|Naam|Name|Nom affiché",
    "registers": "Caisses|Kassa|Kassa's|Registers|Tills",
    "number": "Numéro|N° caisse|Caisse|Kassanummer|Nummer|Number",
    "warehouse": "Dépôt|Entrepôt|Magasin|Magazijn|Warehouse",
    "ticket_prefix": "Préfixe|Voorvoegsel|Prefix",
    "rate": "Taux|Tarief|Percentage|Rate",
    "valid_from": "Début|Date de début|Geldig vanaf|Valid from",
    "valid_to": "Fin|Date de fin|Geldig tot|Valid until",
    "decimals": "Décimales|Decimalen|Decimals",
}
SYNONYMS = {
    field: frozenset(normalise_header(name) for name in names.split("|"))
    for field, names in _SYNONYMS.items()
}

_EXACT, _ALIAS, _SYNONYM, _LOOSE = 4, 3, 2, 1  # how sure a suggestion is


class MappingProblem(UserError):
    """The chosen mapping cannot be read: a field twice, a required field missing."""


@dataclass(frozen=True)
class Heading:
    """One column of the file: its heading as written, normalised, and the field it gives."""

    index: int
    text: str
    key: str
    field: str


def _match(kind: Kind, heading: str) -> tuple[int, str]:
    """How sure, and which field, for one normalised heading; (0, IGNORE) if none fits."""
    loose = heading.replace("_", "")
    best = (0, IGNORE)
    for column in kind.columns:
        synonyms = SYNONYMS.get(column.name, frozenset())
        if heading == column.name:
            score = _EXACT
        elif heading in column.aliases:
            score = _ALIAS
        elif heading in synonyms:
            score = _SYNONYM
        elif loose and any(loose == name.replace("_", "") for name in (column.name, *synonyms)):
            score = _LOOSE
        else:
            continue
        if score > best[0]:
            best = (score, column.name)
    return best


def suggest(kind: Kind, headings: Iterable[str]) -> dict[str, str]:
    """The suggested field of each heading (normalised), IGNORE where none fits. The surest
    match takes a field first; a field goes to one heading only, the first of equal ones."""
    keys = list(dict.fromkeys(normalise_header(text) for text in headings))
    scored = [(*_match(kind, key), order, key) for order, key in enumerate(keys)]
    taken: set[str] = set()
    mapping = dict.fromkeys(keys, IGNORE)
    for score, field, _order, key in sorted(scored, key=lambda item: (-item[0], item[2])):
        if score and field not in taken:
            mapping[key] = field
            taken.add(field)
    return mapping


def headings(raw_header: list[str], mapping: Mapping[str, str]) -> list[Heading]:
    """The file's columns (blank headings left out) with the field the mapping gives each."""
    found = []
    for index, text in enumerate(raw_header):
        key = normalise_header(text)
        if key:
            found.append(Heading(index, text, key, mapping.get(key, IGNORE)))
    return found


def missing_fields(kind: Kind, mapping: Mapping[str, str]) -> list[str]:
    """The required fields no heading gives, in the kind's order."""
    given = set(mapping.values())
    return [column.name for column in kind.columns if column.required and column.name not in given]


def check(kind: Kind, mapping: Mapping[str, str]) -> None:
    """MappingProblem when a field is unknown, given twice, or a required one missing."""
    known = {column.name for column in kind.columns}
    seen: dict[str, str] = {}
    for key, field in mapping.items():
        if field == IGNORE:
            continue
        if field not in known:
            raise MappingProblem(N_("Unknown field {field}."), field=field)
        if field in seen:
            raise MappingProblem(
                N_("The columns {first} and {second} both give {field}: keep only one."),
                first=seen[field],
                second=key,
                field=gettext(kind.column(field).label),
            )
        seen[field] = key
    missing = missing_fields(kind, mapping)
    if missing:
        raise MappingProblem(
            N_("Choose a column for: {fields}."),
            fields=", ".join(gettext(kind.column(name).label) for name in missing),
        )


def read_through(header: list[str], mapping: Mapping[str, str]) -> list[str]:
    """The normalised header as the importer reads it: each mapped heading renamed to its field,
    an ignored one blanked (no field is named ""), one the mapping does not name kept."""
    return [mapping.get(name, name) for name in header]
