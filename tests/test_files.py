"""Atomic writes: the target holds the old content or the new one, never a part."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from webapp import windows
from webapp.files import FileBusy, atomic_open, atomic_write_bytes, atomic_write_text, replace_file


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "folder" / "file.txt"
    atomic_write_text(target, "première version")
    assert target.read_text(encoding="utf-8") == "première version"
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permissions(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    atomic_write_text(target, "x", permissions=0o600)
    assert target.stat().st_mode & 0o777 == 0o600


def test_refuses_read_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_open(tmp_path / "x", mode="rb"):
        pass


def test_a_name_near_the_length_limit_is_written(tmp_path: Path) -> None:
    # The temporary name adds a prefix and a suffix: it must not push a 250-character name over
    # the 255 that file systems allow.
    target = tmp_path / ("n" * 246 + ".csv")
    atomic_write_text(target, "ok")
    assert target.read_text() == "ok"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


# -- Windows branches (run here through the webapp.windows seam) ------------------------------


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows, "IS_WINDOWS", True)


def held_open_for(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[float]:
    """os.replace refuses ``failures`` times, as Windows does while an antivirus holds the file."""
    real_replace = os.replace
    calls: list[float] = []

    def replace(source: Any, target: Any) -> None:
        calls.append(time.monotonic())
        if len(calls) <= failures:
            raise PermissionError(13, "The process cannot access the file", str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    return calls


@pytest.mark.usefixtures("on_windows")
def test_windows_replace_waits_for_a_file_held_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old")
    calls = held_open_for(monkeypatch, failures=2)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert len(calls) == 3
    assert calls[2] > calls[0]  # it waited between attempts
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


@pytest.mark.usefixtures("on_windows")
def test_windows_replace_gives_up_after_its_patience_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "new.tmp", tmp_path / "export.csv"
    source.write_text("new")
    target.write_text("old")
    calls = held_open_for(monkeypatch, failures=10_000)
    started = time.monotonic()
    with pytest.raises(FileBusy, match="in use by another program") as caught:
        replace_file(source, target, patience=0.3)
    assert 0.1 < time.monotonic() - started < 1.5
    assert len(calls) > 2
    assert isinstance(caught.value, PermissionError)  # callers catching OSError still do
    assert target.read_text() == "old" and source.read_text() == "new"


def test_elsewhere_a_refused_replace_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(windows, "IS_WINDOWS", False)
    calls = held_open_for(monkeypatch, failures=1)
    with pytest.raises(PermissionError) as caught:
        replace_file(tmp_path / "a", tmp_path / "b")
    assert not isinstance(caught.value, FileBusy)
    assert len(calls) == 1


@pytest.mark.usefixtures("on_windows")
def test_windows_never_opens_a_directory_to_fsync_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open
    opened_folders: list[str] = []

    def spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.isdir(path):
            opened_folders.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    atomic_write_text(tmp_path / "file.txt", "x")
    assert (tmp_path / "file.txt").read_text() == "x"
    assert opened_folders == []
    monkeypatch.setattr(windows, "IS_WINDOWS", False)
    atomic_write_text(tmp_path / "file.txt", "y")
    assert opened_folders == [str(tmp_path)]  # the POSIX branch does fsync its folder
