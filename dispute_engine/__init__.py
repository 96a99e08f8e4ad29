"""dispute-engine: event-sourced resolution of digital-wallet transaction disputes.

``DisputeEngine`` is imported on first use, so code that needs no database (the offline
bundle verifier) loads none of the storage code.
"""

import typing

from dispute_engine.commands import AddEvidence, ClaimedTransaction, FileDispute, ProposeDecision
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.lifecycle import Status
from dispute_engine.settings import Settings
from dispute_engine.views import DisputeView, HistoryEntry

if typing.TYPE_CHECKING:
    from dispute_engine.engine import DisputeEngine

__all__ = [
    "Actor",
    "AddEvidence",
    "ClaimedTransaction",
    "DisputeEngine",
    "DisputeView",
    "FileDispute",
    "HistoryEntry",
    "Outcome",
    "ProposeDecision",
    "Role",
    "Settings",
    "Status",
]


def __getattr__(name: str) -> object:
    if name == "DisputeEngine":
        from dispute_engine.engine import DisputeEngine  # noqa: PLC0415

        globals()[name] = DisputeEngine
        return DisputeEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
