"""Automatic updates (PLT-10): a signed feed, a verified download, installed at the next start.

The feed is one JSON manifest at the configured URL, signed with Ed25519: ``URL`` holds the manifest's
bytes and ``URL + ".sig"`` the base64 signature of exactly those bytes (as signify and minisign do, so
no canonical JSON is needed). The manifest names the new version and, per platform and build kind,
a package (a zip holding the executable and, for onedir, its ``_internal`` folder) with its SHA-256::

    {"product": "relais", "version": "0.2.0", "released": "2026-12-01",
     "expires": "2026-12-31T00:00:00Z", "notes": "…",
     "packages": {"linux-x86_64-onedir": {"url": "relais-0.2.0-linux-x86_64-onedir.zip",
                                          "sha256": "…", "size": 51234567}}}

Refused and reported (never run): a manifest without a valid signature from a trusted key, a package
whose hash differs from the signed one, a version not newer than the running one, and a manifest past
its signed ``expires`` date (or without one): an attacker who replays an old signed manifest could
otherwise keep a computer on an old version forever, told it is up to date (a "freeze attack", as
The Update Framework calls it). The feed is re-signed before it expires (``bundle/publish.py``).

A verified package is staged in ``.relais-update/`` beside the executable. At the next start of the
built program (or at once with ``relais update apply`` when no server runs) it is installed: the running
files move to ``.relais-update/previous/``, the new ones take their place (onedir: the executable and
the ``_internal`` folder; onefile: the file), and the new program must pass ``relais update selftest``
(it builds the whole application over a scratch data folder). If it does not, the previous version is
put back, the version is remembered as failed and not tried again automatically.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from webapp import buildinfo, clock, settings
from webapp.clock import now_iso
from webapp.config import is_frozen, program_dir
from webapp.files import replace_file
from webapp.i18n import N_, UserError
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.store import Store

log = logging.getLogger(__name__)

PRODUCT = "relais"
EXE_NAME = "relais.exe" if os.name == "nt" else "relais"
INTERNAL = "_internal"
UPDATE_DIR_NAME = ".relais-update"
MAX_MANIFEST_BYTES = 1_000_000
# A signed manifest is good for this long: the feed is re-signed (bundle/publish.py) before then.
MANIFEST_VALIDITY = timedelta(days=30)
MAX_PACKAGE_BYTES = 1_000_000_000
SELFTEST_TIMEOUT_S = 180
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
KEYS_ENV = "RELAIS_UPDATE_KEYS"
LAST_CHECK_KEY = "update_last_check"

# The public half of the Relais release key (raw Ed25519, base64). The private half never leaves the
# release manager's machine (`python bundle/publish.py keygen`); see docs/bundle.md. More keys (a test
# feed, a rotated key) may be trusted through RELAIS_UPDATE_KEYS, comma-separated: whoever can set this
# process's environment can already run any program as this user, so it weakens nothing.
# Empty until the release manager generates the release key offline: a key made on a development
# machine is not a release key, so none is trusted and every package is refused until then.
TRUSTED_KEYS: tuple[str, ...] = ()


class UpdateError(UserError):
    """An update that cannot be done now (no feed, no network, not a built program)."""


class UpdateRefused(UpdateError):
    """An update refused for safety: unsigned, tampered with, or a downgrade."""


class _NotFound(UpdateError):
    pass


class UpdateNotConfigured(UpdateError):
    """Nothing to do here: no feed configured, or a program run from source."""


# -- versions and keys ----------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...]:
    parts = str(text).strip().split(".")
    if not 1 <= len(parts) <= 4 or not all(part.isdigit() for part in parts):
        raise UpdateRefused(
            N_("The update feed names an invalid version: {version}."), version=text
        )
    return tuple(int(part) for part in parts)


def trusted_keys() -> list[Ed25519PublicKey]:
    texts = [*TRUSTED_KEYS, *os.environ.get(KEYS_ENV, "").split(",")]
    keys = []
    for text in texts:
        text = text.strip()
        if not text:
            continue
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True)))
        except (ValueError, binascii.Error):
            log.warning("ignoring an invalid update key: %r", text[:60])
    return keys


def verify_signature(data: bytes, signature_text: bytes) -> None:
    try:
        signature = base64.b64decode(signature_text.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise UpdateRefused(N_("The update feed is not signed: refused.")) from None
    for key in trusted_keys():
        try:
            key.verify(signature, data)
            return
        except InvalidSignature:
            continue
    raise UpdateRefused(
        N_("The update feed's signature is not valid (tampered or unknown key): refused.")
    )


# -- the manifest --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Offer:
    """A verified manifest and the package meant for this machine."""

    version: str
    current: str
    notes: str
    package: Package
    manifest: bytes = field(repr=False)
    signature: bytes = field(repr=False)


def parse_manifest(
    data: bytes,
    signature: bytes,
    base_url: str,
    platform: str,
    current: str,
    *,
    now: datetime | None = None,
) -> Offer | None:
    """Verify and read a manifest; None when it offers nothing newer than ``current``.

    ``now`` is when the feed was read: a manifest past its expiry then is refused. A staged
    package is re-verified at install without it (it was fresh when it was downloaded).
    """
    verify_signature(data, signature)
    try:
        manifest = json.loads(data)
        if manifest.get("product") != PRODUCT:
            raise ValueError("product")
        version = str(manifest["version"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UpdateRefused(N_("The update manifest cannot be read: refused.")) from None
    if now is not None:
        _check_expiry(manifest.get("expires"), now)
    offered, installed = parse_version(version), parse_version(current)
    if offered == installed:
        return None
    if offered < installed:
        raise UpdateRefused(
            N_("The update feed offers version {version}, older than {current}: refused."),
            version=version,
            current=current,
        )
    entry = (manifest.get("packages") or {}).get(platform)
    if not isinstance(entry, dict):
        raise UpdateError(
            N_("Version {version} has no package for this computer ({platform})."),
            version=version,
            platform=platform,
        )
    try:
        package = Package(
            url=urljoin(base_url, str(entry["url"])),
            sha256=str(entry["sha256"]).lower(),
            size=int(entry["size"]),
        )
    except (KeyError, ValueError, TypeError):
        raise UpdateRefused(N_("The update manifest cannot be read: refused.")) from None
    if urlsplit(package.url).scheme not in ("http", "https") or len(package.sha256) != 64:
        raise UpdateRefused(N_("The update manifest cannot be read: refused."))
    return Offer(
        version=version,
        current=current,
        notes=str(manifest.get("notes") or ""),
        package=package,
        manifest=data,
        signature=signature,
    )


def _check_expiry(expires: Any, now: datetime) -> None:
    try:
        moment = clock.parse_iso(str(expires))
        if moment.tzinfo is None:
            raise ValueError("naive")
    except ValueError:
        raise UpdateRefused(N_("The update manifest has no valid expiry date: refused.")) from None
    if moment <= now:
        raise UpdateRefused(
            N_("The update manifest expired on {date}: refused (an old feed may be replayed)."),
            date=moment.strftime("%Y-%m-%d"),
        )


def _get(client: httpx.Client, url: str, limit: int) -> bytes:
    try:
        with client.stream("GET", url) as response:
            if response.status_code == 404:
                raise _NotFound(N_("Nothing at {url} (404)."), url=url)
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise UpdateRefused(N_("The update feed sent too much data: refused."))
            return bytes(body)
    except httpx.HTTPError as exc:
        raise UpdateError(
            N_("The update feed cannot be reached: {detail}"), detail=str(exc) or type(exc).__name__
        ) from exc


def check(
    feed_url: str, *, current: str | None = None, platform: str | None = None
) -> Offer | None:
    """Fetch and verify the feed: an Offer for a newer version, None when up to date."""
    feed_url = (feed_url or "").strip()
    if not feed_url:
        raise UpdateNotConfigured(N_("No update feed is configured."))
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client:
        data = _get(client, feed_url, MAX_MANIFEST_BYTES)
        try:
            signature = _get(client, feed_url + ".sig", 4096)
        except _NotFound:
            raise UpdateRefused(N_("The update feed is not signed: refused.")) from None
    return parse_manifest(
        data,
        signature,
        feed_url,
        platform or buildinfo.platform_id(),
        current or buildinfo.current().version,
        now=clock.utc_now(),
    )


# -- where updates live ------------------------------------------------------------------------


def update_dir(root: Path | None = None) -> Path:
    """``.relais-update/`` beside the executable: renames there stay on one file system."""
    return (root or program_dir()) / UPDATE_DIR_NAME


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_json(path: Path, value: dict[str, Any]) -> None:
    from webapp.files import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(value, indent=2, ensure_ascii=False))


def state(root: Path | None = None) -> dict[str, Any]:
    """What happened to updates of this installation: installed, failed, refused."""
    return _read_json(update_dir(root) / "state.json")


def _record(root: Path | None, **changes: Any) -> dict[str, Any]:
    current = state(root)
    current.update(changes, updated_at=now_iso())
    _write_json(update_dir(root) / "state.json", current)
    return current


def staged(root: Path | None = None) -> dict[str, Any]:
    return _read_json(update_dir(root) / "staged" / "staged.json")


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
    _write_json(
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


# -- install ------------------------------------------------------------------------------------


@dataclass
class Installed:
    version: str
    previous: str


def _verify_staged(folder: Path, current: str) -> dict[str, Any]:
    """Check the staged package again just before installing it (the disk is not trusted)."""
    info = _read_json(folder / "staged.json")
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


def _child_env() -> dict[str, str]:
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
            env=_child_env(),
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


def install_staged(root: Path | None = None) -> Installed | None:
    """Install the staged update, or roll back; None when nothing is staged.

    Raises UpdateRefused (staged package not trusted: discarded) or UpdateError (it did not start:
    the previous version is back in place). The work is done by a helper (see _run_helper): after a
    successful swap, this process must import nothing more (its files are gone): exec or exit.
    """
    require_installable()
    root = root or program_dir()
    if not (update_dir(root) / "staged" / "staged.json").is_file():
        return None
    answer = _run_helper(root, "install")
    return Installed(version=str(answer["installed"]), previous=str(answer["previous"]))


def rollback(root: Path | None = None) -> str:
    """Put the previous version back (``relais update rollback``); returns its version."""
    require_installable()
    root = root or program_dir()
    if not (update_dir(root) / "previous" / EXE_NAME).is_file():
        raise UpdateError(N_("No previous version is kept here."))
    return str(_run_helper(root, "rollback")["installed"])


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # instant, no space; FAT32 sticks have no links: copy
    except OSError:
        shutil.copy2(source, target)


def _make_helper(root: Path) -> Path:
    """This version's files, hard-linked (copied on Windows and FAT) into .relais-update/helper/."""
    helper = update_dir(root) / "helper"
    shutil.rmtree(helper, ignore_errors=True)
    helper.mkdir(parents=True)
    # Windows: a link shares the open file with the running program; a copy is independent.
    place = shutil.copy2 if os.name == "nt" else _link_or_copy
    place(str(root / EXE_NAME), str(helper / EXE_NAME))
    if buildinfo.current().kind == "onedir":
        shutil.copytree(root / INTERNAL, helper / INTERNAL, copy_function=place)
    return helper / EXE_NAME


def _run_helper(root: Path, action: str) -> dict[str, Any]:
    """Run ``action`` from a copy of this program outside the files being swapped.

    A PyInstaller program reads its Python modules from its own executable as it imports them, so
    the process that moves that executable away can no longer import anything. The helper is this
    very version, hard-linked (or copied) into .relais-update/helper/; it does the swap, starts the
    new version's selftest, rolls back if needed, and answers in JSON.
    """
    command = [str(_make_helper(root)), "update", f"_{action}", "--root", str(root)]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=SELFTEST_TIMEOUT_S + 300,
            env=_child_env(),
            check=False,
        )
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        raise UpdateError(
            N_("The update could not be installed: {detail}"), detail=str(exc) or type(exc).__name__
        ) from exc
    if answer.get("ok"):
        return dict(answer)
    error = UpdateRefused if answer.get("refused") else UpdateError
    raise error(str(answer.get("error")), **(answer.get("params") or {}))


def helper_main(
    action: str, root: Path, wait_pid: int | None = None, relaunch: list[str] | None = None
) -> dict[str, Any]:
    """What the helper process does (``relais update _install|_rollback --root``): a JSON answer.

    On Windows the program's files cannot move while it runs: the program starts the helper with
    its pid and arguments and exits; the helper waits for it, installs, and starts the program again
    (the new version, or the previous one put back).
    """
    if wait_pid:
        from webapp.liveness import pid_alive

        for _ in range(600):
            if not pid_alive(wait_pid):
                break
            threading.Event().wait(0.1)
    answer = _helper_action(action, root)
    if relaunch is not None:
        # On its own: not tied to the helper's output nor to its console or session.
        subprocess.Popen(
            [str(root / EXE_NAME), *relaunch],
            env=_child_env(),
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=os.name != "nt",
            creationflags=getattr(subprocess, "DETACHED_PROCESS", 0),
        )
    return answer


def _helper_action(action: str, root: Path) -> dict[str, Any]:
    try:
        if action == "install":
            installed = install_here(root)
            if installed is None:
                return {"ok": False, "error": N_("Nothing is staged."), "params": {}}
            return {"ok": True, "installed": installed.version, "previous": installed.previous}
        return {"ok": True, "installed": rollback_here(root)}
    except UpdateError as exc:
        return {
            "ok": False,
            "error": exc.message,
            "params": exc.params,
            "refused": isinstance(exc, UpdateRefused),
        }


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
        _record(root, last_error=exc.message, last_error_params=exc.params)
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
        _record(
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
    _record(
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
    _record(root, installed=version, rolled_back_at=now_iso())
    return version


def install_staged_at_start() -> None:
    """At the start of `serve`/`tray` in a built program: install, then restart into the new one."""
    if not is_frozen() or not (update_dir() / "staged" / "staged.json").is_file():
        return
    if os.name == "nt":
        root = program_dir()
        log.info("installing the staged update: Relais restarts in a moment")
        logging.shutdown()
        flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
        subprocess.Popen(
            [
                str(_make_helper(root)),
                "update",
                "_install",
                "--root",
                str(root),
                "--wait-pid",
                str(os.getpid()),
                "--relaunch",
                json.dumps(sys.argv[1:]),
            ],
            env=_child_env(),
            creationflags=flags,
        )
        os._exit(0)
    try:
        installed = install_staged()
    except UpdateError as exc:
        log.error("update not installed: %s", exc.translated())
        return
    if installed is None:
        return
    executable = program_dir() / EXE_NAME
    log.info(
        "update %s installed (%s kept for a rollback): restarting into it",
        installed.version,
        installed.previous,
    )
    logging.shutdown()
    os.execve(executable, [str(executable), *sys.argv[1:]], _child_env())


# -- the process --------------------------------------------------------------------------------


def auto_check(store: Store, *, force: bool = False) -> tuple[str, Offer | None]:
    """What the update_check process does; returns (outcome, offer). Raises UpdateError."""
    if not force and not settings.get(store, "auto_update"):
        return "off", None
    require_installable()
    offer = check(str(settings.get(store, "update_feed_url")))
    settings.write_value(
        store, LAST_CHECK_KEY, {"at": now_iso(), "version": offer and offer.version}
    )
    if offer is None:
        return "up_to_date", None
    if not force and offer.version in state().get("failed_versions", []):
        return "failed_before", offer
    if staged().get("version") == offer.version:
        return "staged", offer
    download(offer)
    return "downloaded", offer


def _update_job(context: RunContext) -> Summary:
    if not settings.get(context.store, "auto_update"):
        return Summary(N_("Automatic updates are off."))
    if not str(settings.get(context.store, "update_feed_url")).strip():
        return Summary(N_("No update feed is configured."))
    if not is_frozen():
        return Summary(
            N_("Updates install into the built program only; this one runs from source.")
        )
    try:
        outcome, offer = auto_check(context.store)
    except UpdateRefused as exc:
        context.item("update", "error", message=exc.message, **exc.params)
        _record(None, last_error=exc.message, last_error_params=exc.params)
        raise
    version = offer.version if offer else buildinfo.current().version
    messages = {
        "up_to_date": N_("Relais {version} is up to date."),
        "failed_before": N_("Version {version} did not start here before: not installed again."),
        "staged": N_("Version {version} is ready: it will be installed at the next start."),
        "downloaded": N_("Version {version} is ready: it will be installed at the next start."),
    }
    if outcome == "downloaded":
        context.item(
            "update", "received", reference=version, message=messages[outcome], version=version
        )
    return Summary(messages[outcome], {"version": version})


UPDATE_CHECK = JobSpec(
    name="update_check",
    title=N_("Update check"),
    description=N_(
        "Looks for a new version on the update feed, verifies its signature and downloads it;"
        " it is installed at the next start."
    ),
    func=_update_job,
    default_trigger=("interval", "360"),
)


# -- publishing (bundle/publish.py and the tests) ------------------------------------------------


def make_package(kind: str, built: Path, target: Path) -> tuple[str, int]:
    """Zip a built program (the onefile executable, or the onedir folder); returns (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        if kind == "onefile":
            _add(archive, built, EXE_NAME)
        else:
            for path in sorted(built.rglob("*")):
                relative = path.relative_to(built)
                if (
                    relative.parts[0] in (UPDATE_DIR_NAME, "data")
                    or relative.name == "relais.portable"
                ):
                    continue
                if path.is_file():
                    _add(archive, path, relative.as_posix())
    data = target.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def _add(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with path.open("rb") as handle, archive.open(info, "w") as out:
        shutil.copyfileobj(handle, out, 1 << 20)


def sign(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    return base64.b64encode(private_key.sign(data)) + b"\n"


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def manifest_bytes(
    version: str,
    packages: dict[str, dict[str, Any]],
    notes: str = "",
    *,
    valid_for: timedelta = MANIFEST_VALIDITY,
) -> bytes:
    released = clock.utc_now()
    return json.dumps(
        {
            "product": PRODUCT,
            "version": version,
            "released": released.strftime("%Y-%m-%d"),
            "expires": (released + valid_for).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "notes": notes,
            "packages": packages,
        },
        indent=2,
    ).encode()


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="relais-selftest-") as folder:
        yield Path(folder)
