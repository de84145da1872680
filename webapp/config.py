"""Where things are: the data folder (normal, --data-dir or portable) and the bundled resources."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Relais"
PORTABLE_MARKER = "relais.portable"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def resource_root() -> Path:
    """Folder holding templates/, static/ and translations/ (the repository, or PyInstaller's)."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    installed = Path(__file__).resolve().parent / "_resources"  # where a wheel maps them
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent


def program_dir() -> Path:
    """Folder of the thing the user launched: the executable, or the repository when run from source."""
    if is_frozen():
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DataDir:
    path: Path
    portable: bool

    @property
    def database(self) -> Path:
        return self.path / "relais.sqlite"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def backups(self) -> Path:
        return self.path / "backups"

    def stored_path(self, path: str | os.PathLike[str]) -> str:
        """How to keep a path in the database: relative to a portable data folder when inside it,
        so the stick still works under another drive letter or mount point."""
        absolute = Path(path).expanduser()
        if self.portable and absolute.is_absolute() and absolute.is_relative_to(self.path):
            return absolute.relative_to(self.path).as_posix() or "."
        return str(absolute)

    def resolve_stored(self, value: str) -> Path:
        """The reverse of :meth:`stored_path`: a relative path is inside the data folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.path / path


def resolve_data_dir(override: str | os.PathLike[str] | None = None) -> DataDir:
    """--data-dir wins, then RELAIS_DATA_DIR, then portable mode, then the platform's user data dir."""
    chosen = override or os.environ.get("RELAIS_DATA_DIR")
    if chosen:
        path, portable = Path(chosen).expanduser().resolve(), False
    elif (program_dir() / PORTABLE_MARKER).exists():
        path, portable = program_dir() / "data", True
    else:
        path, portable = default_data_dir(), False
    path.mkdir(parents=True, exist_ok=True)
    return DataDir(path=path, portable=portable)


def default_data_dir() -> Path:
    """The user's data folder: %LOCALAPPDATA%\\Relais\\Relais on Windows (elsewhere both are one).

    A roaming profile copies %APPDATA% to a server at every logoff: no place for a database, its
    backups and logs. Relais 0.1 used the roaming folder; an install that has its database there
    keeps it (docs/windows.md).
    """
    local = Path(platformdirs.user_data_dir(APP_NAME, APP_NAME, roaming=False))
    roaming = Path(platformdirs.user_data_dir(APP_NAME, APP_NAME, roaming=True))
    return choose_data_dir(local, roaming)


def choose_data_dir(local: Path, roaming: Path) -> Path:
    """The local folder, unless only the roaming one holds a database (an earlier install)."""
    database = DataDir(local, portable=False).database.name
    if not (local / database).exists() and (roaming / database).exists():
        return roaming
    return local
