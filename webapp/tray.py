"""`relais tray`: the web server with a system-tray icon (Open, Sync now, Pause/Resume, Quit).

The tray loop owns the main thread (Windows and X11 want it there) and uvicorn serves from a worker
thread. Quit, SIGTERM, Ctrl+C (SIGINT) and Ctrl+Break (SIGBREAK, Windows) stop both the same way.
Without a desktop (no display, or pystray cannot load a backend) the caller falls back to a plain
`serve`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from webapp import i18n, windows
from webapp.config import resource_root
from webapp.i18n import _, ngettext
from webapp.server import Prepared
from webapp.services import Services

log = logging.getLogger(__name__)

# The platform's housekeeping is not what a user means by "Sync now".
NOT_SYNC = frozenset({"history_purge", "database_backup", "update_check"})


def desktop_missing() -> str | None:
    """Why no tray icon can be shown here, or None when one can."""
    if sys.platform not in ("win32", "darwin") and not os.environ.get("DISPLAY"):
        return "no DISPLAY"
    try:
        import pystray  # noqa: F401  (raises without a usable display)
    except Exception as exc:  # Xlib.error.DisplayNameError, ImportError, …
        return f"{type(exc).__name__}: {exc}"
    return None


def icon_image() -> Any:
    from PIL import Image

    for candidate in (resource_root() / "relais.png", resource_root() / "bundle" / "relais.png"):
        if candidate.is_file():
            return Image.open(candidate)
    return Image.new("RGBA", (64, 64), (15, 118, 110, 255))


class Tray:
    """The icon's actions, over the services of the running server."""

    def __init__(self, services: Services, prepared: Prepared) -> None:
        self.services = services
        self.prepared = prepared
        self.icon: Any = None
        self._stopping = threading.Event()
        self._stop_lock = threading.Lock()  # a signal and Quit may arrive together

    # -- actions (called by pystray from its loop) ------------------------------------------------

    def open_browser(self, *_args: Any) -> None:
        webbrowser.open(self.prepared.url)

    def sync_now(self, *_args: Any) -> list[int]:
        """Start every enabled process that moves data (not the housekeeping ones)."""
        started = []
        for row in self.services.runner.definitions():
            if row["enabled"] and row["name"] not in NOT_SYNC:
                run_id, _fresh = self.services.runner.start(row["name"], origin="manual")
                started.append(run_id)
        log.info("tray: sync now started %d process(es)", len(started))
        self._notify(ngettext("{n} process started.", "{n} processes started.", len(started)))
        return started

    def toggle_pause(self, *_args: Any) -> None:
        runner = self.services.runner
        if runner.paused:
            runner.resume()
            log.info("tray: scheduled processes resumed")
        else:
            runner.pause()
            log.info("tray: scheduled processes paused")
        if self.icon is not None:
            self.icon.update_menu()

    def quit(self, *_args: Any) -> None:
        self.stop()

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
        self.prepared.stop()
        if self.icon is not None:
            self.icon.stop()

    def _notify(self, message: str) -> None:
        icon = self.icon
        if icon is not None and getattr(icon, "HAS_NOTIFICATION", False):
            try:
                icon.notify(message, "Relais")
            except Exception:  # a notification is a courtesy
                log.debug("notification failed", exc_info=True)

    # -- the icon ------------------------------------------------------------------------------

    def build_icon(self) -> Any:
        import pystray

        def pause_label(_item: Any) -> str:
            return (
                _("Resume the processes")
                if self.services.runner.paused
                else _("Pause the processes")
            )

        menu = pystray.Menu(
            pystray.MenuItem(_("Open Relais"), self.open_browser, default=True),
            pystray.MenuItem(_("Sync now"), self.sync_now),
            pystray.MenuItem(pause_label, self.toggle_pause),
            pystray.Menu.SEPARATOR,
            pystray.MenuItem(_("Quit"), self.quit),
        )
        # Plain ASCII title: X11's WM_NAME is Latin-1 only.
        self.icon = pystray.Icon("relais", icon_image(), f"Relais - {self.prepared.url}", menu)
        return self.icon


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGBREAK call ``stop`` while the block runs; handlers restored after."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signum)
        stop()

    wanted = windows.stop_signals()
    previous = {signum: signal.signal(signum, on_signal) for signum in wanted}
    try:
        if windows.is_windows():
            with _wake_on_signals({int(signum) for signum in wanted}, stop):
                yield
        else:
            yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _wake_on_signals(numbers: set[int], stop: Callable[[], None]) -> Iterator[None]:
    """Windows: Python runs a handler in the main thread between two bytecodes, and the tray loop
    keeps the main thread inside GetMessage (C code) until a window message comes, so a Ctrl+C
    would wait for the next mouse move over the icon. The C-level handler also writes the signal
    number to the wakeup socket; a thread watches it and stops at once (pystray's stop posts a
    message, which is safe from any thread there; X11's is not, hence Windows only)."""
    reader, writer = socket.socketpair()  # a socket: Windows' wakeup fd cannot be a pipe
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    watcher = threading.Thread(
        target=_watch_wakeups, args=(reader, numbers, stop), name="tray-signals", daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        writer.close()  # the watcher reads the end of the stream and returns
        watcher.join(5)
        reader.close()


def _watch_wakeups(reader: socket.socket, numbers: set[int], stop: Callable[[], None]) -> None:
    while received := reader.recv(64):
        if numbers.intersection(received):
            log.info("signal %s: stopping", sorted(numbers.intersection(received)))
            stop()


def run(
    services: Services, prepared: Prepared, on_ready: Callable[[Tray], None] | None = None
) -> None:
    """Serve with a tray icon until Quit, SIGTERM, Ctrl+C or Ctrl+Break."""
    tray = Tray(services, prepared)
    try:
        icon = tray.build_icon()
    except Exception:
        # A display that pystray cannot use after all (no X server behind DISPLAY, …).
        log.exception("the tray icon cannot be shown: serving without it")
        prepared.run()
        return
    with stop_on_signals(tray.stop):
        shown = _run_icon(tray, icon, prepared, on_ready)
    if not shown:
        prepared.run()
        return
    log.info("tray stopped")


def _run_icon(
    tray: Tray, icon: Any, prepared: Prepared, on_ready: Callable[[Tray], None] | None
) -> bool:
    """The icon's loop on this thread, the server on another; False when the icon never showed."""
    server_thread = threading.Thread(target=prepared.run, name="uvicorn", daemon=False)

    def watch_server() -> None:
        # The server ending on its own (an error) must not leave an icon with nothing behind it.
        server_thread.join()
        tray.stop()

    language = i18n.current_language()

    def setup(icon: Any) -> None:  # pystray calls it from its own thread
        i18n.set_language(language)
        icon.visible = True
        log.info("tray icon shown")
        server_thread.start()
        threading.Thread(target=watch_server, name="tray-watch", daemon=True).start()
        if on_ready:
            on_ready(tray)

    try:
        icon.run(setup=setup)
    except Exception:
        if server_thread.ident is not None:
            raise
        # The icon could not be shown after all (the display went away, no backend works).
        log.exception("the tray icon failed: serving without it")
        return False
    finally:
        if server_thread.ident is not None:
            tray.stop()
            server_thread.join()
    return True
