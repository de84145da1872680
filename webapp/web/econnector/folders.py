"""The wizard's offer to create a connector's missing folder: the folder and its parents, or a
sentence saying why it cannot be (no right to write there, a file in the way)."""

from __future__ import annotations

from pathlib import Path

from webapp.econnector.connectors import ConnectorError
from webapp.i18n import N_

FOLDER_FIELDS = ("import_dir", "export_dir")


def missing(field: str | None, value: str) -> bool:
    """A full path to a folder that is not there (and no file stands in its place)."""
    if field not in FOLDER_FIELDS or not value.strip():
        return False
    folder = Path(value.strip()).expanduser()
    return folder.is_absolute() and not folder.exists()


def create(field: str, value: str) -> None:
    """The folder and its parents; ConnectorError (under `field`) when they cannot be."""
    path = value.strip()
    folder = Path(path).expanduser()
    if not path or not folder.is_absolute():
        raise ConnectorError(N_("The folder must be a full path: {path}"), field=field, path=path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        raise ConnectorError(
            N_("Relais may not create the folder {path}: ask for the right to write there."),
            field=field,
            path=path,
        ) from None
    except (FileExistsError, NotADirectoryError):
        raise ConnectorError(
            N_("The folder {path} cannot be created: a file has this name."),
            field=field,
            path=path,
        ) from None
    except OSError as exc:
        raise ConnectorError(
            N_("The folder {path} could not be created: {reason}"),
            field=field,
            path=path,
            reason=exc.strerror or str(exc),
        ) from None
