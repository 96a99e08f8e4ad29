"""The recorder's event insert on SQLite and PostgreSQL: ids in order, clashes, wake-ups."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg.sql import SQL, Identifier

from dispute_engine import Actor, DisputeEngine
from dispute_engine.sealed_recorders import SealedPostgresRecorder
from tests.conftest import PG_URL, FakeClock
from tests.factories import file_dispute, sealed_settings
from tests.integration.test_projection_runner import wait_for


@pytest.fixture(params=["sealed", "unsealed"])
def opened(
    request: pytest.FixtureRequest, db_url: str, clock: FakeClock
) -> Iterator[DisputeEngine]:
    settings = sealed_settings() if request.param == "sealed" else None
    engine = DisputeEngine.open(db_url, clock=clock, settings=settings)
    yield engine
    engine.shutdown()


def event(originator_id: UUID, version: int) -> StoredEvent:
    return StoredEvent(originator_id, version, "t:Noted", b'{"text": "a \\"quoted\\", (odd) row"}')


def stored(engine: DisputeEngine) -> list[tuple[int, UUID, int]]:
    """Each stored event's notification id, originator and version, by notification id."""
    notifications = engine._core.events.recorder.select_notifications(None, 100)
    return [(n.id, UUID(str(n.originator_id)), n.originator_version) for n in notifications]


def seal_count(engine: DisputeEngine) -> int:
    db = engine._core.db
    return len(db.fetchall(f"SELECT seal FROM {db.table('event_seals')}"))


def test_a_multi_event_save_returns_notification_ids_in_event_order(opened: DisputeEngine) -> None:
    a, b = uuid4(), uuid4()
    events = [event(a, 1), event(b, 1), event(a, 2), event(b, 2), event(a, 3)]
    ids = opened._core.events.recorder.insert_events(events)
    assert ids is not None
    assert [
        (i, e.originator_id, e.originator_version) for i, e in zip(ids, events, strict=True)
    ] == stored(opened)
    sealed = opened._core.events.ring.current is not None
    assert seal_count(opened) == (len(events) if sealed else 0)


def test_a_version_clash_in_a_batch_stores_no_event_and_no_seal(opened: DisputeEngine) -> None:
    taken = uuid4()
    recorder = opened._core.events.recorder
    recorder.insert_events([event(taken, 1)])
    before, seals = stored(opened), seal_count(opened)
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(uuid4(), 1), event(taken, 1)])
    assert stored(opened) == before
    assert seal_count(opened) == seals


def test_a_save_notifies_the_listeners(pg_schema_url: str, clock: FakeClock) -> None:
    engine = DisputeEngine.open(pg_schema_url, clock=clock, settings=sealed_settings())
    recorder = engine._core.events.recorder
    assert isinstance(recorder, SealedPostgresRecorder)
    try:
        with psycopg.connect(PG_URL, autocommit=True) as listener:
            listener.execute(SQL("LISTEN {}").format(Identifier(recorder.channel_name)))
            recorder.insert_events([event(uuid4(), 1), event(uuid4(), 1)])
            heard = list(listener.notifies(timeout=5, stop_after=2))
        assert [n.channel for n in heard] == [recorder.channel_name]
    finally:
        engine.shutdown()


def test_a_follower_is_woken_by_a_save(pg_schema_url: str, clock: FakeClock, alice: Actor) -> None:
    engine = DisputeEngine.open(pg_schema_url, clock=clock, settings=sealed_settings())
    follower_engine = DisputeEngine.open(pg_schema_url, settings=sealed_settings())
    stop = threading.Event()
    # Polling every 5 s: only the save's notification can wake it within 3 s of the save.
    follower = threading.Thread(
        target=follower_engine.projections.follow, args=(stop,), kwargs={"interval": 5}
    )
    follower.start()
    try:
        queue = follower_engine.projections
        file_dispute(engine, alice)
        assert wait_for(lambda: queue.position("work_queue") >= 1)
        file_dispute(engine, alice, idempotency_key="second")
        assert wait_for(lambda: queue.position("work_queue") >= 2, seconds=3)
    finally:
        stop.set()
        follower.join(timeout=10)
        follower_engine.shutdown()
        engine.shutdown()
    assert not follower.is_alive()


def test_saves_commit_in_the_order_of_their_notification_ids(
    pg_schema_url: str, clock: FakeClock
) -> None:
    """A save waits for an earlier save still open, so a view that has read past an id can
    never miss a smaller one committed after it."""
    engine = DisputeEngine.open(pg_schema_url, clock=clock, settings=sealed_settings())
    recorder = engine._core.events.recorder
    assert isinstance(recorder, SealedPostgresRecorder)
    later: list[int] = []
    try:
        with recorder.datastore.get_connection() as open_save:
            open_save.autocommit = False
            first = event(uuid4(), 1)
            [row] = open_save.execute(
                recorder.save_events_statement,
                {
                    "ids": [first.originator_id],
                    "versions": [1],
                    "topics": [first.topic],
                    "states": [first.state],
                    "seal_ids": [],
                    "seal_versions": [],
                    "seals": [],
                    "claim_chains": [],
                    "claim_hashes": [],
                    "claim_disputes": [],
                    "claim_times": [],
                },
            ).fetchall()
            first_id = int(row[recorder.pg_function_name_save])
            saver = threading.Thread(
                target=lambda: later.extend(recorder.insert_events([event(uuid4(), 1)]) or [])
            )
            saver.start()
            saver.join(timeout=1)
            assert saver.is_alive()  # waits for the open save
            assert recorder.select_notifications(None, 10) == []  # nothing committed yet
            open_save.commit()
            open_save.autocommit = True
        saver.join(timeout=10)
        assert not saver.is_alive()
        assert len(later) == 1
        assert later[0] > first_id
        assert [n.id for n in recorder.select_notifications(None, 10)] == [first_id, later[0]]
    finally:
        engine.shutdown()
