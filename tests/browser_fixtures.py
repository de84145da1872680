"""The browser every browser test drives: Debian's chromium through Playwright, one per test
module, a French page with the CSP listener for each test, and its console watched for errors.

tests/conftest.py imports the fixtures (browser, page, console) for every module; a module that
needs another locale or context defines its own `page`.

No skip when chromium is missing: `make test` installs it, so its absence must fail loudly.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000  # generous: a loaded CI machine may be slow to start a job thread

# Reported in the page itself: a CSP violation shows even if Chrome's console wording changes.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: run `make chromium` (Debian package chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """Everything the page reported as an error: console.error, uncaught exceptions, CSP."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.expected_statuses: dict[str, int] = {}
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def expect_status(self, url_pattern: str, status: int) -> None:
        """A refusal the test provokes on purpose (e.g. a 422 form) is not a console error."""
        self.expected_statuses[url_pattern] = status

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "assert"):
            if "Content Security Policy" in message.text:
                self.errors.append(f"{message.type}: {message.text}")
            return
        location = message.location.get("url", "")
        for pattern, status in self.expected_statuses.items():
            if (
                re.search(pattern, location)
                and f"status of {status}" in message.text
                and message.text.startswith("Failed to load resource")
            ):
                return
        self.errors.append(f"{message.type}: {message.text} ({location})")

    def assert_clean(self) -> None:
        assert not self.errors, "browser console errors:\n" + "\n".join(self.errors)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-BE")
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def console(page: Page) -> Console:
    return Console(page)


def go(page: Page, locator: Locator) -> None:
    """Click something that loads a whole page (link, plain form) and wait for that page."""
    with page.expect_navigation():
        locator.click()
