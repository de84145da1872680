"""A secret stored in the vault never reaches the SQLite file, the logs, the backups or any page."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import RelaisServer, csrf_token, relais

StartServer = Callable[..., RelaisServer]
SECRET_NAME = "scrada.api_key"
PAGES = (
    "/",
    "/scrada",
    "/pos",
    "/connectors",
    "/processes",
    "/history",
    "/settings",
    "/healthz",
    "/history/export.csv",
)


def forms(value: str) -> dict[str, bytes]:
    return {
        "utf-8": value.encode("utf-8"),
        "utf-16-le": value.encode("utf-16-le"),
        "utf-16-be": value.encode("utf-16-be"),
    }


def leaks(blob: bytes, needles: dict[str, dict[str, bytes]]) -> list[str]:
    return [
        f"{what} ({encoding})"
        for what, encoded in needles.items()
        for encoding, needle in encoded.items()
        if needle in blob
    ]


def scan_files(root: Path, needles: dict[str, dict[str, bytes]]) -> tuple[list[str], set[str]]:
    """Every file under ``root`` as bytes; returns the leaks found and the files read."""
    found, read = [], set()
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        read.add(relative)
        found += [f"{relative}: {leak}" for leak in leaks(path.read_bytes(), needles)]
    return found, read


def wait_for_run(client: httpx.Client, run_id: int, bodies: dict[str, bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = client.get(f"/runs/{run_id}/progress")
        bodies[f"/runs/{run_id}/progress"] = response.content
        if 'data-status="running"' not in response.text:
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def test_a_secret_never_leaks(relais_server: StartServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    passphrase = "pass-" + secrets.token_hex(8)
    secret = "S3cr3t-" + secrets.token_hex(16)
    needles = {"secret": forms(secret), "passphrase": forms(passphrase)}
    outputs: dict[str, str] = {}
    assert leaks(b"<" + secret.encode("utf-16-le") + b">", needles) == ["secret (utf-16-le)"]

    stored = relais(
        "vault",
        "set",
        SECRET_NAME,
        data_dir=data,
        input=secret + "\n",
        RELAIS_VAULT_PASSPHRASE=passphrase,
    )
    assert stored.returncode == 0, stored.stderr
    listed = relais(
        "vault", "list", "--json", data_dir=data, input="", RELAIS_VAULT_PASSPHRASE=passphrase
    )
    assert listed.returncode == 0, listed.stderr
    # The setup really stored something: the name is visible, the value is not.
    assert SECRET_NAME in listed.stdout
    outputs.update(
        {
            "vault set stdout": stored.stdout,
            "vault set stderr": stored.stderr,
            "vault list": listed.stdout + listed.stderr,
        }
    )

    server = relais_server(data_dir=data, RELAIS_VAULT_PASSPHRASE=passphrase)
    bodies: dict[str, bytes] = {}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        health = client.get("/healthz")
        assert health.json()["vault_unlocked"] is True, "the server did not unlock the vault"
        token = csrf_token(client.get("/").text)
        run_ids = []
        for job in ("database_backup", "history_purge"):
            started = client.post(
                f"/processes/{job}/run", headers={"x-csrftoken": token, "HX-Request": "true"}
            )
            assert started.status_code == 200, started.text
            bodies[f"POST /processes/{job}/run"] = started.content
            match = re.search(r'data-run="(\d+)"', started.text)
            assert match, started.text
            run_ids.append(int(match.group(1)))
            wait_for_run(client, run_ids[-1], bodies)
        for path in (*PAGES, *(f"/runs/{run_id}" for run_id in run_ids)):
            response = client.get(path)
            assert response.status_code == 200, path
            bodies[path] = response.content
        settings_page = bodies["/settings"].decode("utf-8")
        assert "(1 " in settings_page, "the settings page should count the stored secret"
        locked = client.post(
            "/settings/vault/lock", headers={"x-csrftoken": token, "HX-Request": "true"}
        )
        bodies["POST /settings/vault/lock"] = locked.content
        unlocked = client.post(
            "/settings/vault/unlock",
            data={"passphrase": passphrase},
            headers={"x-csrftoken": token, "HX-Request": "true"},
        )
        assert unlocked.status_code == 200, unlocked.text
        bodies["POST /settings/vault/unlock"] = unlocked.content

        # While the server runs, the WAL and shared-memory files exist: read them too.
        running_leaks, running_files = scan_files(data, needles)
        assert running_leaks == []
        assert "relais.sqlite-wal" in running_files

    backup = relais("backup", str(data / "backups" / "manual.sqlite"), data_dir=data, input="")
    assert backup.returncode == 0, backup.stderr
    assert server.stop() == 0

    page_leaks = [
        f"{path}: {leak}" for path, body in bodies.items() for leak in leaks(body, needles)
    ]
    assert page_leaks == []
    output_leaks = [
        f"{name}: {leak}"
        for name, text in {**outputs, "serve output": server.output}.items()
        for leak in leaks(text.encode("utf-8"), needles)
    ]
    assert output_leaks == []
    file_leaks, files = scan_files(tmp_path, needles)
    assert file_leaks == []
    # The scan was not vacuous: the vault, the database, the log and the backups were read.
    assert {"data/vault.bin", "data/relais.sqlite", "data/logs/relais.log"} <= files
    assert "data/backups/manual.sqlite" in files
    assert any(re.fullmatch(r"data/backups/relais-[\d-]+\.sqlite", name) for name in files)
    assert (data / "vault.bin").stat().st_size > 60
