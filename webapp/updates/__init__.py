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

One module per concern: errors.py, feed.py (the signed manifest), staging.py (where updates live,
the download), swap.py (the swap run by the helper), install.py (the helper, install at start),
job.py (the update_check process), publish.py (bundle/publish.py's helpers). This module is their
public face.
"""

from __future__ import annotations

from webapp.updates.errors import UpdateError, UpdateNotConfigured, UpdateRefused
from webapp.updates.feed import (
    KEYS_ENV,
    MANIFEST_VALIDITY,
    TRUSTED_KEYS,
    Offer,
    Package,
    check,
    parse_manifest,
    parse_version,
)
from webapp.updates.install import helper_main, install_staged, install_staged_at_start, rollback
from webapp.updates.job import UPDATE_CHECK, auto_check
from webapp.updates.publish import make_package, manifest_bytes, public_key_text, sign
from webapp.updates.staging import (
    EXE_NAME,
    UPDATE_DIR_NAME,
    StagedVersion,
    download,
    require_installable,
    staged,
    state,
    update_dir,
)
from webapp.updates.swap import Installed, install_here, rollback_here, run_selftest, scratch_dir

__all__ = [
    "EXE_NAME",
    "KEYS_ENV",
    "MANIFEST_VALIDITY",
    "TRUSTED_KEYS",
    "UPDATE_CHECK",
    "UPDATE_DIR_NAME",
    "Installed",
    "Offer",
    "Package",
    "StagedVersion",
    "UpdateError",
    "UpdateNotConfigured",
    "UpdateRefused",
    "auto_check",
    "check",
    "download",
    "helper_main",
    "install_here",
    "install_staged",
    "install_staged_at_start",
    "make_package",
    "manifest_bytes",
    "parse_manifest",
    "parse_version",
    "public_key_text",
    "require_installable",
    "rollback",
    "rollback_here",
    "run_selftest",
    "scratch_dir",
    "sign",
    "staged",
    "state",
    "update_dir",
]
