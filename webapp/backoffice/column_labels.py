"""The labels of the back office's CSV columns (webapp/backoffice/columns.py): what the import's
mapping screen and the exported files' specification show a shopkeeper for each column."""

from __future__ import annotations

from webapp.i18n import N_

# The short names a shopkeeper reads, by column name; a kind may say otherwise (KIND_LABELS).
LABELS = {
    "code": N_("Code"),
    "label": N_("Label"),
    "unit": N_("Unit"),
    "vat_rate": N_("VAT"),
    "price_excl_vat": N_("Price excl. VAT"),
    "vat_code": N_("VAT code"),
    "family": N_("Family"),
    "barcode": N_("Barcode"),
    "export": N_("For export"),
    "tags": N_("Tags"),
    "stock": N_("Stock"),
    "active": N_("Active"),
    "last_name": N_("Last name"),
    "first_name": N_("First name"),
    "company": N_("Company"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "postcode": N_("Postcode"),
    "city": N_("City"),
    "country": N_("Country"),
    "vat_number": N_("VAT number"),
    "created_on": N_("Customer since"),
    "customer_code": N_("Customer code"),
    "contact_no": N_("Contact number"),
    "role": N_("Role"),
    "kind": N_("Type"),
    "name": N_("Name"),
    "registers": N_("Registers"),
    "number": N_("Register number"),
    "warehouse": N_("Warehouse"),
    "ticket_prefix": N_("Ticket prefix"),
    "rate": N_("Rate"),
    "valid_from": N_("Valid from"),
    "valid_to": N_("Valid until"),
    "decimals": N_("Decimals"),
}
KIND_LABELS = {
    ("articles", "code"): N_("Article code"),
    ("users", "code"): N_("User code"),
    ("vat_rates", "code"): N_("VAT code"),
}


def column_label(kind: str, name: str, description: str) -> str:
    """The label of the column `name` of `kind`: the kind's own, the common one, else the
    column's description (the e-connecteur's columns have none)."""
    return KIND_LABELS.get((kind, name), LABELS.get(name, description))
