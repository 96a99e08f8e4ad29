"""Tampering with plain SQL, as anyone with access to the database could, on SQLite and
PostgreSQL: `audit verify` names each change and exits 1; an untouched store verifies clean."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, AddEvidence, DisputeEngine, ProposeDecision
from dispute_engine.cli import app
from dispute_engine.database import Database
from dispute_engine.errors import EvidenceAltered, PayoutRefused
from dispute_engine.merkle import MerkleTree
from dispute_engine.seals import event_leaf_hash
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, sealed_env, sealed_settings, stored_rows

runner = CliRunner()
EVIDENCE = AddEvidence(
    kind="statement", media_type="application/pdf", filename="s.pdf", content=b"%PDF-1.7 ok"
)


@dataclass
class Store:
    """A worked dispute (filed, assigned, evidence, note: versions 1 to 4), logged and
    witnessed, and plain SQL against its tables."""

    url: str
    engine: DisputeEngine
    dispute_id: UUID
    evidence: str
    witness: Path

    @property
    def db(self) -> Database:
        return self.engine._core.db

    @property
    def key(self) -> Any:
        return self.db.originator_key(self.dispute_id)

    def sql(self, statement: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
        with self.db.transaction() as cursor:
            self.db.execute(cursor, statement, params)

    def stored(self, version: int) -> tuple[str, bytes]:
        row = self.db.fetchall(
            f"SELECT topic, state FROM {self.engine._core.events_table} "
            "WHERE originator_id = ? AND originator_version = ?",
            [self.key, version],
        )[0]
        return str(row["topic"]), bytes(row["state"])

    def set_event(self, version: int, topic: str, state: bytes) -> None:
        self.sql(
            f"UPDATE {self.engine._core.events_table} SET topic = ?, state = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            [topic, state, self.key, version],
        )

    def verify(self, *args: str) -> tuple[int, str, str]:
        result = runner.invoke(
            app, ["audit", "verify", "--db", self.url, *args], env=sealed_env(witness=self.witness)
        )
        return result.exit_code, result.stdout, result.stderr

    def subject(self, version: int) -> str:
        return f"dispute {self.dispute_id} v{version}"


@pytest.fixture
def store(db_url: str, clock: FakeClock, tmp_path: Path, alice: Actor) -> Iterator[Store]:
    witness = tmp_path / "witness"
    engine = DisputeEngine.open(db_url, clock=clock, settings=sealed_settings(witness=witness))
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    digest = engine.add_evidence(dispute_id, EVIDENCE, by=alice)
    engine.add_note(dispute_id, "called the exchange", by=alice)
    engine.projections.catch_up()
    yield Store(db_url, engine, dispute_id, digest, witness)
    engine.shutdown()


def test_an_untouched_store_verifies_clean(store: Store):
    code, out, err = store.verify()
    assert (code, err) == (0, "")
    assert out.startswith("OK: 4 events sealed and logged, 1 checkpoints, 1 evidence blobs")


def test_a_flipped_byte_in_a_state_is_named(store: Store):
    topic, state = store.stored(3)
    flipped = bytes([state[0], state[1] ^ 0x01]) + state[2:]
    store.set_event(3, topic, flipped)
    code, _, err = store.verify()
    assert code == 1
    assert f"{store.subject(3)}: its seal does not verify" in err


def test_a_deleted_event_is_named(store: Store):
    store.sql(
        f"DELETE FROM {store.engine._core.events_table} "
        "WHERE originator_id = ? AND originator_version = 2",
        [store.key],
    )
    code, out, err = store.verify()
    assert code == 1, out
    assert f"{store.subject(2)}: logged as leaf 1, missing from the event store (deleted)" in err


def test_two_swapped_events_are_both_named(store: Store):
    second, fourth = store.stored(2), store.stored(4)
    store.set_event(2, *fourth)
    store.set_event(4, *second)
    code, _, err = store.verify()
    assert code == 1
    assert f"{store.subject(2)}: its seal does not verify" in err
    assert f"{store.subject(4)}: its seal does not verify" in err


def test_a_forged_copy_at_the_next_version_is_named_and_never_logged(store: Store):
    topic, state = store.stored(4)
    seals = store.db.table("event_seals")
    store.sql(
        f"INSERT INTO {store.engine._core.events_table} "
        "(originator_id, originator_version, topic, state) VALUES (?, 5, ?, ?)",
        [store.key, topic, state],
    )
    store.sql(
        f"INSERT INTO {seals} (originator_id, originator_version, seal) "
        f"SELECT originator_id, 5, seal FROM {seals} "
        "WHERE originator_id = ? AND originator_version = 4",
        [store.key],
    )
    code, out, err = store.verify()
    assert code == 1
    assert f"{store.subject(5)}: its seal does not verify" in err
    assert "4 of 5 stored events logged" in out
    assert store.engine.audit.log_size() == 4


def test_an_event_rewritten_with_the_logs_hashes_is_named(store: Store):
    topic, state = store.stored(4)
    forged = state.replace(b"called the exchange", b"never called anyone")
    store.set_event(4, topic, forged)
    leaves = store.db.table("audit_leaves")
    store.sql(
        f"UPDATE {leaves} SET leaf = ? WHERE originator_id = ? AND version = 4",
        [event_leaf_hash(store.dispute_id, 4, topic, forged), str(store.dispute_id)],
    )
    tree = MerkleTree(leaf.leaf for leaf in store.engine.audit.leaves())
    for level in range(3):
        for index in range(tree.size >> level):
            store.sql(
                f"UPDATE {store.db.table('audit_nodes')} SET hash = ? WHERE level = ? AND idx = ?",
                [tree.node(level, index), level, index],
            )
    code, _, err = store.verify()
    assert code == 1
    assert f"{store.subject(4)}: its seal does not verify" in err
    assert "checkpoint of size 4: its root is not the root of the log's first leaves" in err
    assert "witness line 1: the log's first 4 leaves are not what was witnessed" in err


def test_rebuilding_the_log_is_refused(store: Store):
    result = runner.invoke(
        app, ["projections", "rebuild", "audit_log", "--db", store.url], env=sealed_env()
    )
    assert result.exit_code == 2
    assert "audit_log is append-only and is never rebuilt" in result.stderr
    assert store.engine.audit.log_size() == 4


def test_a_changed_log_version_is_named_and_the_log_kept(
    store: Store, clock: FakeClock, alice: Actor
):
    store.sql(
        f"UPDATE {store.db.table('projection_versions')} SET version = 0 WHERE name = ?",
        ["audit_log"],
    )
    with DisputeEngine.open(store.url, clock=clock, settings=sealed_settings()) as reopened:
        reopened.projections.catch_up()  # a writer opening the store never drops the log
        assert reopened.audit.log_size() == 4
    code, _, err = store.verify()
    assert code == 1
    assert "audit log: is recorded as version 0, this release writes 2" in err


def test_a_reset_log_position_is_named_and_nothing_logged_twice(store: Store):
    tracking = store.engine._core.projections._tracking_table  # type: ignore[attr-defined]
    store.sql(f"DELETE FROM {tracking} WHERE application_name = ?", ["audit_log"])
    code, _, err = store.verify()
    assert code == 1
    assert "audit log: its tracked position was moved back to 0" in err
    assert store.engine.audit.log_size() == 4
    assert store.verify()[0] == 0  # the catch-up found every event logged already


def test_changed_evidence_bytes_are_named_and_never_returned(store: Store):
    store.sql(
        f"UPDATE {store.db.table('evidence_blobs')} SET content = ? WHERE sha256 = ?",
        [b"%PDF-1.7 forged", store.evidence],
    )
    code, _, err = store.verify()
    assert code == 1
    assert f"evidence {store.evidence}: its bytes no longer have this sha256" in err
    with pytest.raises(EvidenceAltered) as raised:
        store.engine.evidence_content(store.evidence)
    assert raised.value.sha256 == store.evidence


def test_a_removed_checkpoint_is_named_by_the_witness(store: Store):
    store.sql(f"DELETE FROM {store.db.table('audit_checkpoints')}")
    code, _, err = store.verify()
    assert code == 1
    assert "witness line 1: the checkpoint of size 4 is missing from the database" in err


def test_history_rewritten_with_the_key_is_caught_by_an_old_witness(store: Store, clock: FakeClock):
    ring = store.engine._core.events.ring
    topic, state = store.stored(4)
    forged = state.replace(b"called the exchange", b"never called anyone")
    store.set_event(4, topic, forged)
    store.sql(
        f"UPDATE {store.db.table('event_seals')} SET seal = ? "
        "WHERE originator_id = ? AND originator_version = 4",
        [ring.seal_event(store.dispute_id, 4, topic, forged).to_text(), store.key],
    )
    for table in ("audit_leaves", "audit_nodes", "audit_checkpoints"):
        store.sql(f"DELETE FROM {store.db.table(table)}")
    tracking = store.engine._core.projections._tracking_table  # type: ignore[attr-defined]
    store.sql(f"DELETE FROM {tracking} WHERE application_name = ?", ["audit_log"])
    with DisputeEngine.open(store.url, clock=clock, settings=sealed_settings()) as rewriter:
        assert rewriter.audit.verify(witness=None).ok  # consistent in itself, key and all
    code, _, err = store.verify("--witness", str(store.witness))
    assert code == 1
    assert "witness line 1: the log's first 4 leaves are not what was witnessed" in err


def test_a_forged_approval_inserted_with_sql_is_not_paid(store: Store, alice: Actor, bob: Actor):
    engine = store.engine
    dispute_id = store.dispute_id
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="never arrived", overrides=UNCHECKED),
        by=alice,
    )
    dispute = engine._core.load(dispute_id)
    dispute.approve_decision(by=bob, now=engine.now())
    for event in dispute.collect_events():
        stored = engine._core.events.mapper.to_stored_event(event)
        store.sql(
            f"INSERT INTO {engine._core.events_table} "
            "(originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            [store.key, stored.originator_version, stored.topic, stored.state],
        )
    assert engine.get(dispute_id).status == "approved"
    with pytest.raises(PayoutRefused) as refused:
        engine.execute_decision(dispute_id, by=bob)
    assert refused.value.reason == "unsealed_event"
    assert stored_rows(engine)[2] == 0
    code, _, err = store.verify()
    assert code == 1
    assert f"{store.subject(6)}: has no seal" in err


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("evidence_blobs", "evidence: the table evidence_blobs is missing"),
        ("event_seals", "event seals: the table event_seals is missing"),
        ("audit_nodes", "audit log: its tables audit_nodes are missing"),
    ],
)
def test_a_dropped_table_is_named_and_the_audit_fails(store: Store, table: str, named: str):
    store.sql(f"DROP TABLE {store.db.table(table)}")
    code, out, err = store.verify()
    assert code == 1, err
    assert named in err
    assert out.startswith("FAILED: ")
