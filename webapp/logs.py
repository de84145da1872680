"""Logging to a rotating file in the data folder (a windowed build has no console), and stderr."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from webapp.config import DataDir

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def configure(data_dir: DataDir, *, console: bool = True, level: int = logging.INFO) -> None:
    data_dir.logs.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_relais", False):
            root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        data_dir.logs / "relais.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file_handler]
    if console and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._relais = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # APScheduler logs every trigger at INFO: keep the file about what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the log
