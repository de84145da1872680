"""webapp/collection.py: the collector paused by long jobs, from several threads at once, and
running again after the last pause exactly when it ran before the first."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from webapp import collection


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_pauses_nest() -> None:
    gc.enable()
    with collection.paused():
        assert not gc.isenabled()
        with collection.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_off_before_stays_off() -> None:
    gc.disable()
    with collection.paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_of_two_threads_end_with_the_last() -> None:
    gc.enable()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with collection.paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with collection.paused():
        second_in.set()
        first_out.wait(5)
        assert not gc.isenabled(), "the first pause ended, this one goes on"
    thread.join(5)
    assert gc.isenabled()


def test_an_error_in_the_block_ends_the_pause() -> None:
    gc.enable()
    with pytest.raises(ValueError), collection.paused():
        raise ValueError("the job failed")
    assert gc.isenabled()


def test_cycles_made_during_a_pause_are_freed_between_chunks() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    gc.enable()
    with collection.paused():
        gc.collect()

        made = Node()
        ref = weakref.ref(made)
        del made
        assert ref() is not None, "a cycle waits for the collector"
        collection.between_chunks()
        assert ref() is None
