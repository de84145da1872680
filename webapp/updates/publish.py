"""Publishing helpers (bundle/publish.py and the tests): the package zip, the signed manifest."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from webapp import clock
from webapp.updates.feed import MANIFEST_VALIDITY, PRODUCT
from webapp.updates.staging import EXE_NAME, UPDATE_DIR_NAME


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
