"""A re-entrant lock handed over first come, first served.

The store's one writer connection is shared by the UI's requests and the long jobs. Python's own
locks are not fair: a job that releases the lock and asks for it again at once nearly always gets
it back before a waiting request wakes up, so a UI save could wait behind a whole reception made of
short transactions. This lock hands itself over to the oldest waiter instead.
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType

_HANDED_OVER = -1  # owner while a woken waiter has not yet taken the lock


class FairLock:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append(gate)
        try:
            gate.acquire()  # released by the owner when it is our turn
        except BaseException:
            self._give_up(gate)
            raise
        with self._mutex:
            self._owner, self._depth = me, 1

    def _give_up(self, gate: threading.Lock) -> None:
        """An interrupted waiter leaves the queue, or passes on the turn it was just given."""
        with self._mutex:
            if gate in self._waiters:
                self._waiters.remove(gate)
                return
            self._owner, self._depth = threading.get_ident(), 1
        self.release()

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a FairLock not held by this thread")
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner = _HANDED_OVER
                self._waiters.popleft().release()
            else:
                self._owner = None

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
