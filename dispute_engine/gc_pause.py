"""Bulk work with Python's cyclic garbage collector paused.

Catching a view up or recording a tick's alerts makes and keeps thousands of small objects
(events, clocks, rows) a batch at a time; the collector would walk them over and over while
they live, for garbage they do not make (they are freed by reference counting). Paused for
the work, it runs again as soon as the last bulk work in the process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """The bulk works running now, in any thread, and whether they paused the collector."""

    lock = threading.Lock()
    holders = 0
    paused = False  # False when the collector was off already


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block (and for any block of this kind running at
    the same time in another thread); one that was off before stays off."""
    with _Pause.lock:
        if _Pause.holders == 0:
            _Pause.paused = gc.isenabled()
            gc.disable()
        _Pause.holders += 1
    try:
        yield
    finally:
        with _Pause.lock:
            _Pause.holders -= 1
            if _Pause.holders == 0 and _Pause.paused:
                gc.enable()
