"""Keys typed in the wizard before it saves: held in memory, by a random token, for a while.

The wizard keeps its state in the form; a webservice key must not travel back to the browser in a
hidden input, so the form carries a token instead and the key waits here until the save puts it
into the vault (or an hour passes).
"""

from __future__ import annotations

import secrets
import threading
import time


class KeyDrafts:
    """Keys typed in a wizard not saved yet, by token; forgotten after an hour or once saved."""

    TTL_SECONDS = 3600.0
    LIMIT = 200

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def hold(self, key: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._forget_old()
            self._keys[token] = (key, time.monotonic() + self.TTL_SECONDS)
        return token

    def get(self, token: str) -> str | None:
        with self._lock:
            self._forget_old()
            held = self._keys.get(token)
        return held[0] if held else None

    def drop(self, token: str) -> None:
        with self._lock:
            self._keys.pop(token, None)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_key, until) in self._keys.items() if until < now]:
            del self._keys[token]
        while len(self._keys) > self.LIMIT:
            del self._keys[next(iter(self._keys))]
