"""The suggestion of a Relais field for each heading of an imported file (issue 16): French, Dutch
and English headings, accents, case and punctuation, unknown headings, a field given once."""

from __future__ import annotations

import pytest

from webapp.backoffice import import_mapping
from webapp.backoffice.columns import KINDS
from webapp.backoffice.import_mapping import IGNORE, MappingProblem
from webapp.csvformat import normalise_header
from webapp.i18n import language

ARTICLES = KINDS["articles"]


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Libellé", "label"),
        ("DESIGNATION", "label"),
        ("Omschrijving", "label"),
        ("Description", "label"),
        ("Prix HT", "price_excl_vat"),
        ("prix  h.t.", "price_excl_vat"),
        ("Prijs excl. BTW", "price_excl_vat"),
        ("Price", "price_excl_vat"),
        ("TVA", "vat_rate"),
        ("BTW %", "vat_rate"),
        ("VAT", "vat_rate"),
        ("Code article", "code"),
        ("Artikelnummer", "code"),
        ("Famille", "family"),
        ("Catégorie", "family"),
        ("Code-barres", "barcode"),
        ("CodeBarre", "barcode"),
        ("Unité", "unit"),
        ("Voorraad", "stock"),
    ],
)
def test_a_heading_suggests_its_field(heading: str, field: str) -> None:
    assert import_mapping.suggest(ARTICLES, [heading]) == {normalise_header(heading): field}


def test_unknown_and_blank_headings_are_ignored() -> None:
    mapping = import_mapping.suggest(ARTICLES, ["Couleur", "Prix TTC", "Remarque"])
    assert mapping == {"couleur": IGNORE, "prix_ttc": IGNORE, "remarque": IGNORE}
    found = import_mapping.headings(["Code", "", "Couleur"], mapping)
    assert [(item.index, item.text) for item in found] == [(0, "Code"), (2, "Couleur")]


def test_the_exact_name_wins_and_a_field_is_given_once() -> None:
    mapping = import_mapping.suggest(ARTICLES, ["Prix", "price_excl_vat", "Prijs"])
    assert mapping == {"prix": IGNORE, "price_excl_vat": "price_excl_vat", "prijs": IGNORE}
    assert import_mapping.suggest(ARTICLES, ["Libellé", "Désignation"]) == {
        "libelle": "label",
        "designation": IGNORE,
    }


def test_the_same_heading_gives_another_field_in_another_kind() -> None:
    customers = import_mapping.suggest(KINDS["customers"], ["TVA", "Nom", "Société"])
    assert customers == {"tva": "vat_number", "nom": "last_name", "societe": "company"}
    assert import_mapping.suggest(KINDS["users"], ["Nom"]) == {"nom": "name"}


def test_a_french_till_export_is_mapped_whole() -> None:
    headings = ["Référence", "Désignation", "Unité", "Taux TVA", "Prix de vente HT", "Rayon"]
    mapping = import_mapping.suggest(ARTICLES, headings)
    assert list(mapping.values()) == [
        "code",
        "label",
        "unit",
        "vat_rate",
        "price_excl_vat",
        "family",
    ]
    import_mapping.check(ARTICLES, mapping)  # nothing required is missing


def test_check_names_what_is_missing_or_doubled_in_labels() -> None:
    with language("fr"), pytest.raises(MappingProblem) as missing:
        import_mapping.check(ARTICLES, {"libelle": "label", "ref": "code"})
    assert "Prix HT" in missing.value.translated()
    assert import_mapping.missing_fields(ARTICLES, {"libelle": "label"}) == [
        "code",
        "unit",
        "vat_rate",
        "price_excl_vat",
    ]
    doubled = {"a": "code", "b": "code", "c": "label", "d": "unit", "e": "vat_rate"}
    with pytest.raises(MappingProblem, match="both give"):
        import_mapping.check(ARTICLES, {**doubled, "f": "price_excl_vat"})
    with pytest.raises(MappingProblem):
        import_mapping.check(ARTICLES, {"a": "planet"})


def test_read_through_renames_blanks_and_keeps() -> None:
    header = ["reference", "couleur", "price_vip"]
    assert import_mapping.read_through(header, {"reference": "code", "couleur": IGNORE}) == [
        "code",
        "",
        "price_vip",
    ]
