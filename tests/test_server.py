"""`relais serve` as a real child process: ports, one server per folder, Host allow-list, CSRF,
security headers, the scheduler and recovery after a crash."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, RelaisServer, csrf_token, relais, relais_env
from webapp import clock, history, job_list
from webapp.config import resolve_data_dir
from webapp.jobs import JobRunner
from webapp.sockets import PortUnavailable, bind_socket
from webapp.store import Store

StartServer = Callable[..., RelaisServer]
DATE = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def serve_once(data_dir: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """A `serve` expected to give up at once (run to completion, not as a fixture)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "webapp",
            "--data-dir",
            str(data_dir),
            "serve",
            "--no-browser",
            *args,
        ],
        capture_output=True,
        text=True,
        env=relais_env(),
        cwd=REPO,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def browser(server: RelaisServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)


def open_page(client: httpx.Client, path: str = "/") -> tuple[str, str, str]:
    """GET a page as a browser: returns (token, cookie name, cookie value)."""
    response = client.get(path)
    assert response.status_code == 200
    names = [name for name in client.cookies if name.startswith("relais_csrf_")]
    assert len(names) == 1, response.headers.get_list("set-cookie")
    return csrf_token(response.text), names[0], client.cookies[names[0]]


def run_now(client: httpx.Client, token: str, job: str = "database_backup") -> httpx.Response:
    return client.post(
        f"/processes/{job}/run", headers={"x-csrftoken": token, "HX-Request": "true"}
    )


def run_id_of(response: httpx.Response) -> int:
    match = re.search(r'data-run="(\d+)"', response.text)
    assert match, response.text
    return int(match.group(1))


def wait_for_run(client: httpx.Client, run_id: int, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.get(f"/runs/{run_id}/progress")
        status = re.search(r'data-status="(\w+)"', page.text)
        assert status, page.text
        if status.group(1) != "running":
            return status.group(1)
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still running after {timeout}s")


def db_rows(data_dir: Path, sql: str, args: list[Any] | None = None) -> list[tuple[Any, ...]]:
    store = Store(data_dir / "relais.sqlite", migrate=False)
    try:
        with store.read() as db:
            return [tuple(row) for row in db.execute(sql, args or [])]
    finally:
        store.close()


def process_card(html: str, name: str) -> str:
    match = re.search(
        rf'<article class="card process" id="process-{name}".*?</article>', html, re.S
    )
    assert match, f"no card for {name}"
    return match.group(0)


def next_run_cell(card: str) -> str:
    match = re.search(r"<dt>Prochaine exécution</dt>\s*<dd>(.*?)</dd>", card, re.S)
    assert match, card
    return match.group(1).strip()


# -- start, stop, ports ----------------------------------------------------------------------


def test_serve_on_a_free_port_in_french_and_stop_cleanly(
    relais_server: StartServer, tmp_path: Path
) -> None:
    server = relais_server()
    data = server.data_dir
    assert (data / "serve.json").is_file()
    assert server.url in (data / "serve.json").read_text(encoding="utf-8")

    health = httpx.get(server.url + "/healthz", timeout=5)
    assert health.status_code == 200
    assert health.headers["content-type"].startswith("application/json")
    assert health.json()["status"] == "ok"
    assert health.json()["vault"] == "file"

    dashboard = httpx.get(server.url + "/", timeout=5)
    assert dashboard.status_code == 200
    assert '<html lang="fr">' in dashboard.text
    assert "Tableau de bord" in dashboard.text
    assert "Relais écoute sur" in server.output

    assert server.stop() == 0
    assert "Application shutdown complete" in server.output
    assert "Traceback" not in server.output
    assert not (data / "serve.json").exists()
    assert "Application shutdown complete" in (data / "logs" / "relais.log").read_text(
        encoding="utf-8"
    )


def test_ctrl_c_stops_serve_cleanly(relais_server: StartServer) -> None:
    # Windows has no SIGTERM: a console's Ctrl+C (SIGINT) is how `relais serve` is stopped there.
    server = relais_server()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(20) == 0
    log = (server.data_dir / "logs" / "relais.log").read_text(encoding="utf-8")
    assert "Application shutdown complete" in log
    assert "Finished server process" in log
    assert "Traceback" not in server.output and "KeyboardInterrupt" not in server.output
    assert not (server.data_dir / "serve.json").exists()
    again = relais_server(data_dir=server.data_dir)  # the data folder's lock was let go
    assert again.stop() == 0


def test_bind_socket_falls_back_to_the_next_free_port(occupied_port: int) -> None:
    sock = bind_socket("127.0.0.1", occupied_port, fallback=True)
    try:
        port = sock.getsockname()[1]
        assert occupied_port < port < occupied_port + 20
    finally:
        sock.close()


def test_bind_socket_without_fallback_refuses_a_busy_port(occupied_port: int) -> None:
    with pytest.raises(PortUnavailable):
        bind_socket("127.0.0.1", occupied_port, fallback=False)


def test_bind_socket_port_zero_lets_the_system_choose() -> None:
    sock = bind_socket("127.0.0.1", 0, fallback=False)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_serve_on_an_explicit_busy_port_is_exit_2(occupied_port: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = serve_once(data, "--port", str(occupied_port))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "port" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert "écoute" not in result.stdout
    assert not (data / "serve.json").exists()


def test_one_server_per_data_folder(relais_server: StartServer) -> None:
    first = relais_server()
    second = serve_once(first.data_dir, "--port", "0")
    assert second.returncode == 2, second.stdout + second.stderr
    assert "tourne déjà" in second.stderr
    assert first.url in second.stderr
    # The first one is untouched.
    assert httpx.get(first.url + "/healthz", timeout=5).status_code == 200


def test_a_refused_second_server_keeps_the_first_ones_address(relais_server: StartServer) -> None:
    first = relais_server()
    assert serve_once(first.data_dir, "--port", "0").returncode == 2
    assert (first.data_dir / "serve.json").is_file()
    third = serve_once(first.data_dir, "--port", "0")
    assert first.url in third.stderr


# -- HTTP safety -----------------------------------------------------------------------------


def test_host_allow_list(relais_server: StartServer) -> None:
    server = relais_server()
    port = server.url.rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1:1"):
        response = httpx.get(server.url + "/healthz", headers={"Host": host}, timeout=5)
        assert response.status_code == 400, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        response = httpx.get(server.url + "/", headers={"Host": host}, timeout=5)
        assert response.status_code == 200, host


def test_csrf_is_required_for_a_post(relais_server: StartServer) -> None:
    server = relais_server()
    with browser(server) as client:
        token, cookie_name, _cookie = open_page(client)
        assert cookie_name.startswith("relais_csrf_")
        set_cookie = client.get("/healthz").headers.get("set-cookie", "")
        assert set_cookie == "", "the cookie is set once, then reused"

        without_anything = httpx.post(server.url + "/processes/database_backup/run", timeout=5)
        assert without_anything.status_code == 403
        cookie_only = client.post("/processes/database_backup/run")
        assert cookie_only.status_code == 403
        header_only = httpx.post(
            server.url + "/processes/database_backup/run",
            headers={"x-csrftoken": token},
            timeout=5,
        )
        assert header_only.status_code == 403
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        assert run_now(client, forged).status_code == 403
        assert db_rows(server.data_dir, "SELECT id FROM runs") == []

        response = run_now(client, token)
        assert response.status_code == 200, response.text
        run_id = run_id_of(response)
        assert wait_for_run(client, run_id) == "success"
    rows = db_rows(server.data_dir, "SELECT job_name, origin, status FROM runs")
    assert rows == [("database_backup", "manual", "success")]
    assert len(list((server.data_dir / "backups").glob("relais-*.sqlite"))) == 1


def test_csrf_cookie_names_differ_between_data_folders(
    relais_server: StartServer, tmp_path: Path
) -> None:
    one = relais_server(data_dir=tmp_path / "one")
    two = relais_server(data_dir=tmp_path / "two")
    names = []
    for server in (one, two):
        response = httpx.get(server.url + "/", timeout=5)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("relais_csrf_")
        assert "HttpOnly" in cookie
        assert "samesite=strict" in cookie.lower()
        names.append(cookie.split("=", 1)[0])
    assert names[0] != names[1]


def test_csrf_token_survives_a_restart(relais_server: StartServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = relais_server(data_dir=data)
    with browser(before) as client:
        token, cookie_name, cookie_value = open_page(client)
    assert before.stop() == 0
    secret = (data / "csrf.secret").read_text(encoding="ascii")

    after = relais_server(data_dir=data)
    assert (data / "csrf.secret").read_text(encoding="ascii") == secret
    response = httpx.post(
        after.url + "/processes/database_backup/run",
        headers={
            "x-csrftoken": token,
            "cookie": f"{cookie_name}={cookie_value}",
            "HX-Request": "true",
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    with browser(after) as client:
        assert wait_for_run(client, run_id_of(response)) == "success"


def assert_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    csp = response.headers.get_list("content-security-policy")
    assert len(csp) == 1, where
    assert "script-src 'self'" in csp[0], where
    assert "frame-ancestors 'none'" in csp[0], where
    assert "unsafe-inline" not in csp[0], where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where


def test_security_headers_on_pages_and_static_files(relais_server: StartServer) -> None:
    server = relais_server()
    html = {"accept": "text/html"}
    for path in ("/", "/processes", "/history", "/settings", "/scrada", "/healthz"):
        response = httpx.get(server.url + path, headers=html, timeout=5)
        assert response.status_code == 200, path
        assert_security_headers(response)
    for path in ("/static/app.css", "/static/htmx.min.js", "/static/favicon.svg", "/favicon.ico"):
        response = httpx.get(server.url + path, timeout=5)
        assert response.status_code == 200, path
        assert_security_headers(response)
    missing_run = httpx.get(server.url + "/runs/999999", headers=html, timeout=5)
    assert missing_run.status_code == 404
    assert_security_headers(missing_run)


def test_security_headers_on_error_pages(relais_server: StartServer) -> None:
    server = relais_server()
    html = {"accept": "text/html"}
    not_found = httpx.get(server.url + "/no-such-page", headers=html, timeout=5)
    assert not_found.status_code == 404
    refused = httpx.post(server.url + "/processes/database_backup/run", headers=html, timeout=5)
    assert refused.status_code == 403
    assert_security_headers(refused)
    assert_security_headers(not_found)


# -- scheduler -------------------------------------------------------------------------------


def test_processes_page_shows_the_next_run_of_enabled_processes(
    relais_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    assert relais("jobs", "list", data_dir=data, input="").returncode == 0
    store = Store(data / "relais.sqlite")
    with store.write() as db:
        db.execute("UPDATE jobs SET enabled = 0 WHERE name = 'history_purge'")
    store.close()

    server = relais_server(data_dir=data)
    with browser(server) as client:
        html = client.get("/processes").text
        assert DATE.search(next_run_cell(process_card(html, "database_backup")))
        disabled = next_run_cell(process_card(html, "history_purge"))
        assert disabled == "désactivé"

        # Enabling it again reschedules it in the running scheduler.
        token, _name, _value = open_page(client)
        response = client.post(
            "/processes/history_purge",
            data={"trigger_kind": "cron", "trigger_value": "*/5 * * * *", "enabled": "on"},
            headers={"x-csrftoken": token, "HX-Request": "true"},
        )
        assert response.status_code == 200, response.text
        assert DATE.search(next_run_cell(response.text))
        html = client.get("/processes").text
        assert DATE.search(next_run_cell(process_card(html, "history_purge")))
    assert db_rows(
        data,
        "SELECT trigger_kind, trigger_value, enabled FROM jobs WHERE name = ?",
        ["history_purge"],
    ) == [("cron", "*/5 * * * *", 1)]


def test_run_now_while_the_process_runs_answers_with_the_running_run(
    relais_server: StartServer,
) -> None:
    server = relais_server()
    store = Store(server.data_dir / "relais.sqlite")
    try:
        # Another process (a command-line run) holds the claim on the job.
        runner = JobRunner(store, resolve_data_dir(server.data_dir), job_list.registry())
        busy = runner.claim("database_backup", "command")
        assert busy is not None
        with browser(server) as client:
            token, _name, _value = open_page(client)
            response = run_now(client, token)
            assert response.status_code == 200
            assert run_id_of(response) == busy
            assert "Ce processus était déjà en cours" in response.text
            assert db_rows(server.data_dir, "SELECT id, status FROM runs") == [(busy, "running")]

            history.finish_run(store, busy, "success")
            with store.write() as db:
                db.execute("UPDATE jobs SET running_since = NULL, running_run_id = NULL")
            again = run_now(client, token)
            fresh = run_id_of(again)
            assert fresh != busy
            assert "déjà en cours" not in again.text
            assert wait_for_run(client, fresh) == "success"
    finally:
        store.close()


def test_restart_after_a_crash_interrupts_the_stale_run(
    relais_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    crashed = relais_server(data_dir=data)
    crashed.process.kill()
    crashed.process.wait(10)

    store = Store(data / "relais.sqlite")
    try:
        stale = history.start_run(store, "database_backup", "schedule")
        with store.write() as db:
            db.execute(
                "UPDATE jobs SET running_since = ?, running_run_id = ? WHERE name = ?",
                [clock.now_iso(), stale, "database_backup"],
            )
    finally:
        store.close()

    restarted = relais_server(data_dir=data)

    assert db_rows(
        data, "SELECT status, finished_at IS NOT NULL FROM runs WHERE id = ?", [stale]
    ) == [("interrupted", 1)]
    claims = db_rows(data, "SELECT running_since, running_run_id FROM jobs")
    assert len(claims) >= 2 and set(claims) == {(None, None)}
    with browser(restarted) as client:
        detail = client.get(f"/runs/{stale}")
        assert detail.status_code == 200
        assert "interrompu" in detail.text
        token, _name, _value = open_page(client)
        response = run_now(client, token)
        assert "déjà en cours" not in response.text
        assert run_id_of(response) != stale
        assert wait_for_run(client, run_id_of(response)) == "success"
    assert restarted.stop() == 0
