"""The file specification of the e-connecteur ("cahier des charges", ECN-9), generated from the column
definitions the reader and the writer use: as a page, as Markdown, as standalone printable HTML, and
an example CSV per kind of file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape

from webapp.econnector.columns import ARTICLES_SENT, CONTACTS_SENT, CUSTOMERS_SENT, DOCUMENTS
from webapp.i18n import N_, gettext

SENT_EXAMPLES = {
    "articles": {
        "article_code": "MIEL",
        "external_ref": "MIEL-500",
        "variant_ref": "500G",
        "label": "Pot de miel",
        "unit": "U",
        "unit_price_excl_vat": "7,5829",
        "unit_price_incl_vat": "8,00",
        "vat_rate": "5,5",
        "stock": "12",
    },
    "customers": {
        "customer_code": "ANDPA",
        "external_ref": "ANDPA",
        "last_name": "André",
        "first_name": "Patrick",
        "email": "patrick@example.fr",
        "address": "1 rue des Vignes",
        "postcode": "59950",
        "city": "Auby",
        "country": "FR",
    },
    "contacts": {
        "customer_code": "ANDPA",
        "contact_no": "1",
        "last_name": "André",
        "first_name": "Julie",
        "role": "Comptable",
        "email": "julie@example.fr",
    },
}
TYPE_LABELS = {
    "code": N_("code"),
    "text": N_("text"),
    "date": N_("date"),
    "decimal": N_("decimal number"),
    "integer": N_("whole number"),
}


@dataclass(frozen=True)
class SpecColumn:
    name: str
    type: str
    description: str
    required: bool
    example: str


@dataclass(frozen=True)
class SpecFile:
    kind: str
    title: str
    direction: str  # 'received' or 'sent'
    naming: str
    columns: tuple[SpecColumn, ...]


def files() -> list[SpecFile]:
    """The four files, with translated texts (call within the reader's language)."""
    received = SpecFile(
        "documents",
        gettext(DOCUMENTS.title),
        "received",
        gettext("Any name ending in .csv, put in the connector's import folder."),
        tuple(
            SpecColumn(
                column.name,
                gettext(TYPE_LABELS.get(column.type, column.type)),
                gettext(column.description),
                column.not_empty,
                column.example,
            )
            for column in DOCUMENTS.columns
        ),
    )
    sent = [
        SpecFile(
            kind,
            gettext(title),
            "sent",
            gettext("<connector>_{kind}_<date-time>.csv, written in the export folder.", kind=kind),
            tuple(
                SpecColumn(
                    name, gettext("text"), gettext(text), False, SENT_EXAMPLES[kind].get(name, "")
                )
                for name, text in columns
            ),
        )
        for kind, title, columns in (
            ("articles", N_("Articles sent"), ARTICLES_SENT),
            ("customers", N_("Customers sent"), CUSTOMERS_SENT),
            ("contacts", N_("Contacts of the customers sent"), CONTACTS_SENT),
        )
    ]
    return [received, *sent]


def by_kind(kind: str) -> SpecFile | None:
    return next((item for item in files() if item.kind == kind), None)


def general_rules() -> list[str]:
    return [
        gettext("Encoding: UTF-8 (with or without BOM) or Windows-1252."),
        gettext("Separator: semicolon, comma or tab; the first line names the columns."),
        gettext("Decimal mark: comma or point. Dates: DD/MM/YYYY or YYYY-MM-DD."),
        gettext(
            "The header of a received file names every column below, in any order; a value may"
            " be empty unless it is compulsory."
        ),
        gettext(
            "Received documents: one row per line; the lines of one document follow each other"
            " and repeat its header columns (date, customer, total)."
        ),
        gettext(
            "A received file whose documents are all integrated is renamed from .csv to .bak;"
            " otherwise it stays .csv and the next reception integrates only what is left."
        ),
        gettext("A document is integrated once, ever: its reference is remembered per connector."),
        gettext(
            "Files written by Relais: UTF-8 with BOM, semicolon, decimal comma; a value starting"
            " with =, +, - or @ is prefixed with an apostrophe (formula injection)."
        ),
    ]


def example_csv(kind: str) -> str | None:
    """An example file for one kind: the header and one row built from the columns' examples."""
    spec = by_kind(kind)
    if spec is None:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.name for column in spec.columns])
    if kind == "documents":
        # Two lines of one document: 2 × 9,50 + 1 × 9,50, so the announced total is 28,50.
        total = {"total_incl_vat": "28,50"}
        second = {"line_no": "2", "article_ref": "ARRO", "quantity": "1", **total}
        writer.writerow([total.get(column.name, column.example) for column in spec.columns])
        writer.writerow([second.get(column.name, column.example) for column in spec.columns])
    else:
        writer.writerow([column.example for column in spec.columns])
    return buffer.getvalue()


def markdown() -> str:
    lines = [f"# {gettext('E-connecteur: specification of the CSV files')}", ""]
    lines += [f"- {rule}" for rule in general_rules()]
    for spec in files():
        direction = (
            gettext("Received by Relais")
            if spec.direction == "received"
            else gettext("Sent by Relais")
        )
        lines += ["", f"## {spec.title}", "", f"*{direction}* — {spec.naming}", ""]
        lines.append(
            f"| {gettext('Column')} | {gettext('Type')} | {gettext('Value compulsory')}"
            f" | {gettext('Description')} | {gettext('Example')} |"
        )
        lines.append("|---|---|---|---|---|")
        for column in spec.columns:
            cells = [
                f"`{column.name}`",
                column.type,
                gettext("yes") if column.required else "",
                column.description.replace("|", "\\|"),
                f"`{column.example}`" if column.example else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", gettext("Example file: example-{kind}.csv", kind=spec.kind)]
    return "\n".join(lines) + "\n"


HTML_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #ccd;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#eef2f5}code{font-size:.9em}@media print{h2{break-before:auto}}"
)


def html(language: str = "fr") -> str:
    """A standalone page (its own small style sheet), to print or send to the other program."""
    title = escape(gettext("E-connecteur: specification of the CSV files"))
    parts = [
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{HTML_STYLE}</style></head><body>",
        f"<h1>{title}</h1><ul>",
        *(f"<li>{escape(rule)}</li>" for rule in general_rules()),
        "</ul>",
    ]
    for spec in files():
        direction = (
            gettext("Received by Relais")
            if spec.direction == "received"
            else gettext("Sent by Relais")
        )
        parts.append(
            f'<h2 id="{spec.kind}">{escape(spec.title)}</h2>'
            f"<p><em>{escape(direction)}</em> — {escape(spec.naming)}</p><table><thead><tr>"
        )
        for label in ("Column", "Type", "Value compulsory", "Description", "Example"):
            parts.append(f"<th>{escape(gettext(label))}</th>")
        parts.append("</tr></thead><tbody>")
        for column in spec.columns:
            parts.append(
                f"<tr><td><code>{escape(column.name)}</code></td><td>{escape(column.type)}</td>"
                f"<td>{escape(gettext('yes')) if column.required else ''}</td>"
                f"<td>{escape(column.description)}</td><td><code>{escape(column.example)}</code></td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
