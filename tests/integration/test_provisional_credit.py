"""Provisional credit through the public API on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.commands import ProposeDecision
from dispute_engine.errors import InvalidTransition, NotAuthorized
from dispute_engine.payout_ledger import PayoutLedger
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute


def credited(engine: DisputeEngine, alice: Actor, bob: Actor) -> UUID:
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.grant_provisional_credit(dispute_id, by=bob)
    return dispute_id


def decide(engine: DisputeEngine, dispute_id: UUID, alice: Actor, **fields: object) -> None:
    engine.propose_decision(
        dispute_id, ProposeDecision.model_validate({"rationale": "r", **fields}), by=alice
    )


def test_a_credit_pays_the_disputed_amount_once_through_the_payout_rail(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = credited(engine, alice, bob)
    [credit] = engine.get(dispute_id).provisional_credits
    assert (credit.amount, credit.state, credit.granted_by) == (Decimal("125.50"), "granted", "bob")
    ledger = engine._core.payout_gateway
    assert isinstance(ledger, PayoutLedger)
    [instruction] = ledger.instructions()
    assert (instruction["key"], instruction["units"]) == (f"{dispute_id}:credit:1", "125500000")
    with pytest.raises(InvalidTransition, match="already granted"):
        engine.grant_provisional_credit(dispute_id, by=bob)
    assert len(ledger.instructions()) == 1


def test_only_an_approver_grants_and_only_where_a_rule_asks(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = file_dispute(engine, alice)
    with pytest.raises(NotAuthorized):
        engine.grant_provisional_credit(dispute_id, by=alice)
    german = file_dispute(engine, alice, jurisdiction="DE")
    with pytest.raises(InvalidTransition, match="no provisional credit rule"):
        engine.grant_provisional_credit(german, by=bob)
    assert engine.get(german).credit_due_at is None
    assert engine.get(dispute_id).provisional_credits == []


def test_a_rejection_reverses_the_credit_and_records_the_reversal_instruction(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = credited(engine, alice, bob)
    decide(engine, dispute_id, alice, outcome="reject", overrides=["checklist"])
    [credit] = engine.get(dispute_id).provisional_credits
    assert (credit.state, credit.reversed_amount) == ("reversed", Decimal("125.50"))
    reversal = engine.history(dispute_id)[-1]
    assert reversal.name == "ProvisionalCreditReversed"
    assert reversal.data["instruction"] == f"{dispute_id}:credit:1:reversal"
    assert engine.get(dispute_id).paid_amount == 0
    tx = engine.get(dispute_id).claim.transaction
    assert engine.casework.commitments.committed(tx.chain_id, tx.tx_hash) == 0


def test_a_full_refund_makes_the_credit_permanent_and_pays_nothing_more(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = credited(engine, alice, bob)
    decide(engine, dispute_id, alice, outcome="refund", overrides=UNCHECKED)
    engine.approve_decision(dispute_id, by=Actor(id="dave", roles={Role.APPROVER}))
    reference = engine.execute_decision(dispute_id, by=bob)
    assert reference == f"credit:{dispute_id}:credit:1"
    view = engine.get(dispute_id)
    assert view.provisional_credits[0].state == "permanent"
    assert view.paid_amount == Decimal("125.50")
    assert len(engine._core.payout_gateway.instructions()) == 1  # type: ignore[attr-defined]


def test_a_smaller_award_reverses_the_excess_of_the_credit(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = credited(engine, alice, bob)
    decide(engine, dispute_id, alice, outcome="partial_refund", amount="100", overrides=UNCHECKED)
    engine.approve_decision(dispute_id, by=bob)
    engine.execute_decision(dispute_id, by=bob)
    view = engine.get(dispute_id)
    [credit] = view.provisional_credits
    assert (credit.state, credit.reversed_amount) == ("reversed", Decimal("25.50"))
    assert view.paid_amount == Decimal(100)
    tx = view.claim.transaction
    assert engine.casework.commitments.committed(tx.chain_id, tx.tx_hash) == 100_000_000


def test_the_checker_records_a_credit_fallen_due_once(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)
    assert engine.record_credit_deadlines() == []
    clock.advance(timedelta(days=20))
    assert engine.record_credit_deadlines() == [(dispute_id, "ProvisionalCreditDue")]
    assert engine.record_credit_deadlines() == []
    assert [e.name for e in engine.history(dispute_id)].count("ProvisionalCreditDue") == 1


def test_concurrent_checkers_make_a_credit_permanent_at_the_final_deadline_once(
    engine: DisputeEngine, alice: Actor, bob: Actor, clock: FakeClock
):
    dispute_id = credited(engine, alice, bob)
    clock.advance(timedelta(days=46))
    barrier = threading.Barrier(4)
    recorded: list[tuple[UUID, str]] = []

    def check() -> None:
        barrier.wait()
        recorded.extend(engine.record_credit_deadlines())

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert recorded == [(dispute_id, "ProvisionalCreditMadePermanent")]
    assert engine.get(dispute_id).provisional_credits[0].state == "permanent"
    assert engine.get(dispute_id).paid_amount == Decimal("125.50")
