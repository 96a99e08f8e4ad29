"""The disputes an engine keeps from its last saves: bounded, newest version kept, taken once."""

from __future__ import annotations

from dispute_engine import Actor, DisputeEngine
from dispute_engine.saved_disputes import SavedDisputes
from tests.factories import file_dispute


def test_the_least_recently_saved_dispute_is_dropped_first(
    memory_engine: DisputeEngine, alice: Actor
):
    first, second, third = (
        memory_engine._core.load(file_dispute(memory_engine, alice)) for _ in range(3)
    )
    saved = SavedDisputes(2)
    saved.keep(first)
    saved.keep(second)
    saved.keep(first)  # saved again: now the most recent
    saved.keep(third)
    assert saved.take(second.id) is None
    assert saved.take(first.id) is first
    assert saved.take(third.id) is third


def test_a_dispute_is_taken_once_and_an_older_version_never_replaces_a_newer(
    memory_engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(memory_engine, alice)
    older = memory_engine._core.load(dispute_id)
    memory_engine.assign(dispute_id, investigator="alice", by=alice)
    newer = memory_engine._core.load(dispute_id)
    saved = SavedDisputes(10)
    saved.keep(newer)
    saved.keep(older)
    assert saved.take(dispute_id) is newer
    assert saved.take(dispute_id) is None


def test_nothing_is_kept_with_a_size_of_zero(memory_engine: DisputeEngine, alice: Actor):
    dispute = memory_engine._core.load(file_dispute(memory_engine, alice))
    saved = SavedDisputes(0)
    saved.keep(dispute)
    assert saved.take(dispute.id) is None
