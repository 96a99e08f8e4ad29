"""The disputes this engine last saved, kept for the next command on each.

A command on a dispute kept here skips the load. The copy may be stale (another process may
have written since): the event store refuses the save of a stale copy, and the command is
then redone on a fresh load, so the copy never decides anything that is stored.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

from dispute_engine.domain.dispute import Dispute


class SavedDisputes:
    """At most ``size`` disputes as last saved here, the least recently saved dropped first.

    A dispute is taken out to be used, so two threads never hold one copy.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._disputes: OrderedDict[UUID, Dispute] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, dispute_id: UUID) -> Dispute | None:
        """The dispute as last saved here, removed from the cache; None when not held."""
        with self._lock:
            return self._disputes.pop(dispute_id, None)

    def keep(self, dispute: Dispute) -> None:
        """Hold a dispute just saved, unless a later version of it is held already."""
        if not self._size:
            return
        with self._lock:
            held = self._disputes.get(dispute.id)
            if held is not None and held.version > dispute.version:
                return
            self._disputes[dispute.id] = dispute
            self._disputes.move_to_end(dispute.id)
            if len(self._disputes) > self._size:
                self._disputes.popitem(last=False)
