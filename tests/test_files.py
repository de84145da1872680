"""Atomic writes: the target holds the old content or the new one, never a part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from webapp.files import atomic_open, atomic_write_bytes, atomic_write_text


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
