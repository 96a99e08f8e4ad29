"""The auditor's bundle and log queries on SQLite and PostgreSQL: exported from the engine,
verified offline, refused with one line for bad flags, readable by a role that may only read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, ProposeDecision
from dispute_engine.bundle import DISPUTES, EVENTS, KEYS, verify_bundle
from dispute_engine.cli import app
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.seals import SigningKey
from tests.conftest import FakeClock
from tests.factories import (
    SEALING_KEY,
    UNCHECKED,
    file_dispute,
    sealed_env,
    sealed_settings,
)
from tests.integration.test_reading_only import _grant_select, reader_url

__all__ = ["reader_url"]  # a fixture used here
runner = CliRunner()
NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, tzinfo=UTC))


@pytest.fixture
def sealed(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    engine = DisputeEngine.open(
        db_url, clock=clock, settings=sealed_settings(checkpoint_every_events=4)
    )
    yield engine
    engine.shutdown()


def decided(engine: DisputeEngine, alice: Actor, bob: Actor, key: str) -> UUID:
    """A dispute assigned, noted, proposed and approved: five events."""
    dispute_id = file_dispute(engine, alice, idempotency_key=key)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.add_note(dispute_id, "called the exchange", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="never credited", overrides=list(UNCHECKED)),
        by=alice,
    )
    engine.approve_decision(dispute_id, by=bob)
    return dispute_id


@pytest.fixture
def two_disputes(sealed: DisputeEngine, alice: Actor, bob: Actor) -> tuple[UUID, UUID]:
    """Two disputes' ten events, logged in two rounds: checkpoints of 5 and 10 events."""
    first = decided(sealed, alice, bob, "first")
    sealed.projections.catch_up(["audit_log"])
    second = decided(sealed, alice, bob, "second")
    sealed.projections.catch_up(["audit_log"])
    return first, second


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env or sealed_env())
    return result.exit_code, result.stdout, result.stderr


def test_an_exported_bundle_verifies_and_carries_the_disputes_state(
    sealed: DisputeEngine, two_disputes: tuple[UUID, UUID], tmp_path: Path
):
    first, second = two_disputes
    written = sealed.audit.export_bundle(tmp_path / "b", dispute_id=first)
    assert (written.events, written.disputes, written.tree_size) == (5, 1, 10)
    assert written.not_yet_checkpointed == 0
    report = verify_bundle(tmp_path / "b", trusted_keys=[SEALING_KEY.public_key])
    assert report.problems == []
    assert (report.events, report.checkpoints, report.disputes) == (5, 2, 1)
    line = json.loads((tmp_path / "b" / DISPUTES).read_text())
    assert json.loads(line["state"]) == sealed.get(first).model_dump(mode="json")
    leaves = [json.loads(x)["leaf_index"] for x in (tmp_path / "b" / EVENTS).read_text().split()]
    assert leaves == [sealed.audit.prove_inclusion(first, v).leaf_index for v in range(1, 6)]
    assert str(second) not in (tmp_path / "b" / EVENTS).read_text()


def test_events_after_the_last_checkpoint_wait_and_the_state_is_of_the_last_bundled(
    sealed: DisputeEngine, two_disputes: tuple[UUID, UUID], alice: Actor, tmp_path: Path
):
    first, _ = two_disputes
    sealed.add_note(first, "a later note", by=alice)
    sealed.projections.catch_up(["audit_log"])
    written = sealed.audit.export_bundle(tmp_path / "b", dispute_id=first)
    assert (written.events, written.not_yet_checkpointed) == (5, 1)
    assert verify_bundle(tmp_path / "b").ok
    line = json.loads((tmp_path / "b" / DISPUTES).read_text())
    assert line["version"] == 5
    assert json.loads(line["state"]) == sealed.state_at(first, version=5).model_dump(mode="json")


def test_a_time_range_bundle_holds_every_dispute_in_it(
    sealed: DisputeEngine, two_disputes: tuple[UUID, UUID], tmp_path: Path
):
    history = sealed.history(two_disputes[1])
    written = sealed.audit.export_bundle(tmp_path / "b", since=history[0].at, until=history[2].at)
    assert (written.events, written.disputes) == (3, 1)
    assert verify_bundle(tmp_path / "b").ok
    everything = sealed.audit.export_bundle(tmp_path / "all", since=NOVEMBER[0])
    assert (everything.events, everything.disputes) == (10, 2)
    assert verify_bundle(tmp_path / "all").ok


def test_the_cli_exports_and_verifies_and_an_altered_line_is_named(
    db_url: str, two_disputes: tuple[UUID, UUID], tmp_path: Path
):
    first, _ = two_disputes
    out = str(tmp_path / "bundle")
    code, stdout, stderr = cli(
        "audit", "export", "--dispute", str(first), "--out", out, "--db", db_url
    )
    assert code == 0, stderr
    assert "wrote 5 events of 1 disputes" in stdout
    trusted = SEALING_KEY.public_key.hex()
    code, stdout, _ = cli("audit", "verify-bundle", out, "--trusted-key", trusted)
    assert (code, stdout.startswith("OK: 5 events proven")) == (0, True)
    stranger = SigningKey.generate().public_key.hex()
    code, stdout, stderr = cli("audit", "verify-bundle", out, "--trusted-key", stranger)
    assert (code, stdout.startswith(f"{KEYS}:1: ")) == (1, True)
    assert stderr.startswith(f"error: the bundle in {out} does not verify: ")
    assert stderr.count("\n") == 1
    lines = (tmp_path / "bundle" / EVENTS).read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace('"version":4', '"version":6')
    (tmp_path / "bundle" / EVENTS).write_text("".join(lines))
    code, stdout, stderr = cli("audit", "verify-bundle", out, "--json")
    assert code == 1
    problems = json.loads(stdout)["problems"]
    assert {(p["file"], p["line"]) for p in problems} >= {(EVENTS, 4), (DISPUTES, 1)}
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--dispute", "not-a-uuid", "--out", "{out}"], "--dispute"),
        (["--since", "last tuesday", "--out", "{out}"], "--since"),
        (["--until", "2026-11-30T00:00:00", "--out", "{out}"], "--until"),  # no zone
        (["--dispute", "{id}"], "--out"),
        (["--out", "{out}"], "--dispute"),
        (["--dispute", "{id}", "--out", "{out}", "--format", "csv"], "--out"),
        (["--since", "2027-01-01T00:00:00Z", "--out", "{out}"], "--since"),  # nothing there
        (["--dispute", "{id}", "--out", "{taken}"], "--out"),
        (["--dispute", "{id}", "--out", "{taken}/events.jsonl"], "--out"),
    ],
)
def test_bad_export_flags_exit_2_with_one_line_and_write_nothing(
    db_url: str, two_disputes: tuple[UUID, UUID], tmp_path: Path, args: list[str], flag: str
):
    taken = tmp_path / "taken"
    (taken).mkdir()
    (taken / EVENTS).write_text("")
    filled = [a.format(out=tmp_path / "new", id=two_disputes[0], taken=taken) for a in args]
    code, _, stderr = cli("audit", "export", *filled, "--db", db_url)
    assert code == 2, stderr
    assert stderr.startswith(f"error: invalid input: {flag}")
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()
    assert [p.name for p in taken.iterdir()] == [EVENTS]


def test_no_checkpoint_yet_is_refused_not_an_empty_bundle(
    db_url: str, clock: FakeClock, alice: Actor, tmp_path: Path
):
    with DisputeEngine.open(db_url, clock=clock, settings=sealed_settings()) as engine:
        dispute_id = file_dispute(engine, alice)  # stored and sealed, not logged yet
        with pytest.raises(InvalidInput, match="under a signed checkpoint"):
            engine.audit.export_bundle(tmp_path / "b", dispute_id=dispute_id)
    assert not (tmp_path / "b").exists()


def test_everything_bob_approved_in_november(
    sealed: DisputeEngine, two_disputes: tuple[UUID, UUID]
):
    rows = sealed.audit.query(
        actor="Bob ", event="DecisionApproved", since=NOVEMBER[0], until=NOVEMBER[1]
    )
    assert [(r.dispute_id, r.version) for r in rows] == [(d, 5) for d in two_disputes]
    for row in rows:
        assert sealed.audit.prove_inclusion(row.dispute_id, row.version).leaf_index == (
            row.leaf_index
        )
    assert sealed.audit.query(actor="bob", since=NOVEMBER[1]) == []
    assert [r.version for r in sealed.audit.query(dispute_id=str(two_disputes[0]))] == [
        1,
        2,
        3,
        4,
        5,
    ]
    with pytest.raises(InvalidInput, match="event"):
        sealed.audit.query(event="Approved")
    with pytest.raises(InvalidInput, match="timezone"):
        sealed.audit.query(since=datetime(2026, 11, 1))
    with pytest.raises(InvalidInput, match="until"):
        sealed.audit.query(since=NOVEMBER[1], until=NOVEMBER[0])


def test_the_log_command_filters_by_canonical_actor_and_prints_leaf_indexes(
    db_url: str, two_disputes: tuple[UUID, UUID]
):
    code, stdout, stderr = cli(
        "audit", "log", "--actor", " ALICE ", "--event", "NoteAdded", "--json", "--db", db_url
    )
    assert code == 0, stderr
    rows = json.loads(stdout)
    assert [(r["dispute_id"], r["version"]) for r in rows] == [(str(d), 3) for d in two_disputes]
    assert all(isinstance(r["leaf_index"], int) for r in rows)
    code, stdout, _ = cli("audit", "log", "--dispute", str(two_disputes[1]), "--db", db_url)
    assert code == 0
    assert stdout.splitlines()[0].split() == ["LEAF", "AT", "DISPUTE", "V", "EVENT", "ACTOR"]
    assert len(stdout.splitlines()) == 2 + 5  # the header, its rule, the five events


def test_the_log_command_ignores_the_acting_identity_from_the_environment(
    db_url: str, two_disputes: tuple[UUID, UUID]
):
    env = {**sealed_env(), "DISPUTE_ENGINE_ACTOR": "bob"}
    code, stdout, _ = cli("audit", "log", "--json", "--db", db_url, env=env)
    assert (code, len(json.loads(stdout))) == (0, 10)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--since", "yesterday"], "--since"),
        (["--until", "2026-13-01T00:00:00Z"], "--until"),
        (["--dispute", "1234"], "--dispute"),
        (["--event", "Approved"], "--event"),
        (["--actor", "\u200b"], "--actor"),
        (["--since", "2026-11-30T00:00:00Z", "--until", "2026-11-01T00:00:00Z"], "--until"),
    ],
)
def test_bad_log_flags_exit_2_with_one_line(
    db_url: str, two_disputes: tuple[UUID, UUID], args: list[str], flag: str
):
    code, _, stderr = cli("audit", "log", *args, "--db", db_url)
    assert code == 2, stderr
    assert stderr.startswith(f"error: invalid input: {flag}")
    assert len(stderr.strip().splitlines()) == 1


def test_a_role_that_may_only_read_queries_the_log_and_exports_a_bundle(
    pg_schema_url: str, reader_url: str, clock: FakeClock, alice: Actor, bob: Actor, tmp_path: Path
):
    settings = sealed_settings(checkpoint_every_events=5)
    with DisputeEngine.open(pg_schema_url, clock=clock, settings=settings) as engine:
        dispute_id = decided(engine, alice, bob, "read-only")
        engine.projections.catch_up(["audit_log"])
    _grant_select(reader_url)
    public_only = {
        "DISPUTE_ENGINE_RETIRED_SEALING_KEYS": json.dumps([SEALING_KEY.public_key.hex()])
    }
    code, stdout, stderr = cli(
        "audit", "log", "--actor", "bob", "--json", "--db", reader_url, env=public_only
    )
    assert code == 0, stderr
    assert [r["event"] for r in json.loads(stdout)] == ["DecisionApproved"]
    out = str(tmp_path / "bundle")
    code, _, stderr = cli(
        "audit", "export", "--dispute", str(dispute_id), "--out", out, "--db", reader_url,
        env=public_only,
    )  # fmt: skip
    assert code == 0, stderr
    assert verify_bundle(Path(out), trusted_keys=[SEALING_KEY.public_key]).ok


def test_a_bundle_needs_the_public_keys_that_signed_the_history(
    db_url: str, two_disputes: tuple[UUID, UUID], tmp_path: Path
):
    code, _, stderr = cli(
        "audit", "export", "--dispute", str(two_disputes[0]), "--out", str(tmp_path / "b"),
        "--db", db_url, env={"DISPUTE_ENGINE_SEALING_KEY": ""},
    )  # fmt: skip
    assert code == 2
    assert "DISPUTE_ENGINE_RETIRED_SEALING_KEYS" in stderr
    assert not (tmp_path / "b").exists()


def test_the_keys_command_prints_the_public_keys_an_auditor_should_trust():
    retired = SigningKey.generate()
    env = {**sealed_env(), "DISPUTE_ENGINE_RETIRED_SEALING_KEYS": f'["{retired.public_key.hex()}"]'}
    code, stdout, stderr = cli("audit", "keys", "--json", env=env)
    assert code == 0, stderr
    assert sorted((k["public_key"], k["use"]) for k in json.loads(stdout)) == sorted(
        [(SEALING_KEY.public_key.hex(), "current"), (retired.public_key.hex(), "retired")]
    )
    assert SEALING_KEY.private_bytes().hex() not in stdout
    code, _, stderr = cli("audit", "keys", env={"DISPUTE_ENGINE_SEALING_KEY": ""})
    assert (code, stderr.count("\n")) == (2, 1)
    assert stderr.startswith("error: invalid input: DISPUTE_ENGINE_SEALING_KEY")


def test_a_bundle_of_an_encrypted_store_replays_only_with_its_cipher_key(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor, tmp_path: Path
):
    key = AESCipher.create_key(32)
    settings = sealed_settings(event_cipher_key=SecretStr(key))
    with DisputeEngine.open(db_url, clock=clock, settings=settings) as engine:
        dispute_id = decided(engine, alice, bob, "encrypted")
        engine.projections.catch_up(["audit_log"])
        engine.audit.export_bundle(tmp_path / "b", dispute_id=dispute_id)
    assert "never credited" not in (tmp_path / "b" / EVENTS).read_text()
    locked = verify_bundle(tmp_path / "b")
    assert {(p.file, p.line) for p in locked.problems} == {(DISPUTES, 1)}
    assert "needs its cipher key" in locked.problems[0].message
    assert verify_bundle(tmp_path / "b", cipher_key=key).ok
    code, stdout, stderr = cli(
        "audit", "verify-bundle", str(tmp_path / "b"),
        env={"DISPUTE_ENGINE_EVENT_CIPHER_KEY": key},
    )  # fmt: skip
    assert (code, stdout.startswith("OK: 5 events"), stderr) == (0, True, "")
    code, _, stderr = cli("audit", "verify-bundle", str(tmp_path / "b"), "--cipher-key", "abc")
    assert (code, stderr.startswith("error: invalid input: --cipher-key")) == (2, True)


def test_a_bundle_is_checked_against_the_witness_folder(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor, tmp_path: Path
):
    witness = tmp_path / "witness"
    settings = sealed_settings(witness=witness, checkpoint_every_events=4)
    with DisputeEngine.open(db_url, clock=clock, settings=settings) as engine:
        first = decided(engine, alice, bob, "witnessed")
        engine.projections.catch_up(["audit_log"])
        decided(engine, alice, bob, "later")
        engine.projections.catch_up(["audit_log"])
        engine.audit.export_bundle(tmp_path / "b", dispute_id=first)
    code, stdout, stderr = cli(
        "audit", "verify-bundle", str(tmp_path / "b"), "--witness", str(witness)
    )
    assert code == 0, stdout + stderr
    assert stdout.strip().endswith("2 witnessed checkpoints match")
