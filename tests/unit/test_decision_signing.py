"""The statement a member signs binds the step, the decision and where the money goes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from dispute_engine.domain.canonical import decision_statement
from dispute_engine.domain.claim import ClaimedTransaction
from dispute_engine.domain.decision import Decision, Outcome
from dispute_engine.domain.decision_signing import SignedAction, statement
from tests.factories import transaction

DISPUTE = UUID("12345678-1234-5678-1234-567812345678")
DECISION = Decision(
    number=2,
    outcome=Outcome.PARTIAL_REFUND,
    units=12_500_000,
    rationale="half was credited",
    proposed_by="alice",
    proposed_at=datetime(2026, 11, 21, tzinfo=UTC),
    overrides=("no_lookup", "amount"),
)
TX = ClaimedTransaction.model_validate(transaction())


def signed(action: SignedAction = SignedAction.APPROVE, **changes: object) -> bytes:
    decision = replace(DECISION, **changes)  # type: ignore[arg-type]
    return statement(action, dispute_id=DISPUTE, decision=decision, transaction=TX, decimals=6)


def test_the_statement_is_the_canonical_decision_statement_in_the_assets_units():
    assert signed() == decision_statement(
        action="approve",
        dispute_id=DISPUTE,
        decision_number=2,
        outcome="partial_refund",
        amount=Decimal("12.5"),
        asset="USDT",
        decimals=6,
        recipient=TX.sender,
        chain_id=1,
        overrides=["amount", "no_lookup"],
    )


def test_each_step_signs_a_different_statement():
    assert len({signed(action) for action in SignedAction}) == len(SignedAction)


def test_the_statement_changes_with_the_amount_the_number_and_the_overrides():
    base = signed()
    assert signed(units=12_500_001) != base
    assert signed(number=3) != base
    assert signed(overrides=("no_lookup",)) != base
    assert signed(rationale="another reason", proposed_by="carol") == base
