"""Screenshots of each main page, in French and Dutch, for docs/screens/ (`make screens`).

Starts a demo office (`relais serve --demo`, with its registers' API) and a register joined to it,
each in a temporary data folder, then drives Debian's chromium through Playwright over the pages a
shopkeeper or bookkeeper uses. The files are written as docs/screens/<language>/<page>.png, so a
change to a page shows in the documentation's diff.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
LANGUAGES = ("fr", "nl")
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}
START_TIMEOUT_S = 60.0
PAGE_TIMEOUT_MS = 20_000
# The demo's vault: a file in the temporary data folder, opened without a terminal.
ENV = {**os.environ, "RELAIS_VAULT_BACKEND": "file", "RELAIS_VAULT_PASSPHRASE": "screens-demo"}

# (file name, path) of the office's main pages, in the menu's order.
OFFICE_PAGES = (
    ("dashboard", "/"),
    ("articles", "/articles"),
    ("customers", "/customers"),
    ("documents", "/documents"),
    ("import", "/backoffice/files"),
    ("scrada", "/scrada"),
    ("registers", "/pos"),
    ("connectors", "/connectors"),
    ("processes", "/processes"),
    ("history", "/history"),
    ("settings", "/settings"),
)
# The register's own pages.
REGISTER_PAGES = (
    ("register-sell", "/pos/sell"),
    ("register-status", "/pos/register"),
)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path


def relais() -> str:
    found = shutil.which("relais", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("relais is not installed in this Python's environment: run `make install`")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [relais(), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=ENV,
    )
    if done.returncode != 0:
        raise SystemExit(f"relais {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


@contextmanager
def serve(data_dir: Path, *args: str) -> Iterator[Server]:
    serve_file = data_dir / "serve.json"
    log = data_dir.with_suffix(".log").open("wb")
    process = subprocess.Popen(
        [relais(), "--data-dir", str(data_dir), "serve", "--no-browser", "--port", "0", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not serve_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = data_dir.with_suffix(".log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"relais serve did not start in {data_dir}: {error}")
            time.sleep(0.2)
        url = json.loads(serve_file.read_text(encoding="utf-8"))["url"]
        yield Server(process, url, data_dir)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def join_register(office: Path, register: Path, pos_port: int) -> None:
    """Register 1 of the demo office, joined from a second data folder (the CLI's own path)."""
    added = json.loads(run_cli(office, "pos", "register", "add", "1", "--json"))
    token = added["token"]
    run_cli(
        register,
        "pos",
        "join",
        "--server",
        f"http://127.0.0.1:{pos_port}",
        "--register",
        "1",
        "--token",
        token,
    )
    run_cli(register, "pos", "sync")


def shoot(browser: Browser, server: Server, pages: tuple[tuple[str, str], ...]) -> None:
    for language in LANGUAGES:
        context = browser.new_context(viewport=VIEWPORT, locale=f"{language}-BE")
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        switch_language(page, server.url, language)
        folder = OUT / language
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in pages:
            page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            print(f"docs/screens/{language}/{name}.png")
        context.close()


def switch_language(page: Page, url: str, language: str) -> None:
    """The language switch a user clicks (its cookie is HttpOnly: set through the page)."""
    page.goto(url + "/")
    switch = page.locator(f"form[action='/language'] [name='language'][value='{language}']")
    if not switch.count():
        raise SystemExit(f"the language switch offers no {language!r}")
    with page.expect_navigation():
        switch.first.click()
    page.wait_for_load_state("networkidle")
    shown = page.locator("html").get_attribute("lang")
    if shown != language:  # a screenshot in the wrong language must not pass for the right one
        raise SystemExit(f"the pages stay in {shown!r} after choosing {language!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    options = parser.parse_args()
    if not options.chromium:
        raise SystemExit("chromium is not installed: run `make chromium`")
    with tempfile.TemporaryDirectory(prefix="relais-screens-") as tmp:
        office, register = Path(tmp) / "office", Path(tmp) / "register"
        pos_port = free_port()
        with (
            serve(office, "--demo", "--pos-listen", f"127.0.0.1:{pos_port}") as office_server,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=options.chromium, args=["--headless", "--no-sandbox"]
            )
            join_register(office, register, pos_port)
            shoot(browser, office_server, OFFICE_PAGES)
            with serve(register, "--role", "register") as register_server:
                shoot(browser, register_server, REGISTER_PAGES)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
