"""Where a delivered document goes (SCR-2): root folder + subfolder template + a deterministic name.

Every field value is made safe for Windows and Linux file names, and a template that could leave
the root (an absolute path, `..`, a drive letter) is refused before it is saved.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from webapp.i18n import N_, UserError

DEFAULT_TEMPLATE = "{company_number}/{year}/{book}"
FIELDS = (
    "company_number",
    "company_name",
    "company_id",
    "year",
    "month",
    "day",
    "book",
    "book_kind",
)
FIELD_HELP = {
    "company_number": N_("company number, digits only"),
    "company_name": N_("company name"),
    "company_id": N_("Scrada id of the company"),
    "year": N_("year of the document's date"),
    "month": N_("month of the document's date (01 to 12)"),
    "day": N_("day of the document's date (01 to 31)"),
    "book": N_("name of the journal or cash book"),
    "book_kind": N_("daily-receipts, cash-book or peppol-inbound"),
}
EXTENSIONS = {"daily-receipts": ".xml", "cash-book": ".cod", "peppol-inbound": ".xml"}
MAX_COMPONENT = 80
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


class TemplateError(UserError):
    """A subfolder template refused."""


@dataclass(frozen=True)
class PathValues:
    company_number: str
    company_name: str
    company_id: str
    book: str
    book_kind: str
    day: date

    def fields(self) -> dict[str, str]:
        return {
            "company_number": re.sub(r"\D", "", self.company_number) or "0",
            "company_name": self.company_name,
            "company_id": self.company_id,
            "year": f"{self.day.year:04d}",
            "month": f"{self.day.month:02d}",
            "day": f"{self.day.day:02d}",
            "book": self.book,
            "book_kind": self.book_kind,
        }


def safe_name(value: str) -> str:
    """One path component that Windows and Linux both accept, never empty, '.' or '..'."""
    text = unicodedata.normalize("NFC", value)
    text = _UNSAFE.sub("-", text).strip().rstrip(". ")
    text = re.sub(r"\s+", " ", text)[:MAX_COMPONENT].rstrip(". ")
    if not text or text in (".", ".."):
        return "_"
    if _RESERVED.match(text):
        return f"_{text}"
    return text


def check_template(template: str) -> str:
    """The template, trimmed; raises TemplateError for unknown fields or a way out of the root."""
    value = template.strip().replace("\\", "/").strip("/")
    if not value:
        return ""
    if template.strip().startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", template.strip()):
        raise TemplateError(N_("The template must stay inside the root folder: no absolute path."))
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise TemplateError(
            N_("The template has an unclosed brace: {detail}"), detail=str(exc)
        ) from exc
    unknown = sorted({name for name in names if name not in FIELDS})
    if unknown:
        raise TemplateError(
            N_("Unknown fields in the template: {fields}. Known fields: {known}."),
            fields=", ".join(unknown),
            known=", ".join(FIELDS),
        )
    for part in PurePosixPath(value).parts:
        if not part.strip(" ."):  # ".", "..", "..." or blanks
            raise TemplateError(N_("The template must stay inside the root folder: no '..'."))
    return value


def render_folder(template: str, values: PathValues) -> PurePosixPath:
    """The subfolder, relative to the root, one safe component per template segment."""
    fields = {key: safe_name(text) for key, text in values.fields().items()}
    parts = [safe_name(segment.format(**fields)) for segment in template.split("/") if segment]
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def file_name(values: PathValues, document_id: str) -> str:
    """Deterministic: the same document always gets the same name, and two never share one."""
    identifier = safe_name(document_id)[:40]
    return f"{values.day.isoformat()}_{identifier}{EXTENSIONS.get(values.book_kind, '.dat')}"


def target_path(root: Path, template: str, values: PathValues, document_id: str) -> Path:
    relative = render_folder(template, values) / file_name(values, document_id)
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise TemplateError(N_("The template must stay inside the root folder: no '..'."))
    return target


def example_paths(template: str) -> list[tuple[str, str]]:
    """For the help popover: each field with its example value, then the whole example path."""
    sample = PathValues(
        company_number="0403.170.701",
        company_name="Boulangerie Dupont SRL",
        company_id="6a1f0c52-8d2e-4a7b-9c43-2f1e9d0b7a11",
        book="Recettes boutique",
        book_kind="daily-receipts",
        day=date(2026, 11, 24),
    )
    rows = [(f"{{{name}}}", value) for name, value in sample.fields().items()]
    folder = render_folder(check_template(template), sample)
    rows.append(("", str(folder / file_name(sample, "8c2d41e0"))))
    return rows
