"""The installed package works on its own: a wheel built from the checkout, installed into a fresh
virtual environment outside it, serves its pages, static files and translations.

Every other test runs from an editable install, which finds templates/ beside webapp/; this one is the
only check that the wheel carries what a run needs (it once carried the migrations alone).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent

SERVE = ("--no-browser", "--port", "0")

pytestmark = pytest.mark.timeout(900)


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, REPO, cwd=REPO)
    (path,) = out.glob("relais-*.whl")
    return path, built.stdout + built.stderr


@pytest.fixture(scope="module")
def installed(wheel: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with only the wheel (and its dependencies) in it."""
    place = tmp_path_factory.mktemp("venv")
    venv = place / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=place)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel[0], cwd=place)
    return venv


def test_the_wheel_carries_templates_static_translations_and_migrations(
    wheel: tuple[Path, str],
) -> None:
    names = zipfile.ZipFile(wheel[0]).namelist()
    for expected in (
        "webapp/_resources/templates/base.html",
        "webapp/_resources/templates/platform/dashboard.html",
        "webapp/_resources/static/htmx.min.js",
        "webapp/_resources/translations/fr/LC_MESSAGES/messages.po",
        "webapp/store/migrations/0001_settings.sql",
    ):
        assert expected in names, expected
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/"))]


def test_the_build_gives_no_deprecation_warning(wheel: tuple[Path, str]) -> None:
    assert "deprecat" not in wheel[1].lower(), wheel[1]


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "serve.out"
    with log.open("w") as out:
        process = subprocess.Popen(
            [installed / "bin" / "relais", "--data-dir", tmp_path / "data", "serve", *SERVE],
            cwd=tmp_path,  # not the checkout: nothing may be found through the current folder
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RELAIS_VAULT_BACKEND": "file"},
        )
        try:
            yield _wait_for_url(process, log)
        finally:
            process.terminate()
            process.wait(30)


def _wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"http://127\.0\.0\.1:\d+", log.read_text())
        if match:
            try:
                if httpx.get(match.group(0) + "/healthz", timeout=2).status_code == 200:
                    return match.group(0)
            except httpx.HTTPError:
                pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"relais serve did not start:\n{log.read_text()}")


def test_the_installed_program_serves_pages_static_files_and_french(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        dashboard = client.get("/")
        assert dashboard.status_code == 200, dashboard.text[:500]
        assert "Tableau de bord" in dashboard.text  # the French catalog was found
        articles = client.get("/articles")
        assert articles.status_code == 200, articles.text[:500]
        htmx = client.get("/static/htmx.min.js")
        assert htmx.status_code == 200
        assert len(htmx.content) > 40_000
