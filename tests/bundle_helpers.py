"""The PyInstaller builds for the tests: built once per source state by bundle/build.py, then run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO, csrf_token, relais_env

EXE = "relais.exe" if os.name == "nt" else "relais"


def build_all(copy_to: Path, *extra: str) -> dict[str, Path]:
    """`make bundle` (a no-op when dist/ matches the sources), then a private copy in ``copy_to``:
    another session rebuilding dist/ meanwhile cannot pull the files from under these tests."""
    subprocess.run(
        [
            sys.executable,
            str(REPO / "bundle" / "build.py"),
            "--no-windowed",
            "--copy-to",
            str(copy_to),
            *extra,
        ],
        check=True,
        cwd=REPO,
    )
    return {"onefile": copy_to / "onefile" / EXE, "onedir": copy_to / "onedir" / "relais" / EXE}


def copy_onedir(built: dict[str, Path], target: Path) -> Path:
    """A copy of the onedir build at ``target`` (the folder a user puts on a stick)."""
    shutil.copytree(built["onedir"].parent, target, symlinks=True)
    return target / EXE


def frozen_env(**extra: str) -> dict[str, str]:
    # The built program must not lean on the repository's Python or sources.
    env = relais_env(**extra)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


class Program:
    """A built Relais started as a user would; output in a file; stopped with a signal."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str], cwd: Path) -> None:
        self.log = log
        self._out = open(log, "w", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, stdout=self._out, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_url(self, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"http://127\.0\.0\.1:\d+", self.output)
            if match:
                try:
                    if httpx.get(match.group(0) + "/healthz", timeout=2).status_code == 200:
                        return match.group(0)
                except httpx.HTTPError:
                    pass
            if self.process.poll() is not None:
                raise AssertionError(
                    f"Relais exited early ({self.process.returncode}):\n{self.output}"
                )
            time.sleep(0.1)
        raise AssertionError(f"Relais did not start:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"Relais did not stop on {sig}:\n{self.output}") from None
        self._out.close()
        return self.process.returncode


def run(
    exe: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env or frozen_env(),
        cwd=exe.parent,
    )


def post_form(client: httpx.Client, url: str, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_token(client.get(url + "/").text)
    return client.post(url + path, data=data, headers={"x-csrftoken": token})


def query(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read the program's database beside it (WAL lets a reader in while it runs)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql, args).fetchall()


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)
