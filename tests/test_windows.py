"""Windows behaviours, run here through the webapp.windows seam (docs/windows.md).

Each test emulates the one thing Windows does differently (a file held open, a flush refused on
a read-only handle, no stdout in a windowed build) and runs the real code's Windows branch.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import httpx
import platformdirs
import pytest

from tests.conftest import REPO, relais_env
from webapp import config, logs, server, tray, windows
from webapp.config import DataDir
from webapp.store import Store


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> Msvcrt:
    """The Windows branches, with msvcrt's file locks (every Store write takes two of them)."""
    monkeypatch.setattr(windows, "IS_WINDOWS", True)
    fake = Msvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    return fake


@pytest.fixture
def windows_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' fsync (FlushFileBuffers) needs a handle with write access: EBADF otherwise."""
    real: Callable[[int], None] = os.fsync

    def fsync(fd: int) -> None:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.usefixtures("on_windows", "windows_fsync")
def test_database_backup_on_windows_while_the_old_backup_is_held_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "relais.sqlite")
    try:
        with store.write() as db:
            db.execute("CREATE TABLE t (x)")
            db.execute("INSERT INTO t VALUES (42)")
        target = tmp_path / "backups" / "relais.sqlite"
        target.parent.mkdir()
        target.write_bytes(b"the previous backup")
        real_replace = os.replace
        refusals = [PermissionError(13, "held by the antivirus")]

        def replace(source: Any, dest: Any) -> None:
            if refusals:
                raise refusals.pop()
            real_replace(source, dest)

        monkeypatch.setattr(os, "replace", replace)
        store.backup(target)
    finally:
        store.close()
    assert sorted(p.name for p in target.parent.iterdir()) == ["relais.sqlite"]
    copy = Store(target, migrate=False)
    try:
        with copy.read() as db:
            assert [tuple(row) for row in db.execute("SELECT x FROM t")] == [(42,)]
    finally:
        copy.close()


# -- the tray: Ctrl+C and Ctrl+Break while the main thread sits in C code ---------------------


class BlockedPrepared:
    """The server's stand-in: run() serves until stop(), like uvicorn in its thread."""

    url = "http://127.0.0.1:1"

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def run(self) -> None:
        self.stopped.wait(30)

    def stop(self) -> None:
        self.stopped.set()


class GetMessageIcon:
    """pystray's Windows loop: the main thread waits in C (GetMessage) and runs no Python signal
    handler until a window message arrives. Here the wait is an Event with the stop signals
    blocked for this thread, so only another thread can notice them."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.visible = False

    def run(self, setup: Callable[[Any], None]) -> None:
        threading.Thread(target=setup, args=(self,), daemon=True).start()
        blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGTTIN}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            self.stopped.wait(10)  # no message ever comes: only stop() ends this
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def stop(self) -> None:
        self.stopped.set()

    def update_menu(self) -> None:
        pass


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGTTIN], ids=["ctrl-c", "sigterm", "ctrl-break"]
)
def test_tray_stops_at_once_on_a_signal_while_its_loop_is_in_c(
    sig: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Linux has no SIGBREAK: number 21 (SIGTTIN here) stands in for it, through the Windows list.
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGTTIN, raising=False)
    monkeypatch.setattr(windows, "IS_WINDOWS", True)
    icon, prepared = GetMessageIcon(), BlockedPrepared()

    def build_icon(self: tray.Tray) -> GetMessageIcon:
        self.icon = icon
        return icon

    monkeypatch.setattr(tray.Tray, "build_icon", build_icon)
    previous_int = signal.getsignal(signal.SIGINT)

    def when_ready(_tray: tray.Tray) -> None:
        os.kill(os.getpid(), sig)

    started = time.monotonic()
    tray.run(cast(Any, None), cast(Any, prepared), on_ready=when_ready)
    assert icon.stopped.is_set() and prepared.stopped.is_set()
    assert time.monotonic() - started < 5, "the signal waited for the icon's loop"
    assert signal.getsignal(signal.SIGINT) is previous_int  # handlers are put back
    assert signal.getsignal(signal.SIGTTIN) == signal.SIG_DFL


def test_stop_signals_include_ctrl_break_where_it_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    assert windows.stop_signals() == (signal.SIGINT, signal.SIGTERM)
    monkeypatch.setattr(signal, "SIGBREAK", 21, raising=False)
    assert windows.stop_signals() == (signal.SIGINT, signal.SIGTERM, 21)


# -- one server per data folder: the msvcrt lock ----------------------------------------------


class Msvcrt(types.ModuleType):
    """msvcrt.locking with Windows' rules, over flock (which, like a Windows lock, belongs to the
    open file, so two handles in one process exclude each other): LK_NBLCK fails at once with
    EACCES, the range starts at the current position, and the calls are recorded."""

    LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

    def __init__(self) -> None:
        super().__init__("msvcrt")
        self.calls: list[tuple[str, int]] = []  # (mode, position); lseek fails on a closed fd

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        assert nbytes == 1
        position = os.lseek(fd, 0, os.SEEK_CUR)
        self.calls.append(("unlock" if mode == self.LK_UNLCK else "lock", position))
        if mode == self.LK_UNLCK:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PermissionError(errno.EACCES, "Permission denied") from None


def test_serve_lock_on_windows(tmp_path: Path, on_windows: Msvcrt) -> None:
    fake = on_windows
    data_dir = DataDir(tmp_path, portable=False)
    (tmp_path / "serve.lock").write_text("left by an older version")  # the range is still byte 0
    (tmp_path / "serve.json").write_text(json.dumps({"url": "http://127.0.0.1:8765"}))
    with (
        server.serve_lock(data_dir),
        pytest.raises(server.AlreadyRunning) as second,
        server.serve_lock(data_dir),
    ):
        pass
    assert second.value.url == "http://127.0.0.1:8765"
    assert fake.calls == [
        ("lock", 0),  # the first server
        ("lock", 0),  # the second one, refused
        ("unlock", 0),  # the first one lets go before it closes the file
    ]
    assert not (tmp_path / "serve.json").exists()
    with server.serve_lock(data_dir):  # free again
        pass


def test_store_writes_take_turns_by_msvcrt_locks_on_windows(
    tmp_path: Path, on_windows: Msvcrt
) -> None:
    """Each write: the gate, then the writer, then the gate let go, all on byte 0 (the files stay
    empty), and the writer let go explicitly; a second store waits its turn (EACCES, retried)."""
    store = Store(tmp_path / "relais.sqlite")
    other = Store(tmp_path / "relais.sqlite")
    try:
        on_windows.calls.clear()
        with store.write() as db:
            db.execute("CREATE TABLE t (x)")
        assert on_windows.calls == [("lock", 0), ("lock", 0), ("unlock", 0), ("unlock", 0)]
        on_windows.calls.clear()
        with store.write() as db:
            db.execute("INSERT INTO t VALUES (1)")
            waiting = threading.Thread(target=_write_one, args=(other,))
            waiting.start()
            waiting.join(0.2)
            assert waiting.is_alive(), "the other store waits for the writer lock"
        waiting.join(10)
        assert not waiting.is_alive()
        with store.read() as db:
            assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 2
    finally:
        other.close()
        store.close()
    assert (tmp_path / "relais.sqlite-writer").stat().st_size == 0


def _write_one(store: Store) -> None:
    with store.write() as db:
        db.execute("INSERT INTO t VALUES (2)")


# -- the windowed build: no stdin, stdout or stderr at all ------------------------------------

# PyInstaller's windowed (no console) mode starts Python with sys.stdin/stdout/stderr = None.
WINDOWED = (
    "import runpy, sys; sys.stdin = sys.stdout = sys.stderr = None; sys.argv[0] = 'relais'; "
    "runpy.run_module('webapp', run_name='__main__')"
)


def windowed(data_dir: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WINDOWED, "--data-dir", str(data_dir), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=relais_env(**env),
        cwd=REPO,
    )


def finished(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    out, err = process.communicate(timeout=timeout)
    assert out == b"" and err == b"", (out, err)  # nothing reached the real descriptors
    return process.returncode


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--version"], 0),
        (["--help"], 0),
        (["jobs", "list"], 0),
        (["settings", "set", "no.such.setting", "1"], 2),
        (["vault", "set", "scrada.api_key"], 2),  # no stdin: an empty value, refused
        (["backup", "/proc/no/such/folder/x.sqlite"], 2),
    ],
    ids=["version", "help", "jobs-list", "bad-setting", "vault-set", "bad-backup"],
)
@pytest.mark.slow  # a child `relais` each: 2 to 4 s
def test_windowed_commands_end_with_their_exit_code(
    tmp_path: Path, args: list[str], code: int
) -> None:
    process = windowed(tmp_path / "data", *args, RELAIS_VAULT_PASSPHRASE="correct horse battery")
    assert finished(process) == code


@pytest.mark.slow  # a child `relais serve`: about 4 s
def test_windowed_serve_logs_to_its_file_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = windowed(data, "serve", "--port", "0", "--no-browser")
    try:
        deadline = time.monotonic() + 30
        while not (data / "serve.json").is_file():
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        url = json.loads((data / "serve.json").read_text(encoding="utf-8"))["url"]
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        assert finished(process, timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    log = (data / "logs" / "relais.log").read_text(encoding="utf-8")
    assert "Application startup complete" in log and "Application shutdown complete" in log
    assert "Traceback" not in log


# -- the log file: rotation while another process holds it; uncaught errors --------------------


def test_log_rotation_waits_while_another_process_holds_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "relais.log"
    handler = logs.SharedRotatingFileHandler(path, max_bytes=200, backups=3)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.windows.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", errors.append)
    try:
        for number in range(1, 4):
            (tmp_path / f"relais.log.{number}").write_text(f"backup {number}\n")
        real_replace, real_rename = os.replace, os.rename

        def holding(real: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
            def held(source: Any, target: Any) -> None:
                if str(source) == str(path):  # Windows: a command-line run has relais.log open
                    raise PermissionError(32, "used by another process", str(source))
                real(source, target)

            return held

        monkeypatch.setattr(os, "replace", holding(real_replace))
        monkeypatch.setattr(os, "rename", holding(real_rename))
        for number in range(30):
            logger.warning("record %02d %s", number, "x" * 20)
        assert errors == []
        lines = path.read_text().splitlines()
        assert lines == [f"record {n:02d} {'x' * 20}" for n in range(30)]  # nothing lost
        assert (tmp_path / "relais.log.1").read_text() == "backup 1\n"  # backups not shifted

        monkeypatch.setattr(os, "replace", real_replace)  # the other process is done
        monkeypatch.setattr(os, "rename", real_rename)
        handler.retry_seconds = 0
        handler._next_try = 0
        logger.warning("after")
        assert path.read_text() == "after\n"
        assert (tmp_path / "relais.log.1").read_text().startswith("record 00")
        assert (tmp_path / "relais.log.2").read_text() == "backup 1\n"
        assert not (tmp_path / "relais.log.4").exists()
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_an_uncaught_error_in_a_windowed_run_reaches_the_log(tmp_path: Path) -> None:
    code = (
        "import sys; sys.stdin = sys.stdout = sys.stderr = None\n"
        "from webapp import logs\n"
        "from webapp.config import resolve_data_dir\n"
        f"logs.configure(resolve_data_dir({str(tmp_path)!r}), console=True)\n"
        "raise RuntimeError('nobody sees this window')\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, cwd=REPO, env=relais_env(), timeout=60
    )
    assert process.returncode == 1
    log = (tmp_path / "logs" / "relais.log").read_text(encoding="utf-8")
    assert "CRITICAL relais" in log and "RuntimeError: nobody sees this window" in log


# -- the data folder: local, not roaming ------------------------------------------------------


@pytest.fixture
def windows_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """platformdirs as on Windows: roaming=True is %APPDATA%, roaming=False %LOCALAPPDATA%."""
    local = tmp_path / "Local" / "Relais" / "Relais"
    roaming = tmp_path / "Roaming" / "Relais" / "Relais"
    folders = {False: local, True: roaming}

    def user_data_dir(appname: str, appauthor: str, *, roaming: bool = False) -> str:
        assert (appname, appauthor) == ("Relais", "Relais")
        return str(folders[roaming])

    monkeypatch.setattr(platformdirs, "user_data_dir", user_data_dir)
    monkeypatch.delenv("RELAIS_DATA_DIR", raising=False)
    monkeypatch.setattr(config, "program_dir", lambda: tmp_path / "program")  # not portable
    return local, roaming


def test_a_new_install_keeps_its_data_out_of_the_roaming_profile(
    windows_profile: tuple[Path, Path],
) -> None:
    local, roaming = windows_profile
    assert config.resolve_data_dir().path == local
    assert not roaming.exists()


def test_an_install_from_the_roaming_days_keeps_its_data(
    windows_profile: tuple[Path, Path],
) -> None:
    local, roaming = windows_profile
    roaming.mkdir(parents=True)
    (roaming / "relais.sqlite").write_bytes(b"")
    assert config.resolve_data_dir().path == roaming
    local.mkdir(parents=True)
    (local / "relais.sqlite").write_bytes(b"")  # both: the local one wins
    assert config.resolve_data_dir().path == local
