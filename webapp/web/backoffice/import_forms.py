"""The import's mapping step read in one place: the posted form becomes a MappingForm (the kept
upload, its options, the field chosen for each heading), the mapping shown is built from it.

The headings are read again from the kept upload, never taken from the form: a select posts only
the field it chose (column_0, column_1… in the file's order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp.backoffice import import_mapping, import_profiles, uploads
from webapp.backoffice.columns import KINDS, Kind
from webapp.backoffice.import_mapping import IGNORE, Heading
from webapp.backoffice.import_profiles import Profile
from webapp.csvio import CsvOptions
from webapp.i18n import N_, UserError, gettext
from webapp.store import Store
from webapp.web.common import first

OPTION_FIELDS = ("encoding", "delimiter", "decimal", "date_format")
ACTIONS = ("refresh", "profile", "save", "delete", "analyse")


class MappingRefused(UserError):
    """The mapping form cannot be read: an unknown kind or action."""


@dataclass(frozen=True)
class MappingForm:
    """What the mapping step posts back: the upload and its options, and the user's choices."""

    kind: str
    upload: str
    file: str
    options: dict[str, str]
    skip_bad: bool
    action: str = "refresh"
    profile: int | None = None
    profile_name: str = ""
    choices: dict[int, str] | None = None  # heading index → field; None: nothing chosen yet

    @classmethod
    def parse(cls, data: dict[str, Any]) -> MappingForm:
        kind = first(data.get("kind"))
        if kind not in KINDS:
            raise MappingRefused(N_("Choose what the file holds."))
        action = first(data.get("action")) or "refresh"
        if action not in ACTIONS:
            raise MappingRefused(N_("Unknown action {action}."), action=action)
        profile = first(data.get("profile"))
        choices = {
            int(name.removeprefix("column_")): first(value)
            for name, value in data.items()
            if name.startswith("column_") and name.removeprefix("column_").isdigit()
        }
        return cls(
            kind=kind,
            upload=first(data.get("upload")),
            file=first(data.get("file")),
            options={name: first(data.get(name)) for name in OPTION_FIELDS},
            skip_bad=bool(first(data.get("skip_bad"))),
            action=action,
            profile=int(profile) if profile.isdigit() else None,
            profile_name=first(data.get("profile_name")),
            choices=choices or None,
        )

    @property
    def csv_options(self) -> CsvOptions:
        get = self.options.get
        return CsvOptions(
            encoding=get("encoding") or None,
            delimiter=get("delimiter") or None,
            decimal=get("decimal") or None,
            date_format=get("date_format") or None,
        ).checked()


@dataclass
class MappingStep:
    """The mapping step as its template shows it."""

    form: MappingForm
    kind: Kind
    headings: list[Heading]
    profiles: list[Profile]
    profile: int | None
    missing: list[str] = field(default_factory=list)  # required fields' labels, translated
    error: str | None = None
    notice: str | None = None

    @property
    def mapping(self) -> dict[str, str]:
        return {heading.key: heading.field for heading in self.headings}

    @property
    def fields(self) -> list[tuple[str, str]]:
        """The select's choices: each field's name and its label, required ones marked."""
        return [
            (column.name, gettext(column.label) + (" *" if column.required else ""))
            for column in self.kind.columns
        ]


def mapping_step(
    store: Store, folder: Path, form: MappingForm, *, use_profile: bool = False
) -> MappingStep:
    """The headings of the kept upload with their fields: the form's choices, else the chosen
    profile's (or the one made for these headings), else the suggestions. UploadGone, CsvError."""
    path = uploads.kept_upload(folder, form.upload)
    raw = uploads.read_header(path, form.csv_options)
    kind = KINDS[form.kind]
    found = import_profiles.profiles(store, form.kind)
    keys = [heading.key for heading in import_mapping.headings(raw, {})]
    profile = next((item for item in found if item.id == form.profile), None)
    if form.choices is not None and not use_profile:
        chosen = form.choices
        mapping = {
            item.key: chosen.get(item.index, IGNORE) for item in import_mapping.headings(raw, {})
        }
    else:
        if profile is None and not use_profile:
            profile = import_profiles.matching(found, keys)
        mapping = import_mapping.suggest(kind, raw)
        if profile is not None:
            mapping.update({key: profile.columns.get(key, IGNORE) for key in keys})
    step = MappingStep(
        form, kind, import_mapping.headings(raw, mapping), found, profile.id if profile else None
    )
    step.missing = [
        gettext(kind.column(name).label) for name in import_mapping.missing_fields(kind, mapping)
    ]
    return step
