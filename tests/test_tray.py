"""`relais tray`: the icon under a real X server (Xvfb), its actions, and the fallback to serve."""

from __future__ import annotations

import gc
import os
import signal
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bundle_helpers import Program
from tests.conftest import REPO, relais_env
from tests.xdisplay import TrayManager, xvfb, xvfb_available
from webapp import history_queries, server
from webapp.services import Services

pytestmark = pytest.mark.skipif(not xvfb_available(), reason="Xvfb is not installed (make xvfb)")


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    with xvfb() as name:
        yield name


def fake_browser(folder: Path) -> tuple[str, Path]:
    """A BROWSER command that records the address it is asked to open."""
    opened = folder / "opened.txt"
    script = folder / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return f"{script} %s", opened


def wait_for(predicate: object, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def check_tray_session(
    command: list[str], tmp_path: Path, x_display: str, env: dict[str, str], sig: int
) -> Program:
    """Start with a tray manager present: the icon docks, a click opens the browser, a signal stops."""
    browser, opened = fake_browser(tmp_path)
    manager = TrayManager(x_display)
    try:
        launched = Program(
            command,
            tmp_path / "tray.out",
            {**env, "DISPLAY": x_display, "BROWSER": browser},
            REPO,
        )
        try:
            url = launched.wait_for_url()
            icon = manager.wait_for_dock()
            assert manager.window_name(icon) == f"Relais - {url}"
            # A click runs the default action, Open (--no-browser: nothing else opens it). Clicked
            # again every few seconds, as a user would, in case one lands before the loop runs.
            deadline = time.monotonic() + 60
            while not (opened.exists() and url in opened.read_text()):
                assert time.monotonic() < deadline, "a click on the icon did not open the browser"
                manager.click(icon)
                for _ in range(30):
                    if opened.exists():
                        break
                    time.sleep(0.1)
        finally:
            code = launched.stop(sig)
        assert code == 0, launched.output
        assert "tray icon shown" in launched.output
        assert "tray stopped" in launched.output
        with pytest.raises(httpx.HTTPError):
            httpx.get(url + "/healthz", timeout=2)
        return launched
    finally:
        manager.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_tray_docks_opens_the_browser_and_stops_on_signal(
    tmp_path: Path, x_display: str, sig: int
) -> None:
    command = [sys.executable, "-m", "webapp", "--data-dir", str(tmp_path / "data")]
    check_tray_session(
        [*command, "tray", "--no-browser", "--port", "0"],
        tmp_path,
        x_display,
        relais_env(),
        sig,
    )


def test_without_a_display_tray_runs_as_serve_and_says_so(tmp_path: Path) -> None:
    env = {key: value for key, value in relais_env().items() if key != "DISPLAY"}
    command = [sys.executable, "-m", "webapp", "--data-dir", str(tmp_path / "data"), "tray"]
    launched = Program([*command, "--no-browser", "--port", "0"], tmp_path / "out", env, REPO)
    try:
        url = launched.wait_for_url()
        assert httpx.get(url + "/", timeout=5).status_code == 200
    finally:
        code = launched.stop()
    assert code == 0, launched.output
    # French by default: "Pas de bureau ici : Relais fonctionne sans icône … (no DISPLAY)."
    assert "Relais fonctionne sans icône" in launched.output
    assert "(no DISPLAY)" in launched.output
    assert "tray icon shown" not in launched.output


def test_menu_actions(
    services: Services, x_display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each menu item of the real pystray menu does what it says, on the running services."""
    monkeypatch.setenv("DISPLAY", x_display)
    browser, opened = fake_browser(tmp_path)
    monkeypatch.setenv("BROWSER", browser)
    from webapp import tray

    prepared = server.prepare(
        services,
        server.ServeOptions(
            host="127.0.0.1", port=0, fallback=False, open_browser=False, extra_hosts=[]
        ),
        announce=lambda url: None,
    )
    try:
        icon_tray = tray.Tray(services, prepared)
        icon = icon_tray.build_icon()
        items = {str(item.text): item for item in icon.menu.items if str(item.text)}
        labels = list(items)
        assert labels[:2] == ["Ouvrir Relais", "Synchroniser maintenant"]
        assert labels[-1] == "Quitter"
        assert items["Ouvrir Relais"].default

        items["Ouvrir Relais"](icon)
        wait_for(lambda: opened.exists() and prepared.url in opened.read_text(), what="browser")

        # Pause, then resume: the scheduler follows, and the choice is kept for the next start.
        pause = next(item for item in icon.menu.items if "pause" in str(item.text).lower())
        assert str(pause.text) == "Mettre en pause les traitements"
        pause(icon)
        assert services.runner.paused
        assert str(pause.text) == "Reprendre les traitements"
        pause(icon)
        assert not services.runner.paused

        # Sync now: every enabled data process starts (not the housekeeping ones).
        before = {run["id"] for run in history_queries.recent_runs(services.store, limit=100)}
        items["Synchroniser maintenant"](icon)
        expected = {
            row["name"]
            for row in services.runner.definitions()
            if row["enabled"] and row["name"] not in tray.NOT_SYNC
        }
        assert expected, "no data process is registered"

        def started() -> set[str]:
            runs = history_queries.recent_runs(services.store, limit=100)
            return {run["job_name"] for run in runs if run["id"] not in before}

        wait_for(lambda: started() == expected, what="the sync runs")
        runs = history_queries.recent_runs(services.store, limit=100)
        assert {run["origin"] for run in runs if run["id"] not in before} == {"manual"}

        items["Quitter"](icon)
        assert prepared.server.should_exit
        # Let the icon close its X connection while the X server still runs.
        del icon, items, pause, icon_tray
        gc.collect()
    finally:
        prepared.stop()
        for sock in prepared.sockets:
            sock.close()
        os.environ.pop("BROWSER", None)
