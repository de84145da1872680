"""The writer lock is handed over first come, first served (webapp/store/fair_lock.py)."""

from __future__ import annotations

import threading
from pathlib import Path

from webapp.store import Store
from webapp.store.fair_lock import FairLock


def test_a_job_asking_again_at_once_lets_the_waiting_save_in_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "relais.sqlite")
    order: list[str] = []
    save_waiting = threading.Event()
    job_holds = threading.Event()

    def save() -> None:
        job_holds.wait()
        save_waiting.set()
        with store.write():
            order.append("save")

    saver = threading.Thread(target=save)
    saver.start()
    with store.write():
        order.append("job 1")
        job_holds.set()
        save_waiting.wait()
        # The saver is queued (or about to be); give it a moment to reach the queue.
        while not store._lock._waiters:  # the queue is what is under test
            threading.Event().wait(0.001)
    with store.write():  # the job's next transaction, asked for at once
        order.append("job 2")
    saver.join()
    store.close()
    assert order == ["job 1", "save", "job 2"]


def _take_and_note(
    lock: FairLock, served: list[int], number: int, taken: threading.Event | None = None
) -> None:
    with lock:
        served.append(number)
        if taken is not None:
            taken.set()


def test_waiters_are_served_in_arrival_order() -> None:
    lock = FairLock()
    served: list[int] = []
    lock.acquire()
    threads = []
    for number in range(5):
        thread = threading.Thread(target=_take_and_note, args=(lock, served, number))
        thread.start()
        while len(lock._waiters) < number + 1:  # wait until it is queued
            threading.Event().wait(0.001)
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join()
    assert served == [0, 1, 2, 3, 4]


def test_re_entrant_and_refuses_a_release_by_another_thread() -> None:
    lock = FairLock()
    with lock, lock:
        errors: list[BaseException] = []

        def stranger() -> None:
            try:
                lock.release()
            except RuntimeError as exc:
                errors.append(exc)

        thread = threading.Thread(target=stranger)
        thread.start()
        thread.join()
        assert len(errors) == 1
    # Free again: another thread takes it without waiting.
    taken = threading.Event()
    thread = threading.Thread(target=_take_and_note, args=(lock, [], 0, taken))
    thread.start()
    thread.join(timeout=5)
    assert taken.is_set()
