"""An X server (Xvfb) and a minimal system-tray manager for the tray tests.

Bare Xvfb has no tray: pystray's X11 backend would have nowhere to dock. `TrayManager` owns the
`_NET_SYSTEM_TRAY_S0` selection as a desktop panel does (freedesktop System Tray spec), records the
windows that ask to dock, and can click on them.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from Xlib import X, display
from Xlib.protocol import event

REQUEST_DOCK = 0


def xvfb_available() -> bool:
    return shutil.which("Xvfb") is not None


@contextmanager
def xvfb() -> Iterator[str]:
    """A private X server; yields its DISPLAY value."""
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    name = f":{number}"
    process = subprocess.Popen(
        # -noreset: by default the server resets when its last client leaves, so the probe
        # below closing its connection could reset the next client's (ECONNRESET).
        ["Xvfb", name, "-screen", "0", "640x480x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                display.Display(name).close()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Xvfb did not start") from None
                time.sleep(0.1)
        yield name
    finally:
        process.terminate()
        process.wait(10)


class TrayManager:
    """Owns the system-tray selection of screen 0 and records dock requests."""

    def __init__(self, name: str) -> None:
        self.display = display.Display(name)
        screen = self.display.screen()
        self.root = screen.root
        self.selection = self.display.intern_atom("_NET_SYSTEM_TRAY_S0")
        self.opcode = self.display.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
        self.window = self.root.create_window(0, 0, 1, 1, 0, screen.root_depth)
        self.window.set_selection_owner(self.selection, X.CurrentTime)
        self.root.send_event(
            event.ClientMessage(
                window=self.root,
                client_type=self.display.intern_atom("MANAGER"),
                data=(32, [X.CurrentTime, self.selection, self.window.id, 0, 0]),
            ),
            event_mask=X.StructureNotifyMask,
        )
        self.display.flush()
        self.docked: list[int] = []
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop:
            if not self.display.pending_events():
                time.sleep(0.05)
                continue
            received = self.display.next_event()
            if received.type == X.ClientMessage and received.client_type == self.opcode:
                _format, data = received.data
                if data[1] == REQUEST_DOCK:
                    self.docked.append(int(data[2]))

    def wait_for_dock(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.docked:
            if time.monotonic() > deadline:
                raise AssertionError("no icon asked to dock in the tray")
            time.sleep(0.05)
        return self.docked[-1]

    def window_name(self, window_id: int) -> str:
        other = display.Display(self.display.get_display_name())
        try:
            name = other.create_resource_object("window", window_id).get_wm_name()
            return str(name or "")
        finally:
            other.close()

    def click(self, window_id: int, button: int = 1) -> None:
        """A left click on the icon, as the panel forwards it."""
        other = display.Display(self.display.get_display_name())
        try:
            target = other.create_resource_object("window", window_id)
            press = event.ButtonPress(
                time=X.CurrentTime,
                root=other.screen().root,
                window=target,
                same_screen=1,
                child=X.NONE,
                root_x=0,
                root_y=0,
                event_x=4,
                event_y=4,
                state=0,
                detail=button,
            )
            # An empty mask sends the event to the window's creator (pystray selects no input).
            target.send_event(press, event_mask=X.NoEventMask)
            other.flush()
        finally:
            other.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)
        self.display.close()
