"""Snapshots every N events: loading starts from the latest one and gives the same dispute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dispute_engine import Actor, DisputeEngine, Settings
from dispute_engine.domain.dispute import Dispute
from tests.conftest import FakeClock
from tests.factories import file_dispute


def state(dispute: Dispute) -> dict[str, Any]:
    dispute.sla  # noqa: B018 - apply the pending clock moves on both sides alike
    return {k: v for k, v in vars(dispute).items() if k not in ("_pending_events", "_claim")}


def test_a_dispute_loads_from_its_latest_snapshot_as_it_replays_from_events(
    db_url: str, clock: FakeClock, alice: Actor
):
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(snapshot_interval=3))
    try:
        dispute_id = file_dispute(engine, alice)
        engine.assign(dispute_id, investigator="alice", by=alice)
        engine.request_evidence(dispute_id, what="a screenshot", by=alice)
        for n in range(5):
            engine.add_note(dispute_id, f"note {n}", by=alice)
        assert engine._core.events.snapshots is not None
        versions = [s.originator_version for s in engine._core.events.snapshots.get(dispute_id)]
        assert versions == [3, 6]
        [replayed] = engine._core.load_many([dispute_id])  # every event, no snapshot
        loaded = engine._core.load(dispute_id)
        assert loaded.version == replayed.version == 8
        assert state(loaded) == state(replayed)
        assert [n.text for n in engine.get(dispute_id).notes][-1] == "note 4"
    finally:
        engine.shutdown()


def test_snapshots_can_be_turned_off(db_url: str, clock: FakeClock, alice: Actor):
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(snapshot_interval=0))
    try:
        dispute_id = file_dispute(engine, alice)
        for n in range(4):
            engine.add_note(dispute_id, f"note {n}", by=alice)
        assert engine._core.events.snapshots is None
        assert len(engine.get(dispute_id).notes) == 4
    finally:
        engine.shutdown()


@pytest.mark.parametrize(
    "damage",
    [
        lambda state: state.replace(b'"notes"', b'"notez"'),  # reads back as no dispute
        lambda state: b"\xff\xfe" + state,  # not even text
    ],
)
def test_a_snapshot_damaged_in_the_store_is_ignored_and_the_events_replayed(
    db_url: str, clock: FakeClock, alice: Actor, damage: Callable[[bytes], bytes]
):
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(snapshot_interval=3))
    try:
        dispute_id = file_dispute(engine, alice)
        for n in range(4):
            engine.add_note(dispute_id, f"note {n}", by=alice)
        before = engine.get(dispute_id)
        assert engine._core.events.snapshots is not None
        table = engine._core.db.table(engine._core.events.snapshots.recorder.events_table_name)  # type: ignore[attr-defined]
        key = engine._core.db.originator_key(dispute_id)
        with engine._core.db.transaction() as cursor:
            engine._core.db.execute(
                cursor, f"SELECT state FROM {table} WHERE originator_id = ?", [key]
            )
            state = bytes(cursor.fetchone()["state"])
            engine._core.db.execute(
                cursor,
                f"UPDATE {table} SET state = ? WHERE originator_id = ?",
                [damage(state), key],
            )
        assert engine.get(dispute_id) == before
        engine.add_note(dispute_id, "after the damage", by=alice)
        assert [n.text for n in engine.get(dispute_id).notes][-1] == "after the damage"
    finally:
        engine.shutdown()
