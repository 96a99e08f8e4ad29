"""The per-transaction cap on SQLite and PostgreSQL: processes committing money at once."""

from __future__ import annotations

import contextlib
import multiprocessing
from typing import Any
from uuid import UUID, uuid4

import pytest

from dispute_engine import DisputeEngine
from dispute_engine.commitment_ledger import Commitment, CommitmentLedger
from dispute_engine.domain.errors import PayoutRefused
from dispute_engine.domain.money import Money

TX = "0x" + "7e" * 32
CAP = Money.parse("100", asset="USDT", decimals=6)
PROCESSES, ROUNDS = 6, 30


def commitment(key: str, units: int, tx_hash: str = TX) -> Commitment:
    return Commitment(key=key, chain_id=1, tx_hash=tx_hash, dispute_id=uuid4(), units=units)


@pytest.fixture
def ledger(engine: DisputeEngine) -> CommitmentLedger:
    return CommitmentLedger(engine._core.db)


def test_commitments_up_to_the_cap_are_recorded_and_the_next_is_refused(
    ledger: CommitmentLedger,
):
    assert ledger.commit(commitment("a:1", 60_000_000), cap=CAP)
    assert ledger.commit(commitment("b:1", 40_000_000, TX.upper().replace("0X", "0x")), cap=CAP)
    with pytest.raises(PayoutRefused) as refused:
        ledger.commit(commitment("c:1", 1), cap=CAP)
    assert refused.value.reason == "linked_cap"
    assert "past the 100 USDT the chain verified" in str(refused.value)
    assert ledger.committed(1, TX) == 100_000_000


def test_a_retried_commitment_is_found_not_counted_again(ledger: CommitmentLedger):
    assert ledger.commit(commitment("a:1", 70_000_000), cap=CAP)
    assert not ledger.commit(commitment("a:1", 70_000_000), cap=CAP)
    assert ledger.committed(1, TX) == 70_000_000


def test_money_given_back_makes_room_and_is_never_refused(ledger: CommitmentLedger):
    ledger.commit(commitment("a:credit", 100_000_000), cap=CAP)
    ledger.commit(commitment("a:credit:reversed", -30_000_000), cap=CAP)
    assert ledger.commit(commitment("b:1", 30_000_000), cap=CAP)
    with pytest.raises(PayoutRefused):
        ledger.commit(commitment("c:1", 1), cap=CAP)


def test_a_refused_or_released_commitment_leaves_no_trace(ledger: CommitmentLedger):
    ledger.commit(commitment("a:1", 90_000_000), cap=CAP)
    with pytest.raises(PayoutRefused):
        ledger.commit(commitment("b:1", 20_000_000), cap=CAP)
    ledger.release("a:1")
    assert ledger.committed(1, TX) == 0
    assert ledger.commit(commitment("b:1", 20_000_000), cap=CAP)


def test_transactions_and_chains_have_caps_of_their_own(ledger: CommitmentLedger):
    ledger.commit(commitment("a:1", 100_000_000), cap=CAP)
    assert ledger.commit(commitment("b:1", 100_000_000, "0x" + "11" * 32), cap=CAP)
    other_chain = Commitment("c:1", 10, TX, uuid4(), 100_000_000)
    assert ledger.commit(other_chain, cap=CAP)


def _commit_from_another_process(url: str, n: int, start: Any) -> int:
    """One payer's process: ROUNDS payouts of 1 USDT; returns how many were recorded."""
    recorded = 0
    with DisputeEngine.open(url) as engine:
        ledger = CommitmentLedger(engine._core.db)
        start.wait()
        for i in range(ROUNDS):
            with contextlib.suppress(PayoutRefused):
                recorded += ledger.commit(
                    Commitment(f"dispute-{n}-{i}:1", 1, TX, UUID(int=n), 1_000_000), cap=CAP
                )
    return recorded


def test_processes_paying_linked_disputes_at_once_never_pass_the_cap(
    db_url: str, ledger: CommitmentLedger
):
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(PROCESSES) as pool:
        pending = [
            pool.apply_async(_commit_from_another_process, (db_url, n, start))
            for n in range(PROCESSES)
        ]
        start.set()
        recorded = sum(p.get(timeout=300) for p in pending)
    assert PROCESSES * ROUNDS > 100
    assert recorded == 100
    assert ledger.committed(1, TX) == CAP.units
