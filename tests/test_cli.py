"""The real command line (`python -m webapp ...`): help, backup, jobs, history, settings, vault,
data folder. Exit codes: 0 success, 1 some items failed, 2 bad usage or input, 3 credentials."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.conftest import REPO, add_error_item, relais, relais_env
from webapp import clock, history
from webapp.cli import main
from webapp.secrets import Vault
from webapp.store import Store

PASSPHRASE = "cli test passphrase"
EXPECTED_TABLES = {"settings", "jobs", "runs", "run_items", "schema_migrations"}


def cli(
    *args: str, data_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """The real CLI with a non-TTY standard input (never a prompt waiting for a keyboard)."""
    return relais(*args, data_dir=data_dir, input=stdin, **env)


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout.strip(), f"no output; stderr: {result.stderr}"
    return json.loads(result.stdout)


def open_copy(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def assert_consistent(path: Path) -> sqlite3.Connection:
    conn = open_copy(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert tables(conn) >= EXPECTED_TABLES
    return conn


# -- help ------------------------------------------------------------------------------------


def _command_paths(command: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


COMMAND_PATHS = _command_paths(main)


def test_the_click_tree_has_every_documented_command() -> None:
    expected = {
        ("serve",),
        ("backup",),
        ("jobs", "list"),
        ("jobs", "run"),
        ("history", "list"),
        ("history", "resolve"),
        ("settings", "list"),
        ("settings", "set"),
        ("vault", "status"),
        ("vault", "set"),
        ("vault", "delete"),
        ("vault", "list"),
        ("backoffice", "import"),
        ("backoffice", "export"),
        ("backoffice", "kinds"),
        ("scrada", "set"),
        ("scrada", "verify"),
        ("scrada", "pull"),
        ("scrada", "status"),
        ("scrada", "select"),
        ("scrada", "redeliver"),
        ("tray",),
        ("update", "check"),
        ("update", "apply"),
        ("update", "rollback"),
        ("update", "status"),
        ("connector", "add"),
        ("connector", "receive"),
        ("connector", "send"),
        ("pos", "register", "add"),
        ("pos", "export"),
        ("pos", "join"),
        ("pos", "sync"),
        ("pos", "sell"),
        ("pos", "update", "publish"),
        ("pos", "update", "confirm"),
    }
    assert expected <= set(COMMAND_PATHS)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "relais")
def test_help_of_every_command(path: tuple[str, ...], tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(main, ["--data-dir", str(data), *path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:")
    assert " ".join(path) in result.output.splitlines()[0]
    assert len(result.output.splitlines()) > 3
    assert not data.exists(), "--help must not open or create the data folder"


@pytest.mark.parametrize("path", [(), ("vault",), ("history", "resolve")], ids=str)
def test_help_through_the_real_process(path: tuple[str, ...], tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli(*path, "--help", data_dir=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage:")
    assert len(result.stdout.splitlines()) > 3
    assert result.stderr == ""


# -- backup ----------------------------------------------------------------------------------


def test_backup_is_a_consistent_copy_with_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = as_json(cli("jobs", "run", "database_backup", "--json", data_dir=data))
    target = tmp_path / "copies" / "relais-copy.sqlite"

    result = cli("backup", str(target), "--json", data_dir=data)

    assert result.returncode == 0, result.stderr
    out = as_json(result)
    assert out["ok"] is True
    assert Path(out["file"]).resolve() == target.resolve()
    assert out["bytes"] == target.stat().st_size > 0
    conn = assert_consistent(target)
    try:
        row = conn.execute("SELECT job_name, status FROM runs WHERE id = ?", [run["id"]]).fetchone()
        assert row == ("database_backup", "success")
        assert conn.execute("SELECT count(*) FROM run_items").fetchone()[0] >= 1
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 3
        # A standalone file: no WAL needed beside it.
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert not list(target.parent.glob(".*tmp"))


def test_backup_text_output(tmp_path: Path) -> None:
    target = tmp_path / "out.sqlite"
    result = cli("backup", str(target), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert_consistent(target).close()


def test_backup_while_another_process_writes_is_consistent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli("jobs", "list", data_dir=data).returncode == 0
    store = Store(data / "relais.sqlite")
    run_id = history.start_run(store, "database_backup", "command")
    # Enough pages that the online backup takes several steps while the writer commits.
    with store.write() as db:
        for index in range(1500):
            db.execute(
                "INSERT INTO run_items (run_id, job_name, created_at, kind, status, message)"
                " VALUES (?, 'database_backup', ?, 'filler', 'skipped', ?)",
                [run_id, clock.now_iso(), f"{index:05d}" + "x" * 1500],
            )
            db.execute("UPDATE runs SET count_skipped = count_skipped + 1 WHERE id = ?", [run_id])
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            history.add_item(store, run_id, "database_backup", kind="tick", status="done")
            written[0] += 1
            time.sleep(0.002)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        copies = []
        for number in range(2):
            target = tmp_path / f"busy-{number}.sqlite"
            result = cli("backup", str(target), "--json", data_dir=data)
            assert result.returncode == 0, result.stderr
            copies.append(target)
    finally:
        stop.set()
        thread.join(10)
        store.close()
    assert written[0] > 0, "the writer never wrote: the test proves nothing"
    seen = []
    for target in copies:
        conn = assert_consistent(target)
        try:
            # Each item and its run's counter are written in one transaction: a torn copy differs.
            counts = conn.execute(
                "SELECT count_done, count_skipped FROM runs WHERE id = ?", [run_id]
            ).fetchone()
            items = conn.execute(
                "SELECT sum(status = 'done'), sum(status = 'skipped') FROM run_items"
                " WHERE run_id = ?",
                [run_id],
            ).fetchone()
        finally:
            conn.close()
        assert tuple(counts) == tuple(items)
        assert counts[1] == 1500
        seen.append(counts[0])
    assert seen == sorted(seen)


def test_backup_to_a_path_under_a_file_fails_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("I am a file", encoding="utf-8")
    target = blocker / "out.sqlite"

    result = cli("backup", str(target), "--json", data_dir=data)

    assert result.returncode == 2, result.stderr
    out = as_json(result)
    assert out["ok"] is False
    assert "not-a-folder" in out["error"]
    assert "Traceback" not in result.stderr
    assert blocker.read_text(encoding="utf-8") == "I am a file"

    text = cli("backup", str(target), data_dir=data)
    assert text.returncode == 2
    assert text.stderr.startswith("Erreur")
    assert "Traceback" not in text.stderr


def test_backup_onto_a_folder_is_bad_usage(tmp_path: Path) -> None:
    folder = tmp_path / "folder.sqlite"
    folder.mkdir()
    result = cli("backup", str(folder), data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert "folder.sqlite" in result.stderr
    assert list(folder.iterdir()) == []


def _unwritable_folder(tmp_path: Path) -> Path:
    if sys.platform.startswith("linux"):
        return Path("/proc")  # no file can be created there, even by root
    if os.name == "posix" and os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    pytest.skip("no unwritable folder available on this system")


def test_backup_to_an_unwritable_folder_is_exit_2(tmp_path: Path) -> None:
    folder = _unwritable_folder(tmp_path)
    target = folder / f"relais-test-{os.getpid()}.sqlite"
    result = cli("backup", str(target), "--json", data_dir=tmp_path / "data")
    assert not target.exists()
    assert not (folder / f".{target.name}.tmp").exists()
    assert result.returncode == 2, result.stderr
    assert as_json(result)["ok"] is False
    assert "Traceback" not in result.stderr


# -- jobs ------------------------------------------------------------------------------------


def test_jobs_list_json(tmp_path: Path) -> None:
    result = cli("jobs", "list", "--json", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in as_json(result)}
    assert {"history_purge", "database_backup"} <= set(rows)
    assert rows["database_backup"]["trigger"] == "cron 0 2 * * *"
    assert rows["history_purge"]["trigger"] == "cron 30 3 * * *"
    for row in rows.values():
        assert row["enabled"] is True
        assert row["running"] is False
        assert row["last_run"] is None


def test_jobs_run_database_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("jobs", "run", "database_backup", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    run = as_json(result)
    assert run["status"] == "success"
    assert run["job"] == "database_backup"
    assert run["counts"]["done"] == 1
    copies = list((data / "backups").glob("relais-*.sqlite"))
    assert len(copies) == 1
    assert_consistent(copies[0]).close()
    listed = {row["name"]: row for row in as_json(cli("jobs", "list", "--json", data_dir=data))}
    assert listed["database_backup"]["last_run"]["id"] == run["id"]
    assert listed["database_backup"]["last_run"]["status"] == "success"
    assert listed["database_backup"]["running"] is False


def test_jobs_run_text_output(tmp_path: Path) -> None:
    result = cli("jobs", "run", "history_purge", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("success:")


def test_jobs_run_unknown_is_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("jobs", "run", "nope", data_dir=data)
    assert result.returncode == 2
    assert "Processus inconnu" in result.stderr
    assert "Traceback" not in result.stderr
    out = cli("jobs", "run", "nope", "--json", data_dir=data)
    assert out.returncode == 2
    assert as_json(out)["ok"] is False


def test_failing_job_is_exit_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "backups").write_text("a file where the backups folder should be", encoding="utf-8")

    result = cli("jobs", "run", "database_backup", "--json", data_dir=data)

    assert result.returncode == 1, result.stderr
    run = as_json(result)
    assert run["status"] == "failed"
    assert "backups" in run["message"]
    listed = {row["name"]: row for row in as_json(cli("jobs", "list", "--json", data_dir=data))}
    # The failed run released its claim: the next trigger can run.
    assert listed["database_backup"]["running"] is False
    assert listed["database_backup"]["last_run"]["status"] == "failed"


# -- history ---------------------------------------------------------------------------------


def test_history_list_after_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = as_json(cli("jobs", "run", "database_backup", "--json", data_dir=data))
    second = as_json(cli("jobs", "run", "history_purge", "--json", data_dir=data))

    result = cli("history", "list", "--json", data_dir=data)

    assert result.returncode == 0, result.stderr
    items = as_json(result)
    assert {item["run_id"] for item in items} == {first["id"], second["id"]}
    assert {item["kind"] for item in items} == {"backup", "history"}
    assert all(item["status"] == "done" for item in items)
    assert items[0]["run_id"] == second["id"], "newest first"
    only = as_json(cli("history", "list", "--job", "database_backup", "--json", data_dir=data))
    assert [item["job"] for item in only] == ["database_backup"]
    assert cli("history", "list", "--status", "bogus", data_dir=data).returncode == 2


def test_history_resolve(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = as_json(cli("jobs", "run", "database_backup", "--json", data_dir=data))
    done_item = next(
        item
        for item in as_json(cli("history", "list", "--json", data_dir=data))
        if item["run_id"] == done["id"]
    )
    error_id = add_error_item(data)

    missing = cli("history", "resolve", str(error_id), data_dir=data)
    assert missing.returncode == 2
    assert "--justification" in missing.stderr

    not_error = cli(
        "history", "resolve", str(done_item["id"]), "--justification", "fine", data_dir=data
    )
    assert not_error.returncode == 2
    assert "Traceback" not in not_error.stderr
    assert not_error.stderr.strip()

    too_short = cli("history", "resolve", str(error_id), "--justification", " ", data_dir=data)
    assert too_short.returncode == 2

    unresolved = as_json(cli("history", "list", "--status", "unresolved", "--json", data_dir=data))
    assert [item["id"] for item in unresolved] == [error_id]

    result = cli(
        "history",
        "resolve",
        str(error_id),
        "--justification",
        "Disk replaced, backup redone",
        "--by",
        "Alice",
        "--json",
        data_dir=data,
    )
    assert result.returncode == 0, result.stderr
    out = as_json(result)
    assert out["ok"] is True
    assert out["id"] == error_id
    assert out["resolved_at"]

    assert as_json(cli("history", "list", "--status", "unresolved", "--json", data_dir=data)) == []
    errors = as_json(cli("history", "list", "--status", "error", "--json", data_dir=data))
    assert [(item["id"], item["resolution"]) for item in errors] == [
        (error_id, "Disk replaced, backup redone")
    ]
    again = cli(
        "history", "resolve", str(error_id), "--justification", "twice", "--json", data_dir=data
    )
    assert again.returncode == 2
    assert as_json(again)["ok"] is False
    assert (
        cli("history", "resolve", "999999", "--justification", "gone", data_dir=data).returncode
        == 2
    )


def test_history_resolve_refuses_what_it_cannot_keep_whole(tmp_path: Path) -> None:
    data = tmp_path / "data"
    error_id = add_error_item(data)
    too_long = "x" * (history.JUSTIFICATION_MAX + 1)
    refused = cli(
        "history", "resolve", str(error_id), "--justification", too_long, "--json", data_dir=data
    )
    assert refused.returncode == 2
    assert "2000" in as_json(refused)["error"]
    long_name = cli(
        "history",
        "resolve",
        str(error_id),
        "--justification",
        "Checked",
        "--by",
        "A" * 101,
        data_dir=data,
    )
    assert long_name.returncode == 2 and "100" in long_name.stderr
    assert "Traceback" not in long_name.stderr
    unresolved = as_json(cli("history", "list", "--status", "unresolved", "--json", data_dir=data))
    assert [item["id"] for item in unresolved] == [error_id]


# -- settings --------------------------------------------------------------------------------


def test_settings_set_and_list(tmp_path: Path) -> None:
    data = tmp_path / "data"
    refused = cli("settings", "set", "history_retention_months", "0", data_dir=data)
    assert refused.returncode == 2
    assert refused.stderr.strip()
    assert "Traceback" not in refused.stderr
    assert cli("settings", "set", "history_retention_months", "abc", data_dir=data).returncode == 2
    assert cli("settings", "set", "no_such_key", "1", data_dir=data).returncode == 2
    assert (
        as_json(cli("settings", "list", "--json", data_dir=data))["history_retention_months"] == 2
    )

    result = cli("settings", "set", "history_retention_months", "6", "--json", data_dir=data)

    assert result.returncode == 0, result.stderr
    assert as_json(result) == {"ok": True, "history_retention_months": 6}
    values = as_json(cli("settings", "list", "--json", data_dir=data))
    assert values["history_retention_months"] == 6
    assert values["language"] == "fr"
    assert "install_id" not in values


# -- vault -----------------------------------------------------------------------------------


def test_vault_cli_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    value = "api-key-Zx81-été"
    assert not (data / "vault.bin").exists()

    locked = cli("vault", "list", data_dir=data)
    assert locked.returncode == 3
    assert "RELAIS_VAULT_PASSPHRASE" in locked.stderr

    stored = cli(
        "vault",
        "set",
        "scrada.api_key",
        "--json",
        data_dir=data,
        stdin=value + "\n",
        RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )
    assert stored.returncode == 0, stored.stderr
    assert as_json(stored) == {"ok": True, "name": "scrada.api_key"}
    assert (data / "vault.bin").is_file(), "the first set creates the file vault"
    assert value not in stored.stdout + stored.stderr

    # The value went in as typed (without the newline), under that passphrase.
    vault = Vault(data, service="unused", backend="file")
    vault.unlock(PASSPHRASE)
    assert vault.get("scrada.api_key") == value

    listed = cli("vault", "list", "--json", data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)
    assert listed.returncode == 0, listed.stderr
    assert as_json(listed) == ["scrada.api_key"]
    assert value not in listed.stdout

    status = as_json(cli("vault", "status", "--json", data_dir=data))
    assert status == {"backend": "file", "initialized": True, "unlocked": False}

    wrong = cli("vault", "list", data_dir=data, RELAIS_VAULT_PASSPHRASE="not the passphrase")
    assert wrong.returncode == 3
    assert "Traceback" not in wrong.stderr
    wrong_json = cli(
        "vault", "list", "--json", data_dir=data, RELAIS_VAULT_PASSPHRASE="not the passphrase"
    )
    assert wrong_json.returncode == 3
    assert as_json(wrong_json)["ok"] is False

    no_passphrase = cli("vault", "set", "other", data_dir=data, stdin="x")
    assert no_passphrase.returncode == 3
    assert "RELAIS_VAULT_PASSPHRASE" in no_passphrase.stderr

    empty = cli(
        "vault", "set", "other", data_dir=data, stdin="", RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    assert empty.returncode == 2

    deleted = cli(
        "vault",
        "delete",
        "scrada.api_key",
        "--json",
        data_dir=data,
        RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )
    assert deleted.returncode == 0, deleted.stderr
    assert as_json(deleted) == {"ok": True, "deleted": True}
    again = cli(
        "vault",
        "delete",
        "scrada.api_key",
        "--json",
        data_dir=data,
        RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )
    assert as_json(again) == {"ok": True, "deleted": False}
    empty_list = cli("vault", "list", "--json", data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)
    assert as_json(empty_list) == []


def test_vault_refuses_a_short_new_passphrase(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("vault", "set", "x", data_dir=data, stdin="value", RELAIS_VAULT_PASSPHRASE="short")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert not (data / "vault.bin").exists()


# -- data folder -----------------------------------------------------------------------------


def test_data_dir_option_creates_the_folder(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "er" / "data"
    result = cli("settings", "list", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    assert (data / "relais.sqlite").is_file()
    assert (data / "logs").is_dir()


def _bare_relais(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI without --data-dir (relais_env drops every RELAIS_* variable of the test run)."""
    return subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        input="",
        capture_output=True,
        text=True,
        env=relais_env(**env),
        cwd=cwd,
        timeout=60,
    )


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    from_env = tmp_path / "from-env" / "data"
    result = _bare_relais(
        "settings", "list", cwd=REPO, RELAIS_DATA_DIR=str(from_env), XDG_DATA_HOME=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert (from_env / "relais.sqlite").is_file()

    option = tmp_path / "from-option"
    result = subprocess.run(
        [sys.executable, "-m", "webapp", "--data-dir", str(option), "settings", "list"],
        input="",
        capture_output=True,
        text=True,
        env=relais_env(RELAIS_DATA_DIR=str(tmp_path / "ignored")),
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (option / "relais.sqlite").is_file(), "--data-dir wins over RELAIS_DATA_DIR"
    assert not (tmp_path / "ignored").exists()


def test_portable_mode_keeps_the_data_beside_the_program(tmp_path: Path) -> None:
    program = tmp_path / "Relais portable"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("webapp", "templates", "static", "translations"):
        shutil.copytree(REPO / folder, program / folder, ignore=ignore)
    (program / "relais.portable").touch()
    user_data = tmp_path / "xdg-data"

    result = _bare_relais(
        "backup", "out.sqlite", "--json", cwd=program, XDG_DATA_HOME=str(user_data)
    )

    assert result.returncode == 0, result.stderr
    out = as_json(result)
    assert (program / out["file"]).resolve() == (program / "out.sqlite").resolve()
    assert (program / "data" / "relais.sqlite").is_file()
    assert (program / "data" / "logs").is_dir()
    assert not user_data.exists(), "portable mode must not touch the user data folder"
    assert not (REPO / "data").exists()
    conn = assert_consistent(program / "out.sqlite")
    conn.close()


def test_history_runs_and_show_list_page_tasks_too(tmp_path: Path) -> None:
    from webapp.config import resolve_data_dir
    from webapp.services import open_services

    data = tmp_path / "data"
    done = as_json(cli("jobs", "run", "database_backup", "--json", data_dir=data))
    services = open_services(resolve_data_dir(str(data)))
    try:
        # A page's task under way in a live process (this one), as the Import page leaves it.
        task_id = services.tasks.claim(
            "backoffice_analysis", {"kind": "articles"}, subject="articles", origin="manual"
        )
    finally:
        services.close()

    runs = {run["id"]: run for run in as_json(cli("history", "runs", "--json", data_dir=data))}
    assert runs[task_id]["job"] == "backoffice_analysis"
    assert runs[task_id]["status"] == "running" and runs[task_id]["subject"] == "articles"
    assert runs[done["id"]]["status"] == "success"
    only = as_json(cli("history", "runs", "--job", "database_backup", "--json", data_dir=data))
    assert [run["id"] for run in only] == [done["id"]]
    shown = as_json(cli("history", "show", str(done["id"]), "--json", data_dir=data))
    assert shown["status"] == "success" and shown["items"][0]["status"] == "done"
    missing = cli("history", "show", "999999", data_dir=data)
    assert missing.returncode == 2 and "999999" in missing.stderr
