"""Windows behaviours, run here through the webapp.windows seam (docs/windows.md).

Each test emulates the one thing Windows does differently (a file held open, a flush refused on
a read-only handle, no stdout in a windowed build) and runs the real code's Windows branch.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from webapp import windows
from webapp.store import Store


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows, "IS_WINDOWS", True)


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
