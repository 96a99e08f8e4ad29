"""The linked-claims index on SQLite and PostgreSQL: disputes by transaction, and their money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dispute_engine import Actor, DisputeEngine
from dispute_engine.commands import ProposeDecision
from dispute_engine.domain.linked_claims import Commitment, still_payable
from dispute_engine.domain.money import Money
from projections.linked_claims import LinkedClaimsView
from projections.runner import ProjectionRunner
from tests.factories import UNCHECKED, file_dispute

TX = "0x" + "c4" * 32
OTHER_TX = "0x" + "d5" * 32


@pytest.fixture
def index(engine: DisputeEngine) -> ProjectionRunner:
    """A runner of the engine's views, the linked-claims index among them."""
    return ProjectionRunner(engine._core.events)


def refund(engine: DisputeEngine, dispute_id: object, by: Actor, amount: str) -> None:
    engine.propose_decision(
        dispute_id,  # type: ignore[arg-type]
        ProposeDecision(
            outcome="partial_refund",
            amount=Decimal(amount),
            rationale="paid as the claimant shows",
            overrides=UNCHECKED,
        ),
        by=by,
    )


def test_disputes_on_one_transaction_are_found_by_chain_and_hash_in_any_case(
    engine: DisputeEngine, index: ProjectionRunner, alice: Actor
):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX})
    second = file_dispute(engine, alice, transaction={"tx_hash": TX.upper().replace("0X", "0x")})
    file_dispute(engine, alice, transaction={"tx_hash": OTHER_TX})
    file_dispute(
        engine,
        alice,
        transaction={"tx_hash": TX, "chain_id": 10, "asset": "ETH", "token_address": None},
    )
    index.catch_up(["linked_claims"])

    claims = LinkedClaimsView.on(engine._core.db, 1, TX.upper())
    assert [c.dispute_id for c in claims] == [first, second]
    assert {c.claimed_units for c in claims} == {125_500_000}
    assert {c.status for c in claims} == {"filed"}
    assert LinkedClaimsView.on(engine._core.db, 1, "0x" + "ee" * 32) == []


def test_the_index_keeps_what_each_dispute_approved_paid_and_no_longer_commits(
    engine: DisputeEngine, index: ProjectionRunner, alice: Actor, bob: Actor
):
    paid = file_dispute(engine, alice, transaction={"tx_hash": TX})
    approved = file_dispute(engine, alice, transaction={"tx_hash": TX})
    sent_back = file_dispute(engine, alice, transaction={"tx_hash": TX})
    for dispute_id, amount in ((paid, "40"), (approved, "30"), (sent_back, "20")):
        engine.assign(dispute_id, investigator="alice", by=alice)
        refund(engine, dispute_id, alice, amount)
    engine.approve_decision(paid, by=bob)
    engine.execute_decision(paid, by=bob)
    engine.approve_decision(approved, by=bob)
    engine.send_back(sent_back, reason="ask for the receipt", by=bob)
    index.catch_up(["linked_claims"])

    claims = {c.dispute_id: c for c in LinkedClaimsView.on(engine._core.db, 1, TX)}
    assert (claims[paid].paid_units, claims[paid].approved_units) == (40_000_000, 0)
    assert (claims[approved].paid_units, claims[approved].approved_units) == (0, 30_000_000)
    assert claims[sent_back].committed_units == 0
    assert claims[paid].status == "resolved"
    assert claims[sent_back].status == "investigating"

    verified = Money.parse("100", asset="USDT", decimals=6)
    commitments: list[Commitment] = [c for claim in claims.values() for c in claim.commitments()]
    assert str(still_payable(verified, commitments)) == "30 USDT"
    # The approved decision checked again at its own execution is not counted twice.
    mine = (approved, claims[approved].decision_number)
    assert str(still_payable(verified, commitments, excluding=mine)) == "60 USDT"


def test_a_reopened_dispute_no_longer_commits_its_unpaid_approval(
    engine: DisputeEngine, index: ProjectionRunner, alice: Actor, bob: Actor, carol: Actor
):
    dispute_id = file_dispute(engine, alice, transaction={"tx_hash": TX})
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="reject", rationale="no proof", overrides=["checklist"]),
        by=alice,
    )
    engine.reopen(dispute_id, reason="claimant appeal with a receipt", by=alice)
    refund(engine, dispute_id, carol, "10")  # an appeal goes to someone who did not decide
    engine.approve_decision(dispute_id, by=bob)
    index.catch_up(["linked_claims"])
    [claim] = LinkedClaimsView.on(engine._core.db, 1, TX)
    assert (claim.decision_number, claim.approved_units) == (2, 10_000_000)


def test_a_rebuilt_index_equals_the_one_kept_event_by_event(
    engine: DisputeEngine, index: ProjectionRunner, alice: Actor, bob: Actor
):
    for amount in ("5", "6", "7"):
        dispute_id = file_dispute(engine, alice, transaction={"tx_hash": TX})
        engine.assign(dispute_id, investigator="alice", by=alice)
        refund(engine, dispute_id, alice, amount)
        index.catch_up(["linked_claims"])  # one event batch at a time
        engine.approve_decision(dispute_id, by=bob)
    index.catch_up(["linked_claims"])
    kept = LinkedClaimsView.on(engine._core.db, 1, TX)
    index.rebuild("linked_claims")
    assert LinkedClaimsView.on(engine._core.db, 1, TX) == kept
    assert sum(c.committed_units for c in kept) == 18_000_000
