"""What is running: version, build date and kind (source, onefile or onedir build).

A PyInstaller build carries ``build_info.json`` (written by bundle/build.py) beside its resources; from
source the version is the package's and there is no build date.
"""

from __future__ import annotations

import functools
import json
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from webapp import __version__
from webapp.config import is_frozen, resource_root


@dataclass(frozen=True)
class BuildInfo:
    version: str
    build_date: str | None
    kind: str  # "source", "onefile" or "onedir"

    @property
    def frozen(self) -> bool:
        return self.kind != "source"

    @property
    def label(self) -> str:
        """As shown in the footer: ``0.2.0 (2026-11-25)``."""
        return f"{self.version} ({self.build_date[:10]})" if self.build_date else self.version


def frozen_kind() -> str:
    """onefile builds unpack into a temporary _MEIxxxx folder; onedir ones run from their own."""
    if not is_frozen():
        return "source"
    bundle = Path(getattr(sys, "_MEIPASS", "")).resolve()
    return "onedir" if Path(sys.executable).resolve().parent in bundle.parents else "onefile"


@functools.cache
def current() -> BuildInfo:
    version, build_date = __version__, None
    path = resource_root() / "build_info.json"
    if is_frozen() and path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        version, build_date = str(data.get("version") or version), data.get("build_date")
    return BuildInfo(version=version, build_date=build_date, kind=frozen_kind())


def platform_id() -> str:
    """The key of this machine's package in an update manifest, e.g. ``linux-x86_64-onedir``."""
    machine = platform.machine().lower() or "unknown"
    machine = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}-{machine}-{current().kind}"
