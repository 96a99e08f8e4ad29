"""The audit trail on SQLite and PostgreSQL: export, and tampering detected."""

from __future__ import annotations

import csv
import io
import json
from uuid import UUID

from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine
from dispute_engine.cli import app
from tests.factories import file_dispute


def worked_dispute(engine: DisputeEngine, alice: Actor) -> UUID:
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.add_note(dispute_id, "called the exchange", by=alice)
    return dispute_id


def test_export_has_every_event_with_actor_time_and_hash(engine: DisputeEngine, alice: Actor):
    dispute_id = worked_dispute(engine, alice)
    lines = [json.loads(line) for line in engine.export_audit_log("jsonl").splitlines()]
    assert [row["event"] for row in lines] == ["Filed", "Assigned", "NoteAdded"]
    assert {row["actor"] for row in lines} == {"alice"}
    assert lines[2]["data"]["text"] == "called the exchange"
    history = engine.history(dispute_id)
    assert [row["hash"] for row in lines] == [e.hash for e in history]
    rows = list(csv.DictReader(io.StringIO(engine.export_audit_log("csv"))))
    assert [r["version"] for r in rows] == ["1", "2", "3"]


def test_verify_passes_on_an_untouched_store(engine: DisputeEngine, alice: Actor):
    worked_dispute(engine, alice)
    engine.projections.catch_up()
    checked, problems = engine.verify_audit_log()
    assert (checked, problems) == (3, [])


def test_verify_finds_an_altered_and_a_deleted_event(engine: DisputeEngine, alice: Actor):
    dispute_id = worked_dispute(engine, alice)
    engine.projections.catch_up()
    db = engine._core.db
    events = engine._core.events_table
    key = db.originator_key(dispute_id)
    with db.transaction() as cursor:
        db.execute(
            cursor,
            f"SELECT state FROM {events} WHERE originator_id = ? AND originator_version = 3",
            [key],
        )
        state = bytes(cursor.fetchone()["state"])
        forged = state.replace(b"called the exchange", b"never called anyone")
        db.execute(
            cursor,
            f"UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = 3",
            [forged, key],
        )
        db.execute(
            cursor,
            f"DELETE FROM {events} WHERE originator_id = ? AND originator_version = 2",
            [key],
        )
    _, problems = engine.verify_audit_log()
    assert [(p.version, p.problem) for p in problems] == [
        (2, "deleted from the event store"),
        (3, "altered since it was logged"),
    ]


def test_the_cli_verifies_and_exports(
    db_url: str, engine: DisputeEngine, alice: Actor, tmp_path: object
):
    worked_dispute(engine, alice)
    runner = CliRunner()
    result = runner.invoke(app, ["projections", "run", "--db", db_url])
    assert result.exit_code == 0
    assert "audit_log: 3 events applied" in result.stdout
    result = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert result.exit_code == 0
    assert result.stdout.startswith("OK: 3 logged events")
    result = runner.invoke(app, ["audit", "export", "--db", db_url, "--format", "csv"])
    assert (
        result.stdout.splitlines()[0]
        == "position,dispute_id,version,event,actor,status,at,data,hash"
    )
    result = runner.invoke(app, ["audit", "export", "--db", db_url, "--format", "xml"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["projections", "rebuild", "sla", "--db", db_url])
    assert result.stdout.strip() == "sla: rebuilt from 3 events"
    result = runner.invoke(app, ["projections", "rebuild", "nope", "--db", db_url])
    assert result.exit_code == 2
    assert (
        "views: audit_log, linked_claims, outbox, quality, sla, staff_directory, work_queue"
        in result.stderr
    )


def test_events_can_be_encrypted_at_rest_and_still_verify(db_url: str, alice: Actor):
    from eventsourcing.cipher import AESCipher
    from pydantic import SecretStr

    from dispute_engine import Settings

    key = SecretStr(AESCipher.create_key(32))
    engine = DisputeEngine.open(db_url, settings=Settings(event_cipher_key=key))
    try:
        dispute_id = worked_dispute(engine, alice)
        assert engine.get(dispute_id).claim.claimant_id == "user-1842"
        rows = engine._core.db.fetchall(f"SELECT state FROM {engine._core.events_table}")
        states = [bytes(r["state"]) for r in rows]
        assert states
        assert not any(b"user-1842" in s or b"called the exchange" in s for s in states)
        engine.projections.catch_up()
        assert engine.verify_audit_log() == (3, [])
    finally:
        engine.shutdown()
