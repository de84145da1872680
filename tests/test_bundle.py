"""The PyInstaller builds (PLT-9): each one serves, runs a scheduled process, keeps its data and stops
cleanly on SIGTERM; the onedir build works as a portable install moved elsewhere (PLT-2); a
double-click starts the tray and opens the browser."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bundle_helpers import (
    EXE,
    Program,
    build_all,
    copy_onedir,
    frozen_env,
    post_form,
    query,
    run,
    wait_until,
)
from tests.xdisplay import TrayManager, xvfb, xvfb_available
from webapp import __version__

KINDS = ("onefile", "onedir")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_all(tmp_path_factory.mktemp("built"))


def test_build_outputs_carry_their_resources(built: dict[str, Path]) -> None:
    assert built["onefile"].is_file() and os.access(built["onefile"], os.X_OK)
    assert built["onedir"].is_file() and os.access(built["onedir"], os.X_OK)
    internal = built["onedir"].parent / "_internal"
    for resource in (
        "templates/base.html",
        "static/htmx.min.js",
        "translations/fr/LC_MESSAGES/messages.po",
        "webapp/store/migrations",
        "build_info.json",
    ):
        assert (internal / resource).exists(), resource
    info = json.loads((internal / "build_info.json").read_text(encoding="utf-8"))
    assert info["version"] == __version__
    assert info["build_date"][:4].isdigit()
    for kind in KINDS:
        result = run(built[kind], "--version")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"relais, version {__version__}"
        status = run(built[kind], "update", "status", "--json")
        assert json.loads(status.stdout)["kind"] == kind


def test_smoke_serves_schedules_stores_and_stops_on_sigterm(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """Both kinds side by side (the wait for the scheduler's minute is shared)."""
    programs: dict[str, tuple[Program, Path, str]] = {}
    try:
        for kind in KINDS:
            data = tmp_path / f"data-{kind}"
            program = Program(
                [str(built[kind]), "--data-dir", str(data), "serve", "--no-browser", "--port", "0"],
                tmp_path / f"{kind}.out",
                frozen_env(),
                tmp_path,
            )
            programs[kind] = (program, data, "")
        for kind, (program, data, _url) in list(programs.items()):
            url = program.wait_for_url()
            programs[kind] = (program, data, url)
            with httpx.Client(timeout=10) as client:
                home = client.get(url + "/")
                assert home.status_code == 200
                info = json.loads(
                    (built["onedir"].parent / "_internal" / "build_info.json").read_text()
                )
                assert f"Relais {__version__}" in home.text
                assert info["build_date"][:10] in home.text  # the build date, in the footer
                # Data stored through the interface …
                saved = post_form(
                    client, url, "/settings/general", {"history_retention_months": "5"}
                )
                assert saved.status_code == 200, saved.text
                # … and a process scheduled for every minute, as a user would set it.
                changed = post_form(
                    client,
                    url,
                    "/processes/database_backup",
                    {"trigger_kind": "cron", "trigger_value": "* * * * *", "enabled": "on"},
                )
                assert changed.status_code == 200, changed.text
        for kind, (_program, data, _url) in programs.items():
            database = data / "relais.sqlite"

            def backed_up(database: Path = database) -> bool:
                rows = query(
                    database,
                    "SELECT status FROM runs WHERE job_name = 'database_backup'"
                    " AND origin = 'schedule'",
                )
                return any(row[0] == "success" for row in rows)

            wait_until(backed_up, 150, f"the scheduled backup of the {kind} build")
            assert list((data / "backups").glob("relais-*.sqlite"))
    finally:
        codes = {kind: program.stop() for kind, (program, _d, _u) in programs.items()}
    for kind, (program, data, url) in programs.items():
        assert codes[kind] == 0, program.output
        assert "Finished server process" in program.output
        assert not (data / "serve.json").exists()  # removed on a clean stop
        with pytest.raises(httpx.HTTPError):
            httpx.get(url + "/healthz", timeout=2)
        assert (data / "logs" / "relais.log").is_file()
        listed = run(built[kind], "--data-dir", str(data), "settings", "list", "--json")
        assert json.loads(listed.stdout)["history_retention_months"] == 5


def _start_portable(exe: Path, tmp_path: Path, name: str, env: dict[str, str]) -> Program:
    program = Program([str(exe), "serve", "--no-browser"], tmp_path / f"{name}.out", env, tmp_path)
    program.wait_for_url()
    return program


def test_portable_onedir_moved_and_copied(built: dict[str, Path], tmp_path: Path) -> None:
    home = tmp_path / "home"  # where a non-portable install would put its data
    env = frozen_env(HOME=str(home), XDG_DATA_HOME=str(home / "share"))
    stick = tmp_path / "E" / "Relais"
    exe = copy_onedir(built, stick)
    (stick / "relais.portable").write_text("", encoding="utf-8")

    first = _start_portable(exe, tmp_path, "first", env)
    try:
        url = first.wait_for_url()
        assert "portable" in first.output
        with httpx.Client(timeout=10) as client:
            page = client.get(url + "/settings")
            assert str(stick / "data") in page.text
            assert (
                post_form(client, url, "/settings/general", {"backups_kept": "11"}).status_code
                == 200
            )
    finally:
        assert first.stop() == 0, first.output
    assert (stick / "data" / "relais.sqlite").is_file()
    assert (stick / "data" / "logs" / "relais.log").is_file()
    assert not home.exists(), "portable mode wrote outside its folder"
    vault = run(exe, "vault", "status", "--json", env=env)
    assert json.loads(vault.stdout)["backend"] == "file"  # the secrets travel with the stick

    # Another drive letter / mount point: the same stick, elsewhere.
    moved = tmp_path / "F" / "Apps" / "Relais"
    moved.parent.mkdir(parents=True)
    shutil.move(str(stick), str(moved))
    exe = moved / EXE
    # And a second copy of the same stick, running at the same time.
    twin = tmp_path / "G" / "Relais"
    shutil.copytree(moved, twin, symlinks=True)

    a = _start_portable(exe, tmp_path, "moved", env)
    b = _start_portable(twin / EXE, tmp_path, "twin", env)
    try:
        url_a, url_b = a.wait_for_url(), b.wait_for_url()
        assert url_a != url_b  # the second falls back to the next free port
        with httpx.Client(timeout=10) as client_a, httpx.Client(timeout=10) as client_b:
            page_a, page_b = client_a.get(url_a + "/settings"), client_b.get(url_b + "/settings")
            assert str(moved / "data") in page_a.text
            assert str(twin / "data") in page_b.text
            assert 'value="11"' in page_a.text  # the data came along
            cookies_a = {name for name in client_a.cookies if name.startswith("relais_")}
            cookies_b = {name for name in client_b.cookies if name.startswith("relais_")}
            assert cookies_a and cookies_b and not cookies_a & cookies_b
    finally:
        assert a.stop() == 0, a.output
        assert b.stop() == 0, b.output
    with sqlite3.connect(moved / "data" / "relais.sqlite") as db:
        value = db.execute("SELECT value FROM settings WHERE key = 'backups_kept'").fetchone()
    assert json.loads(value[0]) == 11
    assert not home.exists()


@pytest.fixture
def x_display() -> Iterator[str]:
    if not xvfb_available():
        pytest.skip("Xvfb is not installed (make xvfb)")
    with xvfb() as name:
        yield name


def test_double_click_starts_the_tray_and_opens_the_browser(
    built: dict[str, Path], tmp_path: Path, x_display: str
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    manager = TrayManager(x_display)
    env = frozen_env(
        DISPLAY=x_display, BROWSER=f"{browser} %s", RELAIS_DATA_DIR=str(tmp_path / "data")
    )
    program = Program([str(built["onedir"])], tmp_path / "tray.out", env, tmp_path)
    try:
        url = program.wait_for_url()
        icon = manager.wait_for_dock()
        assert manager.window_name(icon) == f"Relais - {url}"
        wait_until(lambda: opened.exists() and url in opened.read_text(), 30, "the browser")
    finally:
        code = program.stop(signal.SIGTERM)
        manager.close()
    assert code == 0, program.output
    assert "tray icon shown" in program.output


def test_paths_in_a_portable_data_folder_are_stored_relative(tmp_path: Path) -> None:
    from webapp.config import DataDir

    portable = DataDir(path=tmp_path / "E" / "data", portable=True)
    inside = portable.path / "deliveries" / "scrada"
    assert portable.stored_path(inside) == "deliveries/scrada"
    moved = DataDir(path=tmp_path / "F" / "data", portable=True)
    assert moved.resolve_stored("deliveries/scrada") == moved.path / "deliveries" / "scrada"
    outside = tmp_path / "compta"
    assert portable.stored_path(outside) == str(outside)
    assert moved.resolve_stored(str(outside)) == outside
    installed = DataDir(path=tmp_path / "home" / "Relais", portable=False)
    assert installed.stored_path(installed.path / "x") == str(installed.path / "x")
