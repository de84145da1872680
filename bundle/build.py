"""Build Relais with PyInstaller for this machine: `python bundle/build.py [--kind both|onefile|onedir]`.

Outputs (".exe" on Windows):
    dist/onefile/relais           one file; unpacks itself to a temporary folder at each start
    dist/onedir/relais/relais     a folder; starts faster, the one to put on a USB stick

Both come from one PyInstaller analysis. A build is skipped when the sources, the spec and the installed
packages have not changed since the last one (their hash is kept beside each output), so tests and CI can
call this freely; --force rebuilds anyway.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXE_SUFFIX = ".exe" if os.name == "nt" else ""
HASH_FILE = ".source-hash"
SOURCES = ["webapp", "templates", "static", "translations"]
BUNDLE_FILES = [
    "bundle/relais.spec",
    "bundle/entry.py",
    "bundle/build.py",
    "bundle/relais.png",
    "bundle/relais.ico",
    "bundle/hooks/hook-pystray.py",
]
IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache"}


def executable(dist: Path, kind: str) -> Path:
    """Where `kind`'s executable is in the output folder `dist`."""
    if kind == "onefile":
        return dist / "onefile" / f"relais{EXE_SUFFIX}"
    return dist / "onedir" / "relais" / f"relais{EXE_SUFFIX}"


def source_hash(windowed: bool = False) -> str:
    """Hash of everything that goes into a build: sources, spec, Python and installed packages."""
    digest = hashlib.sha256(b"windowed" if windowed else b"console")
    files: list[Path] = []
    for folder in SOURCES:
        files += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and not IGNORED_PARTS & set(p.parts) and p.suffix not in (".pyc",)
        ]
    files += [ROOT / name for name in BUNDLE_FILES] + [ROOT / "pyproject.toml"]
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join([sys.version, platform.platform(), *packages]).encode())
    return digest.hexdigest()


def up_to_date(dist: Path, kind: str, wanted: str) -> bool:
    marker = dist / kind / HASH_FILE
    return (
        executable(dist, kind).is_file()
        and marker.is_file()
        and marker.read_text(encoding="utf-8").strip() == wanted
    )


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One build at a time in this checkout (several test sessions may ask at once)."""
    lock_path = ROOT / "build" / "bundle.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def build(
    kinds: list[str],
    dist: Path,
    *,
    windowed: bool,
    force: bool = False,
    version: str | None = None,
    copy_to: Path | None = None,
) -> dict[str, Path]:
    with _exclusive():
        built = _build(kinds, dist, windowed=windowed, force=force, version=version)
        if copy_to is None:
            return built
        # A private copy, taken under the lock: another session's rebuild cannot pull it away.
        for kind in kinds:
            shutil.rmtree(copy_to / kind, ignore_errors=True)
            shutil.copytree(dist / kind, copy_to / kind, symlinks=True)
        return {kind: executable(copy_to, kind) for kind in kinds}


def _build(
    kinds: list[str], dist: Path, *, windowed: bool, force: bool, version: str | None
) -> dict[str, Path]:
    wanted = source_hash(windowed) + (f"-{version}" if version else "")
    todo = [kind for kind in kinds if force or not up_to_date(dist, kind, wanted)]
    for kind in kinds:
        if kind not in todo:
            print(f"{kind}: up to date ({executable(dist, kind)})", flush=True)
    if todo:
        _run_pyinstaller(todo, dist, wanted, windowed=windowed, version=version)
    return {kind: executable(dist, kind) for kind in kinds}


def _run_pyinstaller(
    kinds: list[str], dist: Path, wanted: str, *, windowed: bool, version: str | None
) -> None:
    from webapp import __version__

    # One work folder per output folder: PyInstaller's cache there is only valid for one of them.
    tag = hashlib.sha256(str(dist).encode()).hexdigest()[:8]
    work = ROOT / "build" / f"pyinstaller-{tag}"
    out = ROOT / "build" / f"pyinstaller-dist-{tag}"
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    build_info = work / "build_info.json"
    build_info.write_text(
        json.dumps(
            {
                "version": version or __version__,
                "build_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": f"{platform.system().lower()}-{platform.machine().lower()}",
                "source_hash": wanted,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    kind_arg = kinds[0] if len(kinds) == 1 else "both"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(out),
        "--workpath",
        str(work),
        str(ROOT / "bundle" / "relais.spec"),
        "--",
        "--kind",
        kind_arg,
        "--build-info",
        str(build_info),
    ]
    if windowed:
        command.append("--windowed")
    started = time.monotonic()
    print(f"building {', '.join(kinds)} with PyInstaller…", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    for kind in kinds:
        target = dist / kind
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        if kind == "onefile":
            shutil.move(out / f"relais-onefile{EXE_SUFFIX}", executable(dist, kind))
        else:
            shutil.move(out / "relais", target / "relais")
        (target / HASH_FILE).write_text(wanted + "\n", encoding="utf-8")
        print(f"{kind}: {executable(dist, kind)} ({_size(target)})", flush=True)
    print(f"built in {time.monotonic() - started:.0f} s", flush=True)


def _size(path: Path) -> str:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return f"{total / 1_000_000:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=["both", "onefile", "onedir"], default="both")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--windowed",
        action=argparse.BooleanOptionalAction,
        default=os.name == "nt",
        help="no console window (default on Windows); the log goes to the data folder",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--copy-to", type=Path, help="then copy the outputs there (tests: a private copy)"
    )
    parser.add_argument(
        "--version",
        help="version to announce instead of webapp.__version__ (test update packages only)",
    )
    args = parser.parse_args()
    kinds = ["onefile", "onedir"] if args.kind == "both" else [args.kind]
    sys.path.insert(0, str(ROOT))
    build(
        kinds,
        args.dist.resolve(),
        windowed=args.windowed,
        force=args.force,
        version=args.version,
        copy_to=args.copy_to.resolve() if args.copy_to else None,
    )


if __name__ == "__main__":
    main()
