"""A bound on the whole of a call, however its parts trickle (a node sending a byte a second).

Socket timeouts bound each read, not the call: a peer that keeps sending slowly never trips
them. The work runs in a daemon thread and the caller waits at most the deadline; what is
left of the work ends on its own, and nothing waits for it at exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def within(seconds: float, work: Callable[[], T], *, expired: Callable[[], Exception]) -> T:
    """The result of ``work()`` if it ends within ``seconds``; raises ``expired()`` if not.

    Whatever ``work`` raises is raised here.
    """
    outcome: list[tuple[bool, object]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="bounded-call").start()
    if not done.wait(seconds):
        raise expired()
    ok, value = outcome[0]
    if not ok:
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[return-value]
