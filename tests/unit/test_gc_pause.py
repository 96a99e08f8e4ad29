"""Bulk work pauses the cyclic garbage collector and gives it back as it found it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from dispute_engine.gc_pause import paused_gc


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_inside_and_runs_again_after():
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_an_error():
    gc.enable()
    with pytest.raises(ValueError, match="bad"), paused_gc():
        raise ValueError("bad")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_the_collector_stays_paused_until_the_last_bulk_work_in_any_thread_ends():
    gc.enable()
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with paused_gc():
        thread.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other thread's work is still running
    release.set()
    thread.join(5)
    assert gc.isenabled()
