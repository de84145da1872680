"""Where updates live (``.relais-update/`` beside the executable), their record, and the download
that stages a verified package for the next start."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import httpx

from webapp import buildinfo
from webapp.clock import now_iso
from webapp.config import is_frozen, program_dir
from webapp.i18n import N_
from webapp.updates.errors import UpdateError, UpdateNotConfigured, UpdateRefused
from webapp.updates.feed import TIMEOUT, Offer

log = logging.getLogger(__name__)

EXE_NAME = "relais.exe" if os.name == "nt" else "relais"
INTERNAL = "_internal"
UPDATE_DIR_NAME = ".relais-update"
MAX_PACKAGE_BYTES = 1_000_000_000


def update_dir(root: Path | None = None) -> Path:
    """``.relais-update/`` beside the executable: renames there stay on one file system."""
    return (root or program_dir()) / UPDATE_DIR_NAME


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_json(path: Path, value: dict[str, Any]) -> None:
    from webapp.files import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(value, indent=2, ensure_ascii=False))


def state(root: Path | None = None) -> dict[str, Any]:
    """What happened to updates of this installation: installed, failed, refused."""
    return read_json(update_dir(root) / "state.json")


def record(root: Path | None, **changes: Any) -> dict[str, Any]:
    """Add ``changes`` to state.json, stamped with the time."""
    current = state(root)
    current.update(changes, updated_at=now_iso())
    write_json(update_dir(root) / "state.json", current)
    return current


def staged(root: Path | None = None) -> dict[str, Any]:
    return read_json(update_dir(root) / "staged" / "staged.json")


class StagedVersion:
    """The staged update's version, for every page's footer. The file is read again only when
    it changed: finding the program's folder and reading the file was 3 % of a page's time."""

    def __init__(self, root: Path | None = None) -> None:
        self.path = update_dir(root) / "staged" / "staged.json"
        self._seen: tuple[int, int] | None = None
        self._version: str | None = None

    def __call__(self) -> str | None:
        try:
            found = self.path.stat()
        except OSError:
            return None
        seen = (found.st_mtime_ns, found.st_size)
        if seen != self._seen:
            version = read_json(self.path).get("version")
            self._version, self._seen = (str(version) if version else None), seen
        return self._version


# -- download and stage -------------------------------------------------------------------------


def require_installable() -> None:
    if not is_frozen():
        raise UpdateNotConfigured(
            N_("Updates install into the built program only; this one runs from source.")
        )


def download(offer: Offer, root: Path | None = None) -> Path:
    """Download the package, check its size and hash, and stage it for the next start."""
    base = update_dir(root)
    target = base / "staged"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    package_path = target / "package.zip"
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", offer.package.url) as response,
        ):
            response.raise_for_status()
            with package_path.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                    if size > min(offer.package.size, MAX_PACKAGE_BYTES):
                        raise UpdateRefused(
                            N_("The update package is larger than announced: refused.")
                        )
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
    except httpx.HTTPError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UpdateError(
            N_("The update cannot be downloaded: {detail}"), detail=str(exc) or type(exc).__name__
        ) from exc
    except UpdateError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if digest.hexdigest() != offer.package.sha256 or size != offer.package.size:
        shutil.rmtree(target, ignore_errors=True)
        raise UpdateRefused(
            N_("The downloaded package does not match the signed manifest (tampered?): refused.")
        )
    (target / "manifest.json").write_bytes(offer.manifest)
    (target / "manifest.json.sig").write_bytes(offer.signature)
    write_json(
        target / "staged.json",
        {
            "version": offer.version,
            "from": offer.current,
            "platform": buildinfo.platform_id(),
            "sha256": offer.package.sha256,
            "size": size,
            "url": offer.package.url,
            "staged_at": now_iso(),
        },
    )
    log.info("update %s downloaded and verified; installed at the next start", offer.version)
    return target
