"""Python's cyclic garbage collector paused while a long job works through chunks of rows.

A job's chunk lives a few hundred milliseconds: long enough for the collector's young passes to
promote every row of it, which then counts towards the next full pass, over every object alive.
In a reception, full passes came every chunk and took a fifth of its time, and each one stopped
every thread of the server (a page waited 80–180 ms). What a chunk makes is freed by reference
counting when the chunk is done (nothing in it is a cycle: tests/test_econnector_batch_memory.py),
so the job pauses the automatic collector and asks for a young pass between chunks, where nothing
of the chunk is left alive: the cycles that other threads made meanwhile are freed there.

Pauses nest and may come from several threads at once: the collector runs again when the last
one ends, if it ran before the first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def between_chunks() -> None:
    """The youngest generation collected, between two chunks of a paused job: what is alive
    there is the job's memos and other threads' objects, a few thousand, a millisecond or two."""
    gc.collect(0)
