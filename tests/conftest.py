"""Shared fixtures: a data folder, the services over it, an HTTP client, a real `relais serve`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

import httpx
import jinja2
import litestar.utils.signature
import pytest
from hypothesis import HealthCheck, is_hypothesis_test, settings
from litestar.testing import TestClient
from playwright.sync_api import expect

import webapp.app
from webapp import vault_format
from webapp.app import create_app
from webapp.config import DataDir, resolve_data_dir
from webapp.services import Services, open_services

REPO = Path(__file__).resolve().parent.parent
TEST_PORT = 8765

# Property-based suites (tests/test_fuzz_*.py): a few hundred examples each under `make test`,
# 100,000 under `make fuzz` (RELAIS_FUZZ_PROFILE=long). No example database: nothing is written
# into the repository, and a failure prints its own reproducing example.
settings.register_profile("short", max_examples=200, deadline=None, database=None)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("RELAIS_FUZZ_EXAMPLES", "100000")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("RELAIS_FUZZ_PROFILE", "short"))

# Playwright's assertions wait 5 s by default; a loaded 2-core CI machine can be slower than that.
expect.set_options(timeout=20_000)


# Markers by what a test uses, so that a new test is marked too (`make test-fast` leaves these out):
# a real chromium driven by Playwright, a PyInstaller bundle or wheel built for the test, child
# processes and servers (a `relais` child spends about 2 s importing before it does anything), or
# Hypothesis (a property runs a few hundred times).
BROWSER_FIXTURES = frozenset({"browser"})
BUNDLE_FIXTURES = frozenset({"built", "onefile_v2", "wheel", "installed"})
SLOW_FIXTURES = frozenset({"relais_server", "imap_server", "x_display"})
CHILD_PROCESS_HELPERS = frozenset({"relais", "RelaisServer"})
# The first bundle test includes the PyInstaller build (about 4 minutes on a loaded 2-core machine),
# too close to the 300 s default of pyproject.toml.
BUNDLE_TIMEOUT = 1200


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_scrypt: new vaults use the production scrypt cost (tests/conftest.py)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & BUNDLE_FIXTURES:
            item.add_marker(pytest.mark.bundle)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(BUNDLE_TIMEOUT))
        function = getattr(item, "function", None)
        if used & SLOW_FIXTURES or (function and _is_slow_by_nature(function)):
            item.add_marker(pytest.mark.slow)


def _is_slow_by_nature(function: Any) -> bool:
    return is_hypothesis_test(function) or _starts_relais(function.__code__, function)


def _starts_relais(code: CodeType, function: Any, seen: set[CodeType] | None = None) -> bool:
    """Whether this code calls `relais()` or `RelaisServer` or runs `python -m webapp`, itself or
    through a helper of tests/."""
    seen = set() if seen is None else seen
    if code in seen:
        return False
    seen.add(code)
    if "executable" in code.co_names and "webapp" in code.co_consts:
        return True
    names = getattr(sys.modules.get(function.__module__), "__dict__", {})
    for name in code.co_names:
        found = names.get(name)
        if name in CHILD_PROCESS_HELPERS and getattr(found, "__module__", "") == __name__:
            return True
        helper = getattr(found, "__code__", None)
        if helper and found.__module__.startswith("tests") and _starts_relais(helper, found, seen):
            return True
    nested = (const for const in code.co_consts if isinstance(const, CodeType))
    return any(_starts_relais(inner, function, seen) for inner in nested)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's real keyring or data folder from a test."""
    monkeypatch.setenv("RELAIS_VAULT_BACKEND", "file")
    monkeypatch.delenv("RELAIS_VAULT_PASSPHRASE", raising=False)
    monkeypatch.delenv("RELAIS_DATA_DIR", raising=False)


# Deriving a key at the production cost (scrypt N=2^17) takes about 0.3 s of CPU, and a vault test
# derives several. In-process tests write new vaults at N=2^10 instead; the format, versions and
# re-keying are the same. Left at the real cost: tests marked `real_scrypt` (tests/test_vault_format.py
# checks the production N) and tests that may share a vault with a child `relais`, which runs the
# production cost (every such test is marked slow, bundle or browser).
CHEAP_SCRYPT_COST = (2**10, 8, 1)
REAL_SCRYPT_MARKERS = ("real_scrypt", "slow", "bundle", "browser")


@pytest.fixture(autouse=True)
def _cheap_scrypt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if any(request.node.get_closest_marker(name) for name in REAL_SCRYPT_MARKERS):
        return
    monkeypatch.setitem(vault_format.SCRYPT_COSTS, vault_format.CURRENT_VERSION, CHEAP_SCRYPT_COST)


# Litestar resolves the type hints of every route handler each time an app is built: a third of
# `create_app`'s 0.25 s, paid again by each test's `client`. The hints of a function under the same
# names never change, so the test run resolves each once; the app built is the same.
_resolve_hints = litestar.utils.signature.get_fn_type_hints
_resolved_hints: dict[tuple[Any, frozenset[tuple[str, Any]]], dict[str, Any]] = {}


def _hints_resolved_once(fn: Any, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        key = (fn, frozenset((namespace or {}).items()))
        hash(key)
    except TypeError:  # a namespace holding something unhashable: no reuse
        return _resolve_hints(fn, namespace)
    if key not in _resolved_hints:
        _resolved_hints[key] = _resolve_hints(fn, namespace)
    return dict(_resolved_hints[key])


class _CompiledTemplates(jinja2.BytecodeCache):
    """Each app has its own Jinja environment, which compiles a template the first time it renders
    it; the test run keeps the compiled code in memory (Jinja checks it against the source)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


def _environment_sharing_compiled_templates(**options: Any) -> jinja2.Environment:
    return jinja2.Environment(**options, bytecode_cache=_compiled_templates)


@pytest.fixture(autouse=True, scope="session")
def _handler_hints_resolved_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as session_patch:
        session_patch.setattr(litestar.utils.signature, "get_fn_type_hints", _hints_resolved_once)
        session_patch.setattr(webapp.app, "Environment", _environment_sharing_compiled_templates)
        yield


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


@pytest.fixture
def services(data_dir: DataDir) -> Iterator[Services]:
    opened = open_services(data_dir)
    yield opened
    opened.close()


def csrf_token(page_html: str) -> str:
    match = re.search(r'"x-csrftoken": "([^"]+)"', page_html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


class Client(TestClient):  # type: ignore[type-arg]
    """Litestar's test client speaking to the app as a browser on 127.0.0.1 would."""

    def token(self) -> str:
        return csrf_token(self.get("/").text)

    def post_form(
        self, url: str, data: dict[str, str] | None = None, htmx: bool = True
    ) -> httpx.Response:
        headers = {"x-csrftoken": self.token()}
        if htmx:
            headers["HX-Request"] = "true"
        return self.post(url, data=data or {}, headers=headers)


@pytest.fixture
def client(services: Services) -> Iterator[Client]:
    app = create_app(services, host="127.0.0.1", port=TEST_PORT)
    with Client(app, base_url=f"http://127.0.0.1:{TEST_PORT}") as test_client:
        yield test_client


def add_error_item(
    data_dir: Path,
    *,
    reference: str = "disk",
    message: str = "The disk is full",
    params: dict[str, str] | None = None,
) -> int:
    """An unresolved error item recorded through the history API, as a real process would."""
    from webapp import history
    from webapp.store import Store

    store = Store(resolve_data_dir(data_dir).database)
    try:
        run_id = history.start_run(store, "database_backup", "schedule")
        item_id = history.add_item(
            store,
            run_id,
            "database_backup",
            kind="backup",
            status="error",
            reference=reference,
            message=message,
            params=params,
        )
        history.finish_run(store, run_id, "warning")
    finally:
        store.close()
    return item_id


def relais_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
    env.update({"RELAIS_VAULT_BACKEND": "file", "PYTHONUNBUFFERED": "1"}, **extra)
    return env


def relais(
    *args: str, data_dir: Path, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "webapp", "--data-dir", str(data_dir), *args],
        input=input,
        capture_output=True,
        text=True,
        env=relais_env(**env),
        timeout=120,
        cwd=REPO,
    )


class RelaisServer:
    """`relais serve` as a child process on a free port; stopped with SIGTERM."""

    def __init__(self, data_dir: Path, *extra_args: str, **env: str) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"serve-{time.monotonic_ns()}.out"
        self._log = open(self.log_path, "w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "webapp",
                "--data-dir",
                str(data_dir),
                "serve",
                "--no-browser",
                "--port",
                "0",
                *extra_args,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=relais_env(**env),
            cwd=REPO,
        )
        try:
            self.url = self._wait_for_url()
        except BaseException:
            self.process.kill()  # a server that failed to start must not outlive the test
            self.process.wait()
            self._log.close()
            raise

    def _wait_for_url(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"http://127\.0\.0\.1:\d+", self.output)
            if match:
                url = match.group(0)
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        return url
                except httpx.HTTPError:
                    pass
            if self.process.poll() is not None:
                raise RuntimeError(f"relais serve exited early:\n{self.output}")
            time.sleep(0.1)
        raise RuntimeError(f"relais serve did not start:\n{self.output}")

    @property
    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


@pytest.fixture
def relais_server(tmp_path: Path) -> Iterator[type[RelaisServer]]:
    started: list[RelaisServer] = []

    def start(*args: str, data_dir: Path | None = None, **env: str) -> RelaisServer:
        server = RelaisServer(data_dir or tmp_path / "server-data", *args, **env)
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.stop()


# The browser's fixtures (tests/browser_fixtures.py) and the cash registers' (tests/pos_fixtures.py),
# for every module. Imported last: those modules use this one's helpers.
from tests.browser_fixtures import browser, console, page  # noqa: E402, F401
from tests.pos_fixtures import (  # noqa: E402, F401
    joined,
    office_listener,
    office_services,
    office_ui,
    register_services,
    tokens,
    ui,
)
