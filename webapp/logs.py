"""Logging to a rotating file in the data folder (a windowed build has no console), and stderr."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import time
from types import TracebackType

from webapp.config import DataDir

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
log = logging.getLogger("relais")


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotation that survives another process holding the file open.

    The server and a command-line run (`relais backoffice import`, …) append to one relais.log.
    Windows refuses to rename a file that another process has open; the standard handler then
    loses every record until the rename works, and shifts the backups at each attempt. This one
    renames the live file first, and only when that worked shifts the backups; otherwise it keeps
    appending and tries again a minute later.
    """

    retry_seconds = 60.0

    def __init__(self, filename: str | os.PathLike[str], max_bytes: int, backups: int) -> None:
        super().__init__(filename, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._next_try = 0.0

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        return time.monotonic() >= self._next_try and bool(super().shouldRollover(record))

    def doRollover(self) -> None:
        if self.stream:
            self.stream.close()
            self.stream = None
        parked = f"{self.baseFilename}.rotating"
        try:
            os.replace(self.baseFilename, parked)
        except PermissionError:  # held by another process (Windows): keep appending for now
            self._next_try = time.monotonic() + self.retry_seconds
        else:
            for number in range(self.backupCount - 1, 0, -1):
                older = f"{self.baseFilename}.{number}"
                if os.path.exists(older):
                    os.replace(older, f"{self.baseFilename}.{number + 1}")
            os.replace(parked, f"{self.baseFilename}.1")
        self.stream = self._open()


def configure(data_dir: DataDir, *, console: bool = True, level: int = logging.INFO) -> None:
    data_dir.logs.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_relais", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        SharedRotatingFileHandler(data_dir.logs / "relais.log", max_bytes=5_000_000, backups=5)
    ]
    if console and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._relais = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # APScheduler logs every trigger at INFO: keep the file about what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the log
    _log_uncaught_exceptions()


def _log_uncaught_exceptions() -> None:
    """A windowed build shows no traceback: an uncaught error must at least reach the log."""
    if getattr(sys.excepthook, "_relais", False):
        return
    previous, previous_thread = sys.excepthook, threading.excepthook

    def hook(
        kind: type[BaseException], value: BaseException, traceback: TracebackType | None
    ) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("uncaught error", exc_info=(kind, value, traceback))
        previous(kind, value, traceback)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None and not isinstance(args.exc_value, SystemExit):
            where = args.thread.name if args.thread else "?"
            exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
            log.critical("uncaught error in thread %s", where, exc_info=exc_info)
        previous_thread(args)

    hook._relais = True  # type: ignore[attr-defined]
    sys.excepthook = hook
    threading.excepthook = thread_hook
