"""The one place that decides "is this Windows?", so tests can run the Windows branches on Linux.

Code reads :func:`is_windows` at call time (never ``os.name`` directly); a test sets
``webapp.windows.IS_WINDOWS = True`` (pytest's monkeypatch) and the real Windows branch runs.
docs/windows.md lists what each branch does and why.
"""

from __future__ import annotations

import os
import signal

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
