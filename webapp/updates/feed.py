"""The signed feed: trusted keys, the manifest verified and read, the offer for this machine."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from webapp import buildinfo, clock
from webapp.i18n import N_
from webapp.updates.errors import UpdateError, UpdateNotConfigured, UpdateRefused

log = logging.getLogger(__name__)

PRODUCT = "relais"
MAX_MANIFEST_BYTES = 1_000_000
# A signed manifest is good for this long: the feed is re-signed (bundle/publish.py) before then.
MANIFEST_VALIDITY = timedelta(days=30)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
KEYS_ENV = "RELAIS_UPDATE_KEYS"

# The public half of the Relais release key (raw Ed25519, base64). The private half never leaves the
# release manager's machine (`python bundle/publish.py keygen`); see docs/bundle.md. More keys (a test
# feed, a rotated key) may be trusted through RELAIS_UPDATE_KEYS, comma-separated: whoever can set this
# process's environment can already run any program as this user, so it weakens nothing.
# Empty until the release manager generates the release key offline: a key made on a development
# machine is not a release key, so none is trusted and every package is refused until then.
TRUSTED_KEYS: tuple[str, ...] = ()


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


class _NotFound(UpdateError):
    pass


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
