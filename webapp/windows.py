"""The one place that decides "is this Windows?", so tests can run the Windows branches on Linux.

Code reads :func:`is_windows` at call time (never ``os.name`` directly); a test sets
``webapp.windows.IS_WINDOWS = True`` (pytest's monkeypatch) and the real Windows branch runs.
docs/windows.md lists what each branch does and why.
"""

from __future__ import annotations

import os
import signal
import sys

IS_WINDOWS = os.name == "nt"


def is_windows() -> bool:
    return IS_WINDOWS


def stop_signals() -> tuple[signal.Signals, ...]:
    """The signals that mean "stop cleanly": Ctrl+C everywhere, SIGTERM on POSIX (Windows has
    no sender for it), Ctrl+Break where the platform has it (SIGBREAK, Windows only)."""
    found = [signal.SIGINT, signal.SIGTERM]
    sigbreak = getattr(signal, "SIGBREAK", None)
    if sigbreak is not None:
        found.append(sigbreak)
    return tuple(found)


def give_missing_streams() -> None:
    """A windowed build (PyInstaller without a console, or pythonw) starts with sys.stdin, stdout
    and stderr set to None, and any code that reads or writes them (``sys.stdin.isatty()``, a
    library's print or log handler) would crash. The null device stands in: reads are empty,
    writes vanish, and the log file in the data folder keeps what matters."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115
