"""What a staff member signs when they approve, send back or execute a decision.

The statement is :func:`dispute_engine.domain.canonical.decision_statement` filled from the
dispute as it stands: whoever knows the dispute's events computes the same bytes, so a
signature recorded on an event can be checked again at any time, by anyone.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from dispute_engine.domain.canonical import decision_statement
from dispute_engine.domain.claim import ClaimedTransaction
from dispute_engine.domain.decision import Decision
from dispute_engine.domain.money import Money


class SignedAction(StrEnum):
    """The decision steps that carry the acting member's signature."""

    APPROVE = "approve"
    SEND_BACK = "send_back"
    EXECUTE = "execute"


def statement(
    action: SignedAction,
    *,
    dispute_id: UUID,
    decision: Decision,
    transaction: ClaimedTransaction,
    decimals: int,
) -> bytes:
    """The bytes signed for ``action`` on ``decision``: the amount in the asset's units, paid
    to the claimed transaction's sender on its chain."""
    return decision_statement(
        action=str(action),
        dispute_id=dispute_id,
        decision_number=decision.number,
        outcome=str(decision.outcome),
        amount=Money(decision.units, decimals, transaction.asset).amount,
        asset=transaction.asset,
        decimals=decimals,
        recipient=transaction.sender,
        chain_id=transaction.chain_id,
        overrides=decision.overrides,
    )
