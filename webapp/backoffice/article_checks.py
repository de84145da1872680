"""The checks of the article form: every problem found at once, the same rules as the CSV import."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from webapp.backoffice.column_values import parse_barcode, parse_tags
from webapp.backoffice.form_fields import check_code_format, parsed_field
from webapp.backoffice.listing import Errors, parse_amount
from webapp.i18n import N_

LABEL_MAX, TAGS_MAX = 200, 500
_TAG = re.compile(r"[\w.+-]+")


@dataclass
class ArticleChange:
    """A checked article, ready to be written."""

    label: str
    family_id: int | None
    unit_id: int
    vat_rate_id: int
    barcode: str | None
    tags: str
    export: int
    active: int
    prices: dict[int, Decimal | None]

    # The articles columns a form sets, in the order of column_values().
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "label",
        "family_id",
        "unit_id",
        "vat_rate_id",
        "barcode",
        "export",
        "tags",
        "active",
    )

    def column_values(self) -> list[Any]:
        return [getattr(self, column) for column in self.COLUMNS]


def check_new_code(db: Any, code: str, errors: Errors) -> str:
    """The code of a new article: well formed and not taken."""
    if not check_code_format(code, errors):
        return code
    if db.execute("SELECT 1 FROM articles WHERE code = ?", [code]).fetchone():
        errors.add("code", N_("An article with the code {code} already exists."), code=code)
    return code


def check_article(
    db: Any, values: Mapping[str, str], categories: list[dict[str, Any]], errors: Errors
) -> ArticleChange:
    """The form's values checked; every problem is added to ``errors``."""
    label = " ".join(values["label"].split())
    if not label:
        errors.add("label", N_("The label is required."))
    elif len(label) > LABEL_MAX:
        errors.add("label", N_("At most {max} characters."), max=LABEL_MAX)
    family_id = _existing(db, "article_families", values["family"], "family", errors, False)
    unit_id = _existing(db, "units", values["unit"], "unit", errors, True)
    vat_rate_id = _existing(db, "vat_rates", values["vat"], "vat", errors, True)
    barcode = _barcode(values["barcode"], errors)
    prices = {
        int(category["id"]): parse_amount(
            values[f"price_{category['id']}"], errors, f"price_{category['id']}"
        )
        for category in categories
    }
    return ArticleChange(
        label=label,
        family_id=family_id,
        unit_id=unit_id or 0,
        vat_rate_id=vat_rate_id or 0,
        barcode=barcode,
        tags=_tags(values["tags"], errors),
        export=1 if values["export"] else 0,
        active=1 if values["active"] else 0,
        prices=prices,
    )


_UNKNOWN = {
    "family": N_("This family does not exist (any more): choose another one."),
    "unit": N_("This unit does not exist (any more): choose another one."),
    "vat": N_("This VAT rate does not exist (any more): choose another one."),
}
_REQUIRED = {
    "unit": N_("Choose a unit."),
    "vat": N_("Choose a VAT rate."),
}


def _existing(
    db: Any, table: str, value: str, name: str, errors: Errors, required: bool
) -> int | None:
    """The id of a row chosen in a select, if it exists."""
    if not value:
        if required:
            errors.add(name, _REQUIRED[name])
        return None
    if not value.isdigit() or len(value) > 18:
        errors.add(name, _UNKNOWN[name])
        return None
    if db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [int(value)]).fetchone() is None:
        errors.add(name, _UNKNOWN[name])
        return None
    return int(value)


def _barcode(text: str, errors: Errors) -> str | None:
    """The same rule as the CSV import: EAN/GTIN check digits are checked."""
    if not text:
        return None
    return parsed_field(parse_barcode, text, "barcode", errors)


def _tags(text: str, errors: Errors) -> str:
    """Free tags: lower case, separated by single spaces (commas accepted), each once."""
    joined = parse_tags(text)
    tags = joined.split()
    if any(not _TAG.fullmatch(tag) for tag in tags):
        errors.add("tags", N_("Tags hold letters, digits, dots and dashes, separated by spaces."))
    elif len(joined) > TAGS_MAX:
        errors.add("tags", N_("At most {max} characters."), max=TAGS_MAX)
    return joined
