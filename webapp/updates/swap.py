"""The swap itself, run by the helper process: the staged package verified again, unpacked, put
in place, started (the selftest), and the previous version kept or put back."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp import buildinfo
from webapp.clock import now_iso
from webapp.files import replace_file
from webapp.i18n import N_
from webapp.updates.errors import UpdateError, UpdateRefused
from webapp.updates.feed import parse_manifest
from webapp.updates.staging import (
    EXE_NAME,
    INTERNAL,
    MAX_PACKAGE_BYTES,
    read_json,
    record,
    state,
    update_dir,
)

log = logging.getLogger(__name__)

SELFTEST_TIMEOUT_S = 180


@dataclass
class Installed:
    version: str
    previous: str


def _verify_staged(folder: Path, current: str) -> dict[str, Any]:
    """Check the staged package again just before installing it (the disk is not trusted)."""
    info = read_json(folder / "staged.json")
    try:
        data = (folder / "manifest.json").read_bytes()
        signature = (folder / "manifest.json.sig").read_bytes()
    except OSError:
        raise UpdateRefused(N_("The staged update is incomplete: refused.")) from None
    offer = parse_manifest(
        data, signature, str(info.get("url") or ""), buildinfo.platform_id(), current
    )
    if offer is None or offer.version != info.get("version"):
        raise UpdateRefused(
            N_("The update feed offers version {version}, older than {current}: refused."),
            version=str(info.get("version")),
            current=current,
        )
    digest = hashlib.sha256()
    with (folder / "package.zip").open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    if digest.hexdigest() != offer.package.sha256:
        raise UpdateRefused(
            N_("The downloaded package does not match the signed manifest (tampered?): refused.")
        )
    return info


def _extract(package: Path, target: Path, kind: str) -> None:
    """Unzip safely: no absolute paths, no ``..``, no links; the executable must be there."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    root = target.resolve()
    total = 0
    try:
        archive = zipfile.ZipFile(package)
    except zipfile.BadZipFile:
        raise UpdateRefused(N_("The update package is not a valid archive: refused.")) from None
    with archive:
        for member in archive.infolist():
            destination = (target / member.filename).resolve()
            mode = member.external_attr >> 16
            if (
                member.filename.startswith(("/", "\\"))
                or ".." in Path(member.filename).parts
                or not destination.is_relative_to(root)
                or stat.S_ISLNK(mode)
            ):
                raise UpdateRefused(N_("The update package holds unsafe paths: refused."))
            total += member.file_size
            if total > MAX_PACKAGE_BYTES * 3:
                raise UpdateRefused(N_("The update package is larger than announced: refused."))
            archive.extract(member, target)
            if mode & 0o111 and not member.is_dir():
                destination.chmod(0o755)
    exe = target / EXE_NAME
    if not exe.is_file() or (kind == "onedir" and not (target / INTERNAL).is_dir()):
        raise UpdateRefused(
            N_("The update package does not hold Relais for this computer: refused.")
        )
    exe.chmod(0o755)


def _parts(kind: str) -> list[str]:
    return [EXE_NAME, INTERNAL] if kind == "onedir" else [EXE_NAME]


def _move_all(names: list[str], source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).exists():
            replace_file(source / name, target / name)  # retried while an antivirus holds it


def child_env() -> dict[str, str]:
    # Another PyInstaller program started from this one must not reuse our unpacked files.
    return {**os.environ, "PYINSTALLER_RESET_ENVIRONMENT": "1"}


def selftest_command(executable: Path) -> list[str]:
    return [str(executable), "update", "selftest", "--json"]


def run_selftest(executable: Path) -> tuple[bool, str]:
    """Does the program at ``executable`` start? It must answer the selftest with its version."""
    try:
        result = subprocess.run(
            selftest_command(executable),
            capture_output=True,
            text=True,
            timeout=SELFTEST_TIMEOUT_S,
            env=child_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc) or type(exc).__name__
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-500:]
        return False, f"exit {result.returncode}: {tail}"
    try:
        return True, str(json.loads(result.stdout)["version"])
    except (ValueError, KeyError, TypeError):
        return False, f"unexpected answer: {result.stdout.strip()[-200:]}"


def install_here(root: Path) -> Installed | None:
    """The swap itself, run by the helper: new files in, selftest, previous kept or put back."""
    base = update_dir(root)
    folder = base / "staged"
    if not (folder / "staged.json").is_file():
        return None
    build = buildinfo.current()
    kind = build.kind
    try:
        info_staged = _verify_staged(folder, build.version)
        new = base / "new"
        _extract(folder / "package.zip", new, kind)
    except UpdateRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        record(root, last_error=exc.message, last_error_params=exc.params)
        raise
    version = str(info_staged["version"])
    outgoing = base / "outgoing"
    shutil.rmtree(outgoing, ignore_errors=True)
    names = _parts(kind)
    log.info("installing update %s over %s (%s)", version, build.version, kind)
    _move_all(names, root, outgoing)
    try:
        _move_all(names, new, root)
    except OSError:
        _move_all(names, outgoing, root)
        raise
    ok, detail = run_selftest(root / EXE_NAME)
    if not ok or detail != version:
        log.error("update %s did not start (%s): back to %s", version, detail, build.version)
        failed = base / "failed"
        shutil.rmtree(failed, ignore_errors=True)
        _move_all(names, root, failed)
        _move_all(names, outgoing, root)
        shutil.rmtree(outgoing, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(new, ignore_errors=True)
        failed_versions = sorted({*state(root).get("failed_versions", []), version})
        record(
            root,
            failed_versions=failed_versions,
            last_error=N_("Version {version} did not start; version {current} was put back."),
            last_error_params={"version": version, "current": build.version},
            rollback_detail=detail,
        )
        raise UpdateError(
            N_("Version {version} did not start; version {current} was put back."),
            version=version,
            current=build.version,
        )
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(new, ignore_errors=True)
    # The version just replaced is kept, for `relais update rollback`.
    previous = base / "previous"
    shutil.rmtree(previous, ignore_errors=True)
    replace_file(outgoing, previous)
    (previous / "version.txt").write_text(build.version, encoding="utf-8")
    record(
        root,
        installed=version,
        previous=build.version,
        installed_at=now_iso(),
        last_error=None,
        last_error_params=None,
    )
    log.info("update %s installed; %s kept in %s", version, build.version, previous)
    return Installed(version=version, previous=build.version)


def rollback_here(root: Path) -> str:
    """Put the kept previous version back, run by the helper; returns its version."""
    base = update_dir(root)
    previous = base / "previous"
    kind = buildinfo.current().kind
    if not (previous / EXE_NAME).is_file():
        raise UpdateError(N_("No previous version is kept here."))
    version = (
        (previous / "version.txt").read_text(encoding="utf-8").strip()
        if (previous / "version.txt").is_file()
        else "?"
    )
    names = _parts(kind)
    swap = base / "rolled-back"
    shutil.rmtree(swap, ignore_errors=True)
    _move_all(names, root, swap)
    _move_all(names, previous, root)
    shutil.rmtree(previous, ignore_errors=True)
    record(root, installed=version, rolled_back_at=now_iso())
    return version


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A throw-away data folder for `relais update selftest`."""
    with tempfile.TemporaryDirectory(prefix="relais-selftest-") as folder:
        yield Path(folder)
