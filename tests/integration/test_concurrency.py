"""Concurrent writers on one dispute: nothing lost, nothing duplicated, conflicts are typed."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dispute_engine import Actor, AddEvidence, DisputeEngine, ProposeDecision, Role
from dispute_engine.errors import ConcurrencyConflict, DisputeEngineError, InvalidTransition
from tests.factories import UNCHECKED, file_dispute

THREADS, WRITES = 6, 5


def run_together(count: int, work: Callable[[int], None]) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        barrier.wait()
        try:
            work(n)
        except BaseException as exc:  # collected and asserted on by the caller
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_investigators_lose_no_notes_or_evidence(engine: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)

    def write(n: int) -> None:
        actor = Actor(id=f"investigator-{n}", roles={Role.INVESTIGATOR})
        for i in range(WRITES):
            if i % 2:
                engine.add_note(dispute_id, f"note {n}-{i}", by=actor)
            else:
                engine.add_evidence(
                    dispute_id,
                    AddEvidence(
                        kind="other",
                        media_type="text/plain",
                        filename=f"{n}-{i}.txt",
                        content=f"evidence {n}-{i}".encode(),
                    ),
                    by=actor,
                )

    assert run_together(THREADS, write) == []
    view = engine.get(dispute_id)
    written = sorted([n.text for n in view.notes] + [e.filename for e in view.evidence])
    expected = sorted(
        f"note {n}-{i}" if i % 2 else f"{n}-{i}.txt" for n in range(THREADS) for i in range(WRITES)
    )
    assert written == expected
    assert view.version == 2 + THREADS * WRITES


def test_racing_approvers_approve_once_and_the_others_get_a_typed_refusal(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="reverted", overrides=UNCHECKED),
        by=alice,
    )

    def approve(n: int) -> None:
        engine.approve_decision(dispute_id, by=Actor(id=f"approver-{n}", roles={Role.APPROVER}))

    errors = run_together(4, approve)
    assert len(errors) == 3
    assert all(isinstance(e, ConcurrencyConflict | InvalidTransition) for e in errors)
    names = [e.name for e in engine.history(dispute_id)]
    assert names.count("DecisionApproved") == 1


def test_racing_executors_pay_once(engine: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="reverted", overrides=UNCHECKED),
        by=alice,
    )
    engine.approve_decision(dispute_id, by=Actor(id="bob", roles={Role.APPROVER}))

    def execute(n: int) -> None:
        engine.execute_decision(dispute_id, by=Actor(id=f"exec-{n}", roles={Role.APPROVER}))

    errors = run_together(4, execute)
    assert all(isinstance(e, ConcurrencyConflict | InvalidTransition) for e in errors)
    assert len(engine._core.payout_gateway.instructions()) == 1  # type: ignore[attr-defined]
    assert len(engine.get(dispute_id).payouts) == 1


def _open_and_file(url: str, key: str) -> str:
    engine = DisputeEngine.open(url)
    try:
        from dispute_engine import FileDispute
        from tests.factories import filing

        command = FileDispute.model_validate(filing(idempotency_key=key))
        return str(engine.file_dispute(command, by=Actor(id="a", roles={Role.INVESTIGATOR})))
    finally:
        engine.shutdown()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_opening_one_new_database_at_once_all_succeed(
    backend: str, request: pytest.FixtureRequest, tmp_path: object
):
    url = (
        request.getfixturevalue("pg_schema_url")
        if backend == "postgres"
        else f"sqlite:///{tmp_path}/new.db"
    )
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ids = pool.starmap(_open_and_file, [(url, f"key-{n % 2}") for n in range(8)])
    assert len({UUID(i) for i in ids}) == 2


PROCESSES, ROUNDS = 8, 20


def _notes_and_evidence(url: str, dispute_id: str, n: int, start: Any) -> list[str]:
    """One investigator's process: ROUNDS of a note and a piece of evidence."""
    start.wait()
    actor = Actor(id=f"investigator-{n}", roles={Role.INVESTIGATOR})
    failures = []
    with DisputeEngine.open(url) as engine:
        for i in range(ROUNDS):
            try:
                engine.add_note(dispute_id, f"note {n}-{i}", by=actor)
                engine.add_evidence(
                    dispute_id,
                    AddEvidence(
                        kind="other",
                        media_type="text/plain",
                        filename=f"{n}-{i}.txt",
                        content=f"evidence {n}-{i}".encode(),
                    ),
                    by=actor,
                )
            except DisputeEngineError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
    return failures


def test_eight_processes_adding_notes_and_evidence_to_one_dispute_all_land(
    db_url: str, alice: Actor
):
    with DisputeEngine.open(db_url) as engine:
        dispute_id = str(file_dispute(engine, alice))
        engine.assign(dispute_id, investigator="alice", by=alice)
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(PROCESSES) as pool:
        pending = [
            pool.apply_async(_notes_and_evidence, (db_url, dispute_id, n, start))
            for n in range(PROCESSES)
        ]
        start.set()
        failures = [f for p in pending for f in p.get(timeout=600)]
    assert failures == []
    with DisputeEngine.open(db_url) as engine:
        view = engine.get(dispute_id)
    assert len(view.notes) == PROCESSES * ROUNDS
    assert len(view.evidence) == PROCESSES * ROUNDS


# SQLite's unix locks are fcntl locks, held per process: closing *any* descriptor of the
# database file drops them all. Its shared lock on the file is how a closing process learns it
# is not the last one using the write-ahead log; without it, that process checkpoints the log
# away under the others' writes (lost notes, "database disk image is malformed").
_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002)  # SQLite's shared range
    print("free")
except OSError:
    print("held")
"""


def _sqlite_shared_lock(path: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, path], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_an_sqlite_engine_keeps_its_shared_lock_through_opening_and_writers_turns(
    tmp_path: Path, alice: Actor
):
    path = str(tmp_path / "locks.db")
    with DisputeEngine.open(f"sqlite:///{path}") as engine:
        dispute_id = file_dispute(engine, alice)
        engine.get(dispute_id)
        assert _sqlite_shared_lock(path) == "held"
        with engine._core.storage.writer_turn(str(dispute_id)):
            assert _sqlite_shared_lock(path) == "held"
        assert _sqlite_shared_lock(path) == "held"
    assert _sqlite_shared_lock(path) == "free"
