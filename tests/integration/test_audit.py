"""The audit log on SQLite and PostgreSQL: a Merkle log of sealed events, its export, its
proofs, and `audit verify` on an untouched store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import Result
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine
from dispute_engine.checkpoints import Checkpoint
from dispute_engine.cli import app
from dispute_engine.domain.errors import InvalidInput, StorageUnavailable
from dispute_engine.merkle import InvalidProof
from dispute_engine.proofs import verify_consistency_proof, verify_inclusion_proof
from dispute_engine.seals import SigningKey
from dispute_engine.witness import WitnessUnavailable, WitnessWriter, read_witness
from projections import audit_log
from tests.conftest import FakeClock
from tests.factories import SEALING_KEY, file_dispute, sealed_env, sealed_settings

runner = CliRunner()


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    return tmp_path / "witness"


@pytest.fixture
def sealed(db_url: str, clock: FakeClock, witness: Path) -> Iterator[DisputeEngine]:
    settings = sealed_settings(witness=witness, checkpoint_every_events=3)
    engine = DisputeEngine.open(db_url, clock=clock, settings=settings)
    yield engine
    engine.shutdown()


def worked_dispute(engine: DisputeEngine, alice: Actor, key: str = "k") -> UUID:
    dispute_id = file_dispute(engine, alice, idempotency_key=key)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.add_note(dispute_id, "called the exchange", by=alice)
    return dispute_id


def test_export_has_every_event_with_its_leaf_and_no_event_data(
    sealed: DisputeEngine, alice: Actor
):
    dispute_id = worked_dispute(sealed, alice)
    lines = [json.loads(line) for line in sealed.export_audit_log("jsonl").splitlines()]
    assert [row["event"] for row in lines] == ["Filed", "Assigned", "NoteAdded"]
    assert [row["leaf_index"] for row in lines] == [0, 1, 2]
    assert {row["actor"] for row in lines} == {"alice"}
    assert "called the exchange" not in sealed.export_audit_log("jsonl")
    assert [row["leaf_hash"] for row in lines] == [e.hash for e in sealed.history(dispute_id)]
    rows = list(csv.DictReader(io.StringIO(sealed.export_audit_log("csv"))))
    assert [r["version"] for r in rows] == ["1", "2", "3"]
    with pytest.raises(InvalidInput):
        sealed.export_audit_log("xml")


def test_a_large_catch_up_batch_considers_a_checkpoint_every_stride(
    sealed: DisputeEngine, alice: Actor, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(audit_log, "CHECKPOINT_STRIDE", 4)
    for n in range(5):
        worked_dispute(sealed, alice, key=f"k{n}")
    assert sealed.projections.catch_up(["audit_log"]) == {"audit_log": 15}  # one batch
    assert [c.tree_size for c in sealed.audit.checkpoints()] == [4, 8, 12, 15]  # every 3
    report = sealed.audit.verify()
    assert report.ok, report.problems
    assert (report.logged, report.checkpoints) == (15, 4)


def test_verify_passes_on_an_untouched_store(sealed: DisputeEngine, alice: Actor):
    worked_dispute(sealed, alice)
    progress: list[tuple[int, int]] = []
    report = sealed.audit.verify(progress=lambda done, total: progress.append((done, total)))
    assert report.ok, report.problems
    assert progress[-1] == (3, 3)
    assert (report.events, report.logged, report.appended) == (3, 3, 3)
    assert report.checkpoints == 1
    assert report.witnessed == 1
    again = sealed.audit.verify()
    assert (again.ok, again.appended) == (True, 0)


def test_unsealed_events_are_reported_and_never_logged(db_url: str, clock: FakeClock, alice: Actor):
    with DisputeEngine.open(db_url, clock=clock) as unsealed:  # no key: nothing is sealed
        worked_dispute(unsealed, alice)
    with DisputeEngine.open(db_url, clock=clock, settings=sealed_settings()) as engine:
        report = engine.audit.verify()
        assert not report.ok
        assert report.logged == 0
        assert [(p.version, "has no seal" in p.problem) for p in report.problems] == [
            (1, True),
            (2, True),
            (3, True),
        ]


def test_inclusion_proofs_verify_against_a_signed_checkpoint_and_the_public_key(
    sealed: DisputeEngine, alice: Actor
):
    first = worked_dispute(sealed, alice)
    sealed.projections.catch_up(["audit_log"])
    second = worked_dispute(sealed, alice, key="second")
    sealed.projections.catch_up(["audit_log"])
    checkpoints = sealed.audit.checkpoints()
    assert [c.tree_size for c in checkpoints] == [3, 6]
    proof = sealed.audit.prove_inclusion(first, 2)
    assert (proof.leaf_index, proof.tree_size) == (1, 6)
    verify_inclusion_proof(proof, checkpoints[-1], public_key=SEALING_KEY.public_key)
    early = sealed.audit.prove_inclusion(first, 3, tree_size=3)
    verify_inclusion_proof(early, checkpoints[0], public_key=SEALING_KEY.public_key)
    other = sealed.audit.prove_inclusion(second, 1)
    forged = type(proof)(**{**vars(proof), "leaf": other.leaf})
    with pytest.raises(InvalidProof):
        verify_inclusion_proof(forged, checkpoints[-1], public_key=SEALING_KEY.public_key)
    with pytest.raises(InvalidProof):  # a checkpoint is trusted only by the engine's key
        verify_inclusion_proof(proof, checkpoints[-1], public_key=SigningKey.generate().public_key)


def test_consistency_proofs_link_checkpoints(sealed: DisputeEngine, alice: Actor):
    worked_dispute(sealed, alice)
    sealed.projections.catch_up(["audit_log"])
    worked_dispute(sealed, alice, key="second")
    sealed.projections.catch_up(["audit_log"])
    old, new = sealed.audit.checkpoints()
    proof = sealed.audit.prove_consistency(old.tree_size, new.tree_size)
    verify_consistency_proof(proof, old, new, public_key=SEALING_KEY.public_key)
    with pytest.raises(InvalidProof):
        verify_consistency_proof(proof, new.root, old.root)
    with pytest.raises(InvalidInput):
        sealed.audit.prove_consistency(0, 6)


def test_the_cli_verifies_exports_and_refuses_to_rebuild_the_log(
    db_url: str, sealed: DisputeEngine, alice: Actor, witness: Path
):
    worked_dispute(sealed, alice)
    env = sealed_env(witness=witness)
    result = runner.invoke(app, ["projections", "run", "--db", db_url], env=env)
    assert result.exit_code == 0
    assert "audit_log: 3 events applied" in result.stdout
    result = runner.invoke(app, ["audit", "verify", "--db", db_url], env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: 3 events sealed and logged, 1 checkpoints")
    result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"], env=env)
    data = json.loads(result.stdout)
    assert (data["ok"], data["events"], data["logged"], data["problems"]) == (True, 3, 3, [])
    result = runner.invoke(app, ["audit", "export", "--db", db_url, "--format", "csv"], env=env)
    assert result.stdout.splitlines()[0] == (
        "leaf_index,position,dispute_id,version,event,actor,at,leaf_hash"
    )
    result = runner.invoke(app, ["projections", "rebuild", "audit_log", "--db", db_url], env=env)
    assert result.exit_code == 2
    assert "append-only" in result.stderr
    result = runner.invoke(app, ["projections", "rebuild", "sla", "--db", db_url], env=env)
    assert result.stdout.strip() == "sla: rebuilt from 3 events"
    result = runner.invoke(app, ["audit", "verify", "--db", db_url], env=env)
    assert result.exit_code == 0, result.stderr


def verified_without(db_url: str, alice: Actor, *tables: str) -> Result:
    """``audit verify`` of a worked, logged dispute's store after the tables were dropped."""
    with DisputeEngine.open(db_url, settings=sealed_settings()) as engine:
        worked_dispute(engine, alice)
        engine.projections.catch_up(["audit_log"])
        db = engine._core.db
        with db.transaction() as cursor:
            for table in tables:
                db.execute(cursor, f"DROP TABLE {db.table(table)}")
    result = runner.invoke(app, ["audit", "verify", "--db", db_url], env=sealed_env())
    assert result.exit_code == 1, result.stderr
    return result


def test_a_store_without_its_views_versions_is_a_problem_not_an_error(db_url: str, alice: Actor):
    result = verified_without(db_url, alice, "projection_versions")
    assert "audit log: was never built" in result.stderr


def test_a_new_database_with_events_not_sealed_does_not_verify(db_url: str, alice: Actor):
    with DisputeEngine.open(db_url) as engine:
        worked_dispute(engine, alice)
    result = runner.invoke(app, ["audit", "verify", "--db", db_url], env=sealed_env())
    assert result.exit_code == 1
    assert result.stdout.startswith("FAILED: 3 problems; 0 of 3 stored events logged")
    assert "v1: has no seal" in result.stderr


def test_events_can_be_encrypted_at_rest_and_still_verify(db_url: str, alice: Actor):
    from eventsourcing.cipher import AESCipher
    from pydantic import SecretStr

    key = SecretStr(AESCipher.create_key(32))
    engine = DisputeEngine.open(db_url, settings=sealed_settings(event_cipher_key=key))
    try:
        dispute_id = worked_dispute(engine, alice)
        assert engine.get(dispute_id).claim.claimant_id == "user-1842"
        rows = engine._core.db.fetchall(f"SELECT state FROM {engine._core.events_table}")
        states = [bytes(r["state"]) for r in rows]
        assert states
        assert not any(b"user-1842" in s or b"called the exchange" in s for s in states)
        report = engine.audit.verify()
        assert (report.ok, report.logged) == (True, 3)
    finally:
        engine.shutdown()


def test_a_witness_that_cannot_be_written_stops_the_log_with_one_line(
    db_url: str, alice: Actor, tmp_path: Path
):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    settings = sealed_settings(witness=blocked)
    with DisputeEngine.open(db_url, settings=settings) as engine:
        worked_dispute(engine, alice)
        env = {**sealed_env(), "DISPUTE_ENGINE_WITNESS_DIR": str(blocked)}
        result = runner.invoke(app, ["projections", "run", "--db", db_url], env=env)
        assert result.exit_code == 3
        assert result.stderr.startswith("error: unavailable: cannot write the audit log's witness")
        assert engine.audit.log_size() == 0  # the batch and its checkpoint were undone


def test_a_witness_failing_mid_batch_undoes_the_batch_and_the_retry_verifies(
    sealed: DisputeEngine,
    alice: Actor,
    witness: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
):
    """Checkpoints at 4 and 8 reach the witness, the one at 12 does not: the batch is undone,
    so the witness holds two checkpoints the database never kept. The retry signs the same
    sizes and roots again (at a later time) and the log verifies against the whole file."""
    monkeypatch.setattr(audit_log, "CHECKPOINT_STRIDE", 4)
    for n in range(5):
        worked_dispute(sealed, alice, key=f"k{n}")
    real_append = WitnessWriter.append
    calls: list[int] = []

    def fails_third(self: WitnessWriter, checkpoint: Checkpoint) -> None:
        calls.append(checkpoint.tree_size)
        if len(calls) == 3:
            raise WitnessUnavailable("the witness volume went away")
        real_append(self, checkpoint)

    monkeypatch.setattr(WitnessWriter, "append", fails_third)
    with pytest.raises(StorageUnavailable, match="witness volume went away"):
        sealed.projections.catch_up(["audit_log"])
    assert calls == [4, 8, 12]
    assert (sealed.audit.log_size(), sealed.audit.checkpoints()) == (0, [])
    undone = read_witness(witness)
    assert [c.tree_size for _, c in undone.checkpoints] == [4, 8]

    monkeypatch.setattr(WitnessWriter, "append", real_append)
    clock.advance(timedelta(minutes=1))
    assert sealed.projections.catch_up(["audit_log"]) == {"audit_log": 15}
    kept = sealed.audit.checkpoints()
    assert [c.tree_size for c in kept] == [4, 8, 12, 15]
    witnessed = [c for _, c in read_witness(witness).checkpoints]
    assert [c.tree_size for c in witnessed] == [4, 8, 4, 8, 12, 15]
    assert [c.root for c in witnessed[:2]] == [c.root for c in kept[:2]]  # the same tree
    assert [c.time for c in witnessed[:2]] != [c.time for c in kept[:2]]
    report = sealed.audit.verify()
    assert report.ok, report.problems
    assert report.witnessed == 6


def test_a_store_whose_audit_log_was_dropped_fails_the_audit_naming_it(db_url: str, alice: Actor):
    result = verified_without(db_url, alice, "audit_leaves", "audit_nodes", "audit_checkpoints")
    assert result.stdout.startswith("FAILED: 4 problems; 0 of 3 stored events logged")
    assert (
        "audit log: its tables audit_leaves, audit_nodes, audit_checkpoints are missing"
        in result.stderr
    )
    assert result.stderr.count("is sealed but not in the audit log yet") == 3
    with DisputeEngine.open(db_url, settings=sealed_settings(), create=False) as reader:
        report = reader.verify_audit_log()
    assert (report.ok, report.events, report.logged, report.read_only) == (False, 3, 0, False)


def test_a_store_whose_seals_were_dropped_fails_the_audit_naming_each_event(
    db_url: str, alice: Actor
):
    result = verified_without(db_url, alice, "event_seals")
    assert "event seals: the table event_seals is missing" in result.stderr
    assert result.stderr.count(": has no seal") == 3
    assert result.stdout.startswith("FAILED: ")
