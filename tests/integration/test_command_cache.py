"""Commands on a dispute the engine kept from its last save: another writer is never lost and
a stale copy never decides a command's answer."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import Any

import pytest

from dispute_engine import Actor, DisputeEngine, ProposeDecision, Role, Settings
from dispute_engine.domain.dispute import Dispute
from dispute_engine.errors import ConcurrencyConflict, DisputeEngineError, InvalidTransition
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute

BOB = Actor(id="bob", roles={Role.APPROVER})
CACHED = Settings(command_cache_size=100)


@pytest.fixture
def engine(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    """An engine keeping the disputes it saved last."""
    engine = DisputeEngine.open(db_url, clock=clock, settings=CACHED)
    yield engine
    engine.shutdown()


@pytest.fixture
def other(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    """A second engine on the engine's database, as another process would be."""
    engine = DisputeEngine.open(db_url, clock=clock)
    yield engine
    engine.shutdown()


def names(engine: DisputeEngine, dispute_id: Any) -> list[str]:
    return [entry.name for entry in engine.history(dispute_id)]


def test_a_filed_and_assigned_dispute_is_kept_for_the_next_command(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    kept = engine._core.saved.take(dispute_id)
    assert kept is not None
    assert (kept.version, kept.assignee) == (2, "alice")


def test_a_command_on_a_kept_dispute_lands_after_another_engines_write(
    engine: DisputeEngine, other: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)  # kept at version 2
    other.add_note(dispute_id, "from the other engine", by=alice)
    engine.add_note(dispute_id, "from this engine", by=alice)
    view = engine.get(dispute_id)
    assert [n.text for n in view.notes] == ["from the other engine", "from this engine"]
    assert view.version == 4
    assert other.get(dispute_id).version == 4


def test_a_command_the_fresh_state_refuses_is_refused_whatever_the_kept_copy_says(
    engine: DisputeEngine, other: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)  # kept: filed, open
    other.withdraw(dispute_id, reason="sorted out with the merchant", by=alice)
    with pytest.raises(InvalidTransition):
        engine.assign(dispute_id, investigator="alice", by=alice)
    assert names(engine, dispute_id) == ["Filed", "Withdrawn"]


def test_a_command_the_kept_copy_refuses_gets_the_fresh_states_answer(
    engine: DisputeEngine, other: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)  # kept: no decision to approve
    other.assign(dispute_id, investigator="alice", by=alice)
    other.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="reverted", overrides=UNCHECKED),
        by=alice,
    )
    engine.approve_decision(dispute_id, by=BOB)
    assert names(engine, dispute_id)[-1] == "DecisionApproved"


def test_a_command_that_records_nothing_on_the_kept_copy_is_redone_on_the_fresh_state(
    engine: DisputeEngine, other: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)  # kept: unassigned
    other.assign(dispute_id, investigator="alice", by=alice)

    def note_if_assigned(dispute: Dispute) -> bool:
        if dispute.assignee:
            dispute.add_note("assigned: noted", by=alice, now=engine.now())
        return bool(dispute.assignee)

    assert engine._core.command(dispute_id, note_if_assigned) is True
    assert [n.text for n in engine.get(dispute_id).notes] == ["assigned: noted"]


def test_no_dispute_is_kept_by_default(db_url: str, clock: FakeClock, alice: Actor):
    with DisputeEngine.open(db_url, clock=clock) as engine:
        dispute_id = file_dispute(engine, alice)
        engine.assign(dispute_id, investigator="alice", by=alice)
        assert engine._core.saved.take(dispute_id) is None


PROCESSES, ROUNDS = 4, 10


def _race(url: str, dispute_id: str, n: int, start: Any) -> tuple[list[str], list[str]]:
    """One process: a note (so it keeps the dispute), then at the start signal an approval
    and ROUNDS notes; returns the errors of the approval and of the notes."""
    actor = Actor(id=f"approver-{n}", roles={Role.APPROVER, Role.INVESTIGATOR})
    refused, failed = [], []
    with DisputeEngine.open(url, settings=CACHED) as engine:
        engine.add_note(dispute_id, f"ready {n}", by=actor)
        start.wait()
        try:
            engine.approve_decision(dispute_id, by=actor)
        except (ConcurrencyConflict, InvalidTransition) as exc:
            refused.append(type(exc).__name__)
        for i in range(ROUNDS):
            try:
                engine.add_note(dispute_id, f"note {n}-{i}", by=actor)
            except DisputeEngineError as exc:
                failed.append(f"{type(exc).__name__}: {exc}")
    return refused, failed


def test_processes_writing_from_kept_copies_at_once_lose_nothing(db_url: str, alice: Actor):
    with DisputeEngine.open(db_url) as engine:
        dispute_id = str(file_dispute(engine, alice))
        engine.assign(dispute_id, investigator="alice", by=alice)
        engine.propose_decision(
            dispute_id,
            ProposeDecision(outcome="refund", rationale="reverted", overrides=UNCHECKED),
            by=alice,
        )
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(PROCESSES) as pool:
        pending = [
            pool.apply_async(_race, (db_url, dispute_id, n, start)) for n in range(PROCESSES)
        ]
        start.set()
        results = [p.get(timeout=600) for p in pending]
    assert sum(len(refused) for refused, _ in results) == PROCESSES - 1
    assert [failed for _, failed in results] == [[]] * PROCESSES
    with DisputeEngine.open(db_url) as engine:
        history = names(engine, dispute_id)
        notes = {n.text for n in engine.get(dispute_id).notes}
    assert history.count("DecisionApproved") == 1
    assert notes == {f"ready {n}" for n in range(PROCESSES)} | {
        f"note {n}-{i}" for n in range(PROCESSES) for i in range(ROUNDS)
    }
