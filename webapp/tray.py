"""`relais tray`: the web server with a system-tray icon (Open, Sync now, Pause/Resume, Quit).

The tray loop owns the main thread (Windows and X11 want it there) and uvicorn serves from a worker
thread. SIGTERM and SIGINT stop both. Without a desktop (no display, or pystray cannot load a
backend) the caller falls back to a plain `serve`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Callable
from types import FrameType
from typing import Any

from webapp import i18n
from webapp.config import resource_root
from webapp.i18n import _
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
        self._notify(_("{count} processes started.", count=len(started)))
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


def run(
    services: Services, prepared: Prepared, on_ready: Callable[[Tray], None] | None = None
) -> None:
    """Serve with a tray icon until Quit, SIGTERM or SIGINT."""
    tray = Tray(services, prepared)
    try:
        icon = tray.build_icon()
    except Exception:
        # A display that pystray cannot use after all (no X server behind DISPLAY, …).
        log.exception("the tray icon cannot be shown: serving without it")
        prepared.run()
        return
    server_thread = threading.Thread(target=prepared.run, name="uvicorn", daemon=False)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signum)
        tray.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)

    def watch_server() -> None:
        # The server ending on its own (an error) must not leave an icon with nothing behind it.
        server_thread.join()
        tray.stop()

    def setup(icon: Any) -> None:
        icon.visible = True
        log.info("tray icon shown")
        server_thread.start()
        threading.Thread(target=watch_server, name="tray-watch", daemon=True).start()
        if on_ready:
            on_ready(tray)

    language = i18n.current_language()

    def setup_in_language(icon: Any) -> None:  # pystray calls it from its own thread
        i18n.set_language(language)
        setup(icon)

    try:
        icon.run(setup=setup_in_language)
    except Exception:
        if server_thread.ident is not None:
            raise
        # The icon could not be shown after all (the display went away, no backend works).
        log.exception("the tray icon failed: serving without it")
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        prepared.run()
        return
    finally:
        tray.stop()
        if server_thread.ident is not None:
            server_thread.join()
    log.info("tray stopped")
