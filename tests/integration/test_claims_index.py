"""The claims index: each filing's transaction, written in the filing's own transaction.

Filing links a dispute with every other dispute on its transaction by one indexed read of this
index, on SQLite and PostgreSQL (with and without its insert function).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine, Settings
from dispute_engine.errors import IdempotencyKeyReused
from dispute_engine.sealed_recorders import CLAIMS
from tests.conftest import FakeClock
from tests.databases import engine_without_db_functions
from tests.factories import file_dispute

TX = "0x" + "5a" * 32


def indexed(engine: DisputeEngine) -> list[tuple[int, str, UUID]]:
    """The claims index's rows, in filing order."""
    db = engine._core.db
    rows = db.fetchall(
        f"SELECT chain_id, tx_hash, dispute_id FROM {db.table(CLAIMS)} ORDER BY filed_at"
    )
    return [(int(r["chain_id"]), str(r["tx_hash"]), UUID(str(r["dispute_id"]))) for r in rows]


def test_each_filing_is_indexed_by_its_transaction_in_any_case(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX.upper().replace("0X", "0x")})
    clock.advance(timedelta(minutes=1))
    second = file_dispute(engine, alice, transaction={"tx_hash": TX})
    other = file_dispute(engine, alice)
    assert indexed(engine)[:2] == [(1, TX, first), (1, TX, second)]
    assert engine._core.events.filed_on(1, TX.upper()) == [first, second]
    assert engine.get(first).linked == [second]
    assert engine.get(other).linked == []
    assert engine.projections.position("linked_claims") == 0  # filing wrote no view


def test_a_refused_filing_indexes_nothing(engine: DisputeEngine, alice: Actor, clock: FakeClock):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX}, idempotency_key="same")
    clock.advance(timedelta(hours=1))  # a retry's row would differ in its filing time
    assert file_dispute(engine, alice, transaction={"tx_hash": TX}, idempotency_key="same") == first
    with pytest.raises(IdempotencyKeyReused):
        file_dispute(
            engine, alice, transaction={"tx_hash": TX}, idempotency_key="same", priority="high"
        )
    assert indexed(engine) == [(1, TX, first)]


def test_a_filing_by_another_process_is_found_at_once(
    db_url: str, engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX})
    other = DisputeEngine.open(db_url, clock=clock)
    try:
        clock.advance(timedelta(seconds=1))
        second = file_dispute(other, alice, transaction={"tx_hash": TX})
    finally:
        other.shutdown()
    clock.advance(timedelta(seconds=1))
    third = file_dispute(engine, alice, transaction={"tx_hash": TX})
    assert engine.get(third).linked == [first, second]
    assert engine.get(first).linked == [second, third]


def test_a_store_from_before_the_index_is_indexed_when_opened(
    db_url: str, engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    first = file_dispute(engine, alice, transaction={"tx_hash": TX})
    clock.advance(timedelta(seconds=1))
    unreadable = file_dispute(engine, alice, transaction={"tx_hash": TX})
    clock.advance(timedelta(seconds=1))
    second = file_dispute(engine, alice, transaction={"tx_hash": TX})
    db = engine._core.db
    with db.transaction() as cursor:
        db.execute(cursor, f"DELETE FROM {db.table(CLAIMS)}")  # as an earlier release left it
        db.execute(
            cursor,
            f"UPDATE {engine._core.events_table} SET state = ? "
            "WHERE originator_id = ? AND originator_version = 1",
            [b"not json", db.originator_key(unreadable)],
        )
    reopened = DisputeEngine.open(db_url, clock=clock)
    try:
        assert indexed(reopened) == [(1, TX, first), (1, TX, second)]
        clock.advance(timedelta(seconds=1))
        third = file_dispute(reopened, alice, transaction={"tx_hash": TX})
        assert reopened.get(third).linked == [first, second]
    finally:
        reopened.shutdown()


def test_postgres_without_its_insert_function_indexes_in_the_same_transaction(
    pg_schema_url: str, clock: FakeClock, alice: Actor
):
    with engine_without_db_functions(pg_schema_url, clock, Settings()) as engine:
        first = file_dispute(engine, alice, transaction={"tx_hash": TX}, idempotency_key="same")
        clock.advance(timedelta(hours=1))
        again = file_dispute(engine, alice, transaction={"tx_hash": TX}, idempotency_key="same")
        second = file_dispute(engine, alice, transaction={"tx_hash": TX})
        assert again == first
        assert indexed(engine) == [(1, TX, first), (1, TX, second)]
        assert engine.get(second).linked == [first]
