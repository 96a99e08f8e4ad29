"""The Python API's edges: ids as text, an engine after shutdown, engines in with-blocks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispute_engine import Actor, AddEvidence, DisputeEngine, ProposeDecision
from dispute_engine.errors import DisputeNotFound, EngineShutDown, InvalidInput
from tests.conftest import FakeClock
from tests.factories import file_dispute, stored_rows


def test_a_dispute_id_as_text_works_wherever_a_uuid_does(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)
    text = str(dispute_id)
    assert engine.get(text).id == dispute_id
    assert engine.get(text.upper()).id == dispute_id
    engine.assign(text, investigator="alice", by=alice)
    engine.verify_identity(text, method="passport", by=alice)
    engine.add_evidence(
        text,
        AddEvidence(kind="other", media_type="text/plain", filename="a.txt", content=b"a"),
        by=alice,
    )
    engine.add_note(text, "looked at it", by=alice)
    engine.propose_decision(
        text,
        ProposeDecision(outcome="reject", rationale="the deposit arrived", overrides=["checklist"]),
        by=alice,
    )
    engine.notify_claimant(text, by=alice)
    engine.close(text, by=alice)
    assert engine.get(text).status == "closed"
    clock.advance(timedelta(days=1))
    engine.reopen(text, reason="the claimant appealed", by=alice)
    assert [e.version for e in engine.history(text)][-1] == engine.get(dispute_id).version
    assert engine.state_at(text, version=1).status == "filed"
    engine.request_evidence(text, what="a screenshot of the deposit page", by=alice)
    engine.withdraw(text, by=alice)
    assert engine.get(text).status == "withdrawn"


@pytest.mark.parametrize("bad", ["", "not-an-id", "1234", "{}", 42, None, 3.5])
def test_a_malformed_dispute_id_is_invalid_input_and_writes_nothing(
    engine: DisputeEngine, alice: Actor, bad: object
):
    file_dispute(engine, alice)
    before = stored_rows(engine)
    for call in (
        lambda: engine.get(bad),  # type: ignore[arg-type]
        lambda: engine.history(bad),  # type: ignore[arg-type]
        lambda: engine.add_note(bad, "note", by=alice),  # type: ignore[arg-type]
        lambda: engine.assign(bad, investigator="alice", by=alice),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInput, match="dispute_id"):
            call()
    assert stored_rows(engine) == before


def test_an_unknown_id_as_text_is_dispute_not_found(engine: DisputeEngine):
    with pytest.raises(DisputeNotFound):
        engine.get("00000000-0000-4000-8000-000000000000")


def test_an_engine_used_after_shutdown_raises_a_typed_error(db_url: str, alice: Actor):
    engine = DisputeEngine.open(db_url)
    dispute_id = file_dispute(engine, alice)
    engine.shutdown()
    engine.shutdown()  # twice is harmless
    for call in (
        lambda: engine.get(dispute_id),
        lambda: engine.add_note(dispute_id, "too late", by=alice),
        engine.list_disputes,
        lambda: engine.close(dispute_id, by=alice),
    ):
        with pytest.raises(EngineShutDown, match="shut down"):
            call()
    with DisputeEngine.open(db_url) as again:
        assert again.get(dispute_id).version == 1


def test_an_engine_in_a_with_block_is_shut_down_when_the_block_ends(db_url: str, alice: Actor):
    with DisputeEngine.open(db_url) as engine:
        dispute_id = file_dispute(engine, alice)
        assert engine.get(dispute_id).status == "filed"
    with pytest.raises(EngineShutDown):
        engine.get(dispute_id)
