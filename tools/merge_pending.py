"""Merge the translations written in parallel (translations/pending/*.tsv) into the catalogs.

Each line of a pending file is ``msgid<TAB>French<TAB>Dutch``; ``\\n`` and ``\\t`` stand for a
newline and a tab. A plural message gives its forms separated by `` | `` in every column
(``1 file | {n} files<TAB>1 fichier | {n} fichiers<TAB>1 bestand | {n} bestanden``).

The script first refreshes the template and both catalogs (``tools/i18n.py``), then fills the
empty msgstr of each msgid the code still uses. A translation already in a catalog is kept: a
different one in a pending file is reported, not applied. The pending files are left in place.
Run with ``.venv/bin/python tools/merge_pending.py``; exit status 1 when something is left over.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))

import i18n as catalogs  # tools/i18n.py, beside this file

PENDING = catalogs.ROOT / "translations" / "pending"
PLURAL_SEPARATOR = " | "


@dataclass(frozen=True)
class Row:
    source: str
    msgid: tuple[str, ...]
    texts: dict[str, tuple[str, ...]]


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


def _forms(text: str) -> tuple[str, ...]:
    return tuple(_unescape(part) for part in text.split(PLURAL_SEPARATOR))


def read_rows(folder: Path = PENDING) -> tuple[list[Row], list[str]]:
    """Every row of every pending file, and the lines that are not rows (reported)."""
    rows: list[Row] = []
    bad: list[str] = []
    for path in sorted(folder.glob("*.tsv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            columns = line.split("\t")
            if len(columns) < 2 or not columns[0]:
                bad.append(f"{path.name}:{number}: not msgid<TAB>French<TAB>Dutch")
                continue
            texts = {
                language: _forms(text)
                for language, text in zip(catalogs.LANGUAGES, columns[1:], strict=False)
                if text
            }
            rows.append(Row(f"{path.name}:{number}", _forms(columns[0]), texts))
    return rows, bad


def _catalog_path(language: str) -> Path:
    return catalogs.ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"


def _read(language: str) -> Catalog:
    with _catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def _write(language: str, catalog: Catalog) -> None:
    catalog.fuzzy = False
    with _catalog_path(language).open("wb") as handle:
        write_po(handle, catalog, sort_output=True, width=100, omit_header=False)


def _strings(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, list | tuple):
        return tuple(str(text) for text in message.string)
    return (str(message.string or ""),)


def _texts_for(message: Message, rows: dict[str, Row], language: str) -> tuple[str, ...] | None:
    """The pending forms of `message` in `language`: from a row with every form, or, for a
    plural, from one row per form (its singular msgid, then its plural msgid)."""
    ids = tuple(str(i) for i in message.id) if message.pluralizable else (str(message.id),)
    whole = rows.get(ids[0])
    if whole is not None and len(whole.msgid) == len(ids):
        return whole.texts.get(language)
    parts = [rows.get(msgid) for msgid in ids]
    if any(part is None or len(part.texts.get(language, ())) != 1 for part in parts):
        return None
    return tuple(part.texts[language][0] for part in parts if part is not None)


def apply(language: str, catalog: Catalog, rows: list[Row]) -> list[str]:
    """Fill the empty entries of `catalog` from `rows`; the report of what did not fit."""
    report: list[str] = []
    by_msgid = {row.msgid[0]: row for row in rows}
    used: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = [str(i) for i in message.id] if message.pluralizable else [str(message.id)]
        used.update(ids)
        text = _texts_for(message, by_msgid, language)
        if text is None:
            continue
        if any(_strings(message)):
            if _strings(message) != text:
                report.append(f"{language} kept, the pending text differs: {ids[0]!r}")
            continue
        message.string = list(text) if message.pluralizable else text[0]
    report += [
        f"{row.source}: {row.msgid[0]!r} is not a msgid of the code"
        for row in rows
        if row.msgid[0] not in used and language == catalogs.LANGUAGES[0]
    ]
    return report


def main() -> int:
    catalogs.extract()
    rows, bad = read_rows()
    leftovers = list(bad)
    for language in catalogs.LANGUAGES:
        catalogs.merge(language)
        catalog = _read(language)
        leftovers += apply(language, catalog, rows)
        _write(language, catalog)
        leftovers += [
            f"{language}: untranslated: {message.id!r}"
            for message in catalog
            if message.id and not all(_strings(message))
        ]
    for line in leftovers:
        print(line)
    print(f"{len(rows)} pending rows read; {len(leftovers)} things left over.")
    return 1 if leftovers else 0


if __name__ == "__main__":
    raise SystemExit(main())
