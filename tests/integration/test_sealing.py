"""Every stored event is sealed in the transaction that stores it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine
from dispute_engine.domain.errors import ConcurrencyConflict
from dispute_engine.seals import Seal, SigningKey
from tests.conftest import FakeClock
from tests.databases import engine_without_db_functions
from tests.factories import SEALING_KEY as KEY
from tests.factories import file_dispute, sealed_settings


@pytest.fixture
def sealed(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    engine = DisputeEngine.open(db_url, clock=clock, settings=sealed_settings())
    yield engine
    engine.shutdown()


def stored_with_seals(engine: DisputeEngine) -> list[tuple[UUID, int, str, bytes, str | None]]:
    db = engine._core.db
    rows = db.fetchall(
        f"SELECT e.originator_id, e.originator_version, e.topic, e.state, s.seal "
        f"FROM {engine._core.events_table} e LEFT JOIN {db.table('event_seals')} s "
        "ON s.originator_id = e.originator_id AND s.originator_version = e.originator_version"
    )
    return [
        (
            UUID(str(r["originator_id"])),
            int(r["originator_version"]),
            str(r["topic"]),
            bytes(r["state"]),
            r["seal"],
        )
        for r in rows
    ]


def test_every_stored_event_has_a_seal_by_the_engines_key(sealed: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(sealed, alice)
    sealed.assign(dispute_id, investigator="alice", by=alice)
    rows = stored_with_seals(sealed)
    assert len(rows) == 2
    ring = sealed._core.events.ring
    for originator_id, version, topic, state, seal in rows:
        assert seal is not None
        assert Seal.from_text(seal).key_id == KEY.key_id
        ring.verify_event(Seal.from_text(seal), originator_id, version, topic, state)


def test_a_conflicting_save_stores_neither_event_nor_seal(sealed: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(sealed, alice)
    first = sealed._core.load(dispute_id)
    second = sealed._core.load(dispute_id)
    first.add_note("first", by=alice, now=sealed.now())
    second.add_note("second", by=alice, now=sealed.now())
    sealed._core.save(first)
    with pytest.raises(ConcurrencyConflict):
        sealed._core.save(second)
    rows = stored_with_seals(sealed)
    assert len(rows) == 2
    assert all(seal is not None for *_, seal in rows)
    seals = sealed._core.db.fetchall(f"SELECT seal FROM {sealed._core.db.table('event_seals')}")
    assert len(seals) == 2


def test_seals_by_a_retired_key_still_verify(db_url: str, clock: FakeClock, alice: Actor):
    old = DisputeEngine.open(db_url, clock=clock, settings=sealed_settings())
    file_dispute(old, alice)
    old.shutdown()
    new_key = SigningKey.generate()
    engine = DisputeEngine.open(
        db_url, clock=clock, settings=sealed_settings(new_key, retired=(KEY,))
    )
    try:
        file_dispute(engine, alice, idempotency_key="second")
        ring = engine._core.events.ring
        kids = []
        for originator_id, version, topic, state, seal in stored_with_seals(engine):
            assert seal is not None
            ring.verify_event(Seal.from_text(seal), originator_id, version, topic, state)
            kids.append(Seal.from_text(seal).key_id)
        assert sorted(kids) == sorted([KEY.key_id, new_key.key_id])
    finally:
        engine.shutdown()


def test_postgres_without_its_insert_function_seals_in_the_same_transaction(
    pg_schema_url: str, clock: FakeClock, alice: Actor
):
    with engine_without_db_functions(pg_schema_url, clock, sealed_settings()) as engine:
        dispute_id = file_dispute(engine, alice)
        engine.assign(dispute_id, investigator="alice", by=alice)
        rows = stored_with_seals(engine)
        assert len(rows) == 2
        assert all(seal is not None for *_, seal in rows)
        assert engine.audit.verify().ok
