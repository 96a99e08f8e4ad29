"""Linked claims: disputes on one transaction share one cap, the amount the chain verified.

The same payment can be claimed twice (two claimants, a retry under another key, an appeal
filed afresh). Whatever the order, the money paid or committed across every dispute on one
transaction (chain id + hash) never exceeds what the chain shows that transaction moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.money import Money


def transaction_key(chain_id: int, tx_hash: str) -> str:
    """The key linked disputes share: the chain id and the lower-case transaction hash."""
    return f"{chain_id}:{tx_hash.lower()}"


@dataclass(frozen=True)
class Commitment:
    """Money paid, approved to be paid, or provisionally credited on one linked dispute."""

    dispute_id: UUID
    decision_number: int  # 0 for a provisional credit
    units: int


def still_payable(
    verified: Money,
    commitments: Iterable[Commitment],
    *,
    excluding: tuple[UUID, int] | None = None,
) -> Money:
    """What may still be paid on the transaction: the verified amount less every commitment.

    ``excluding`` leaves out one dispute's own decision (``(dispute_id, decision_number)``),
    so checking an approved decision again at execution does not count it twice.
    """
    committed = sum(c.units for c in commitments if excluding != (c.dispute_id, c.decision_number))
    return Money(max(verified.units - committed, 0), verified.decimals, verified.asset)


def require_within_verified(
    amount: Money,
    verified: Money,
    commitments: Iterable[Commitment],
    *,
    dispute_id: UUID,
    decision_number: int,
) -> None:
    """Refuse a payout that would take the transaction's total past the verified amount.

    Raises InvalidInput on ``amount``, saying what may still be paid.
    """
    if (amount.asset, amount.decimals) != (verified.asset, verified.decimals):
        raise InvalidInput.of(
            "amount",
            f"the chain verified {verified.asset}, not {amount.asset}",
            dispute_id=dispute_id,
        )
    left = still_payable(verified, commitments, excluding=(dispute_id, decision_number))
    if amount.units > left.units:
        raise InvalidInput.of(
            "amount",
            f"{amount} exceeds what may still be paid on this transaction across its linked "
            f"disputes: {left} of the {verified} the chain verified",
            dispute_id=dispute_id,
        )
