"""Refresh the translation catalogs: extract msgids from code and templates, merge into each .po.

Run with `make i18n`; then translate the new empty entries in translations/{fr,nl}/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "translations" / "messages.pot"
LANGUAGES = ("fr", "nl")


def extract() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(POT),
            "--no-location",
            "--omit-header",
            "--sort-output",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def merge(language: str) -> list[str]:
    path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with POT.open("rb") as handle:
        template = read_po(handle)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    with path.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, width=100, omit_header=False)
    return [str(message.id) for message in catalog if message.id and not message.string]


def main() -> int:
    extract()
    missing = {language: merge(language) for language in LANGUAGES}
    for language, ids in missing.items():
        for msgid in ids:
            print(f"{language}: untranslated: {msgid}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
