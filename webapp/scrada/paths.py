"""Where a delivered document goes (SCR-2): root folder + subfolder template + a deterministic name.

Every field value is made safe for Windows and Linux file names, and a template that could leave
the root (an absolute path, `..`, a drive letter) is refused before it is saved.
"""

from __future__ import annotations

import functools
import hashlib
import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from pathvalidate import sanitize_filename
from pathvalidate.handler import ReservedNameHandler

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
    "book_kind": N_("daily-receipts, cash-book, peppol-inbound or purchase-invoices"),
}
EXTENSIONS = {
    "daily-receipts": ".xml",
    "cash-book": ".cod",
    "peppol-inbound": ".xml",
    "purchase-invoices": ".xml",  # a PDF one becomes .pdf (delivery.py)
}
NAME_BYTES = 255  # the longest file name Linux takes (Windows counts UTF-16 units: never more)
PATH_LIMIT = 240  # a whole path, root included, stays under this many characters
SHORT_MIN = 8  # a shortened component keeps at least one character before its "~" and hash
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Device names Windows refuses as a name or before an extension, whatever the case.
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$"]
    + [f"{device}{digit}" for device in ("COM", "LPT") for digit in "0123456789\u00b9\u00b2\u00b3"]
)


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


@functools.lru_cache(maxsize=4096)  # pure, and the pull asks the same names for every document
def safe_name(value: str) -> str:
    """One path component that Windows and Linux both accept, never empty, '.' or '..', at most
    255 bytes (a longer one is cut and ends in a hash of the whole, so two never meet)."""
    text = _UNSAFE.sub("-", unicodedata.normalize("NFC", value))
    text = re.sub(r"\s+", " ", text)
    if _utf8_bytes(text) > NAME_BYTES:
        text = shortened(text, NAME_BYTES, measure=_utf8_bytes)
    # pathvalidate: what Windows refuses besides our characters (blank or dot at either end).
    text = str(
        sanitize_filename(
            text,
            platform="universal",
            replacement_text="-",
            reserved_name_handler=ReservedNameHandler.as_is,  # our list (_RESERVED) is longer
        )
    ).strip(" .")
    if not text:
        return "_"
    if text.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        text = f"_{text}"
    return (
        text
        if _utf8_bytes(text) <= NAME_BYTES
        else shortened(text, NAME_BYTES, measure=_utf8_bytes)
    )


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _units(text: str) -> int:
    """Length as Windows counts it (UTF-16 code units); never less than len(text)."""
    return len(text.encode("utf-16-le")) // 2


def shortened(name: str, size: int, keep: str = "", measure: Callable[[str], int] = _units) -> str:
    """`name` cut to `size` (as `measure` counts), ending in "~" and 6 hex of its sha1 then
    `keep` (an extension): stable, and two different long names never end up the same."""
    suffix = "~" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:6] + keep
    head = name[: len(name) - len(keep)] if keep else name
    room = size - measure(suffix)
    head = head[:room]
    while head and measure(head) > room:
        head = head[:-1]
    return head.rstrip(" .") + suffix


def _offending(name: str, spec: str | None, conversion: str | None) -> str:
    return (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )


def _placeholders(template: str) -> list[tuple[str, str | None, str | None]]:
    try:
        return [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        raise TemplateError(
            N_("The template has an unclosed brace: {detail}"), detail=str(exc)
        ) from exc


def check_template(template: str) -> str:
    """The template, trimmed; raises TemplateError for anything but plain known `{field}`s, or a
    way out of the root. The one rule for the CLI, the settings form and the pull."""
    value = template.strip().replace("\\", "/").strip("/")
    if not value:
        return ""
    if template.strip().startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", template.strip()):
        raise TemplateError(N_("The template must stay inside the root folder: no absolute path."))
    placeholders = _placeholders(value)
    # A format spec or conversion ({year:>200}, {company_name!r}) escapes safe_name's rules.
    decorated = [_offending(*item) for item in placeholders if item[1] or item[2]]
    if decorated:
        raise TemplateError(
            N_("Only plain fields are allowed, without a format or conversion: {fields}."),
            fields=", ".join(decorated),
        )
    unknown = sorted({f"{{{name}}}" for name, _, _ in placeholders if name not in FIELDS})
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


def _fill(segment: str, fields: dict[str, str]) -> str:
    """The segment with its plain fields replaced; never str.format, which would obey specs."""
    pieces: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(segment):
        pieces.append(literal)
        if name is not None:
            pieces.append(fields[name])
    return "".join(pieces)


def folder_parts(template: str, values: PathValues) -> list[str]:
    """One safe component per template segment (a stored template is checked again)."""
    fields = {key: safe_name(text) for key, text in values.fields().items()}
    checked = check_template(template)
    return [safe_name(_fill(segment, fields)) for segment in checked.split("/") if segment]


def render_folder(template: str, values: PathValues) -> PurePosixPath:
    """The subfolder, relative to the root, before any shortening for the path length."""
    parts = folder_parts(template, values)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def file_name(values: PathValues, document_id: str) -> str:
    """Deterministic: the same document always gets the same name, and two never share one."""
    identifier = safe_name(document_id)[:40]
    return f"{values.day.isoformat()}_{identifier}{EXTENSIONS.get(values.book_kind, '.dat')}"


def fit(root: str, parts: list[str], name: str, reserve: int = 0) -> list[str]:
    """The components of root/parts/name, shortened (longest first, each to the same cap) so the
    whole path stays under PATH_LIMIT characters with `reserve` to spare; the name last of all."""
    room = PATH_LIMIT - 1 - reserve - _units(root) - len(parts) - 1
    items = [*parts, name]
    sizes = [_units(item) for item in items]
    if sum(sizes) <= room:
        return items
    extension = PurePosixPath(name).suffix
    for cap in range(max(sizes[:-1], default=0) - 1, SHORT_MIN - 1, -1):
        if sum(min(size, cap) for size in sizes[:-1]) + sizes[-1] <= room:
            return [_cut(item, cap) for item in parts] + [name]
    folders = [_cut(item, SHORT_MIN) for item in parts]
    left = room - sum(_units(item) for item in folders)
    if left >= SHORT_MIN + len(extension):
        return [*folders, _cut(name, left, extension)]
    raise TemplateError(
        N_(
            "The root folder is too long: with the template, the paths would exceed {limit}"
            " characters. Choose a shorter root folder or fewer subfolders."
        ),
        limit=PATH_LIMIT,
    )


def _cut(item: str, cap: int, keep: str = "") -> str:
    return item if _units(item) <= cap else shortened(item, cap, keep)


def target_path(root: Path, template: str, values: PathValues, document_id: str) -> Path:
    """Where the document goes: root/template/file name, inside the root, under PATH_LIMIT."""
    base = root.resolve()
    parts = fit(str(base), folder_parts(template, values), file_name(values, document_id))
    target = (base / PurePosixPath(*parts)).resolve()
    if not target.is_relative_to(base):
        raise TemplateError(N_("The template must stay inside the root folder: no '..'."))
    return target


def check_room(root: Path, template: str) -> None:
    """Refuse, when saved, a root and template that no shortening could fit under the limit."""
    segments = [segment for segment in check_template(template).split("/") if segment]
    longest_name = 10 + 1 + 40 + 4  # YYYY-MM-DD_<id cut to 40>.ext
    fit(str(root.resolve()), ["x" * SHORT_MIN] * len(segments), "x" * longest_name)


SAMPLE = PathValues(
    company_number="0403.170.701",
    company_name="Boulangerie Dupont SRL",
    company_id="6a1f0c52-8d2e-4a7b-9c43-2f1e9d0b7a11",
    book="Recettes boutique",
    book_kind="daily-receipts",
    day=date(2026, 11, 24),
)


def example_paths(template: str, root: Path | None = None) -> list[tuple[str, str]]:
    """For the help popover: each field with its example value, then the example path as it
    would be written under `root` (shortened like the real ones), relative to the root."""
    rows = [(f"{{{name}}}", value) for name, value in SAMPLE.fields().items()]
    checked = check_template(template)
    if root is None:
        relative = render_folder(checked, SAMPLE) / file_name(SAMPLE, "8c2d41e0")
    else:
        target = target_path(root, checked, SAMPLE, "8c2d41e0")
        relative = PurePosixPath(target.relative_to(root.resolve()).as_posix())
    rows.append(("", str(relative)))
    return rows
