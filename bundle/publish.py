"""Publish built programs to an update feed folder, signed with the release key.

python bundle/publish.py keygen KEYFILE
    A new Ed25519 key pair: the private key (base64) goes to KEYFILE (mode 600), the public key is
    printed, for webapp/updates/feed.py TRUSTED_KEYS.

python bundle/publish.py feed --key KEYFILE --out FOLDER [--dist dist] [--notes TEXT]
    Zips dist/onefile and dist/onedir into FOLDER as relais-VERSION-PLATFORM.zip, writes
    FOLDER/manifest.json listing them (with their SHA-256 and size) and manifest.json.sig.
    Copy FOLDER to the web server; the feed URL is FOLDER's manifest.json address. To publish the
    builds of other machines (Windows), put their packages in FOLDER first and pass --keep.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import (  # noqa: E402
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from webapp import updates  # noqa: E402

EXE = "relais.exe" if os.name == "nt" else "relais"


def keygen(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    path.write_text(base64.b64encode(raw).decode() + "\n", encoding="utf-8")
    path.chmod(0o600)
    print(updates.public_key_text(key))


def load_key(path: Path) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))


def feed(key_path: Path, out: Path, dist: Path, notes: str, keep: bool, days: int) -> None:
    key = load_key(key_path)
    info = json.loads((dist / "onedir" / "relais" / "_internal" / "build_info.json").read_text())
    version, platform = info["version"], info["platform"]
    out.mkdir(parents=True, exist_ok=True)
    packages: dict[str, dict[str, object]] = {}
    if keep and (out / "manifest.json").is_file():
        old = json.loads((out / "manifest.json").read_text())
        if old.get("version") == version:
            packages.update(old.get("packages") or {})
    for kind, built in (
        ("onefile", dist / "onefile" / EXE),
        ("onedir", dist / "onedir" / "relais"),
    ):
        name = f"relais-{version}-{platform}-{kind}.zip"
        sha256, size = updates.make_package(kind, built, out / name)
        packages[f"{platform}-{kind}"] = {"url": name, "sha256": sha256, "size": size}
        print(f"{name}: {size / 1e6:.1f} MB sha256 {sha256}")
    manifest = updates.manifest_bytes(version, packages, notes, valid_for=timedelta(days=days))
    (out / "manifest.json").write_bytes(manifest)
    (out / "manifest.json.sig").write_bytes(updates.sign(key, manifest))
    print(f"manifest for {version} signed by {updates.public_key_text(key)}")
    print(f"manifest sha256 {hashlib.sha256(manifest).hexdigest()}")


def resign(key_path: Path, out: Path, days: int) -> None:
    """The same release with a new expiry: run before the signed manifest expires."""
    old = json.loads((out / "manifest.json").read_text())
    manifest = updates.manifest_bytes(
        old["version"], old["packages"], old.get("notes", ""), valid_for=timedelta(days=days)
    )
    (out / "manifest.json").write_bytes(manifest)
    (out / "manifest.json.sig").write_bytes(updates.sign(load_key(key_path), manifest))
    print(f"manifest for {old['version']} re-signed, valid {days} days")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("keygen", help="make a release key pair")
    gen.add_argument("keyfile", type=Path)
    pub = commands.add_parser("feed", help="package, list and sign the builds")
    pub.add_argument("--key", type=Path, required=True)
    pub.add_argument("--out", type=Path, required=True)
    pub.add_argument("--dist", type=Path, default=ROOT / "dist")
    pub.add_argument("--notes", default="")
    pub.add_argument("--keep", action="store_true", help="keep other platforms' packages")
    pub.add_argument(
        "--valid-days",
        type=int,
        default=updates.MANIFEST_VALIDITY.days,
        help="days before the signed manifest expires (re-sign the feed before then)",
    )
    again = commands.add_parser("resign", help="extend the signed manifest's expiry")
    again.add_argument("--key", type=Path, required=True)
    again.add_argument("--out", type=Path, required=True)
    again.add_argument("--valid-days", type=int, default=updates.MANIFEST_VALIDITY.days)
    args = parser.parse_args()
    if args.command == "keygen":
        keygen(args.keyfile)
    elif args.command == "resign":
        resign(args.key, args.out, args.valid_days)
    else:
        feed(args.key, args.out, args.dist, args.notes, args.keep, args.valid_days)


if __name__ == "__main__":
    main()
