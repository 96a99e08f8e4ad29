"""dispute-engine: event-sourced resolution of digital-wallet transaction disputes."""

from dispute_engine.commands import AddEvidence, ClaimedTransaction, FileDispute, ProposeDecision
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.lifecycle import Status
from dispute_engine.engine import DisputeEngine
from dispute_engine.settings import Settings
from dispute_engine.views import DisputeView, HistoryEntry

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
