"""What the investigation records beside evidence: contact attempts and escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ContactParty = Literal["recipient", "sender", "merchant", "exchange", "claimant"]
ContactChannel = Literal["email", "phone", "chat", "letter", "on_chain_message", "other"]


@dataclass(frozen=True)
class ContactAttempt:
    """An attempt to reach a party about the dispute; an answer is not required."""

    party: str
    channel: str
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class EscalationRecord:
    """A dispute handed to the escalation queue at a raised priority, and why."""

    reason: str
    priority: str
    queue: str
    by: str
    at: datetime
