"""Linked claims through the public API on SQLite and PostgreSQL: links, and one cap."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.commands import ProposeDecision
from dispute_engine.errors import PayoutRefused
from dispute_engine.payout_ledger import PayoutLedger
from tests.factories import UNCHECKED, file_dispute

TX = "0x" + "5a" * 32


def approved(engine: DisputeEngine, alice: Actor, bob: Actor, amount: str = "125.50") -> UUID:
    dispute_id = file_dispute(engine, alice, transaction={"tx_hash": TX})
    engine.assign(dispute_id, investigator="alice", by=alice)
    outcome = "refund" if amount == "125.50" else "partial_refund"
    engine.propose_decision(
        dispute_id,
        ProposeDecision(
            outcome=outcome,  # type: ignore[arg-type]
            amount=Decimal(amount),
            rationale="never arrived",
            overrides=UNCHECKED,
        ),
        by=alice,
    )
    engine.approve_decision(dispute_id, by=bob)
    return dispute_id


def test_filing_for_a_claimed_transaction_links_every_dispute_on_it_both_ways(
    engine: DisputeEngine, alice: Actor
):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX})
    second = file_dispute(engine, alice, transaction={"tx_hash": TX.upper().replace("0X", "0x")})
    third = file_dispute(engine, alice, transaction={"tx_hash": TX})
    assert engine.get(first).linked == [second, third]
    assert engine.get(second).linked == [first, third]
    assert engine.get(third).linked == [first, second]
    assert [e.name for e in engine.history(first)].count("ClaimLinked") == 2
    assert engine.history(third)[-1].data["linked_to"] == str(second)


def test_a_closed_dispute_is_linked_too(engine: DisputeEngine, alice: Actor):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX})
    engine.assign(first, investigator="alice", by=alice)
    engine.propose_decision(
        first, ProposeDecision(outcome="reject", rationale="r", overrides=["checklist"]), by=alice
    )
    engine.close(first, by=alice)
    second = file_dispute(engine, alice, transaction={"tx_hash": TX})
    assert engine.get(first).linked == [second]
    assert engine.get(first).status == "closed"


def test_a_retried_filing_links_nothing_twice(engine: DisputeEngine, alice: Actor):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX})
    again = {"transaction": {"tx_hash": TX}, "idempotency_key": "same-key"}
    second = file_dispute(engine, alice, **again)
    assert file_dispute(engine, alice, **again) == second
    assert engine.get(first).linked == [second]
    assert engine.get(second).linked == [first]


def test_linked_disputes_together_are_never_paid_more_than_the_transaction_moved(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    first = approved(engine, alice, bob, "100")
    second = approved(engine, alice, bob, "30")
    engine.execute_decision(first, by=bob)
    with pytest.raises(PayoutRefused) as refused:
        engine.execute_decision(second, by=bob)
    assert refused.value.reason == "linked_cap"
    assert engine.get(second).status == "approved"  # nothing paid: it stays approved
    ledger = engine._core.payout_gateway
    assert isinstance(ledger, PayoutLedger)
    assert [i["dispute_id"] for i in ledger.instructions()] == [str(first)]
    assert engine.casework.commitments.committed(1, TX) == 100_000_000


def _execute(url: str, dispute_id: str, start: Any) -> str:
    with DisputeEngine.open(url) as engine:
        start.wait()
        try:
            engine.execute_decision(dispute_id, by=Actor(id="bob", roles={Role.APPROVER}))
        except PayoutRefused as refused:
            return refused.reason
        return "paid"


def test_two_processes_paying_two_linked_disputes_at_once_pay_only_one(
    db_url: str, engine: DisputeEngine, alice: Actor, bob: Actor
):
    ids = [str(approved(engine, alice, bob, "100")) for _ in range(2)]
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(2) as pool:
        pending = [pool.apply_async(_execute, (db_url, i, start)) for i in ids]
        start.set()
        outcomes = sorted(p.get(timeout=120) for p in pending)
    assert outcomes == ["linked_cap", "paid"]
    assert sum(engine.get(i).paid_amount for i in ids) == Decimal(100)
    assert engine.casework.commitments.committed(1, TX) == 100_000_000
