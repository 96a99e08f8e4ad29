"""Decisions on a dispute, the payouts that execute them, and the money rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """What the dispute's decision does with money."""

    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    ADJUSTMENT = "adjustment"
    REJECT = "reject"

    @property
    def moves_money(self) -> bool:
        """Whether executing the outcome pays the claimant (and so needs a second approver)."""
        return self is not Outcome.REJECT


@dataclass(frozen=True)
class Decision:
    """A proposed, approved or executed decision; ``number`` counts proposals per dispute."""

    number: int
    outcome: Outcome
    units: int
    rationale: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    overrides: tuple[str, ...] = ()  # chain facts the decision goes against, named on purpose
    approvals_required: int = 1  # two for large amounts and unauthorized transfers
    approvals: tuple[str, ...] = ()  # who approved it so far, in order
    approval_signature: str | None = None  # the approver's, over the decision statement


@dataclass(frozen=True)
class Payout:
    """Money paid to the claimant to execute one decision."""

    decision_number: int
    units: int
    reference: str
    executed_by: str
    executed_at: datetime
