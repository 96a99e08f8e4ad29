"""The claimant's answer to the satisfaction request: once per resolution, in the report."""

from __future__ import annotations

from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine, ProposeDecision
from dispute_engine.errors import InvalidInput, InvalidTransition
from projections.quality import QualityView
from tests.factories import file_dispute, stored_rows

REJECT = ProposeDecision(
    outcome="reject", rationale="the transaction matches the claim", overrides=["checklist"]
)


def resolved(engine: DisputeEngine, alice: Actor) -> UUID:
    dispute = file_dispute(engine, alice)
    engine.assign(dispute, investigator="alice", by=alice)
    engine.propose_decision(dispute, REJECT, by=alice)
    return dispute


def test_feedback_is_recorded_once_per_resolution_and_asked_again_after_reopening(
    engine: DisputeEngine, alice: Actor, carol: Actor
):
    dispute = resolved(engine, alice)
    engine.close(dispute, by=alice)
    engine.record_feedback(dispute, rating=2, comment="slow", channel="chat")
    with pytest.raises(InvalidTransition, match="already"):
        engine.record_feedback(dispute, rating=5, comment="", channel="chat")
    engine.reopen(dispute, reason="new evidence", by=alice)
    with pytest.raises(InvalidTransition):
        engine.record_feedback(dispute, rating=5, comment="", channel="chat")  # not resolved
    engine.assign(dispute, investigator="carol", by=carol)  # an appeal gets fresh eyes
    engine.propose_decision(dispute, REJECT, by=carol)
    engine.record_feedback(dispute, rating=5, comment="thanks", channel="email")
    ratings = [e.data["rating"] for e in engine.history(dispute) if e.name == "FeedbackRecorded"]
    assert ratings == [2, 5]


def test_the_latest_rating_counts_in_the_quality_report(engine: DisputeEngine, alice: Actor):
    happy, unhappy = resolved(engine, alice), resolved(engine, alice)
    resolved(engine, alice)  # not rated
    engine.record_feedback(happy, rating=5, comment="", channel="chat")
    engine.record_feedback(unhappy, rating=1, comment="never again", channel="app")
    engine.projections.catch_up(["quality"])
    report = QualityView.report(engine._core.db)["all"]
    assert (report.disputes, report.rated, report.csat) == (3, 2, 0.5)


@pytest.mark.parametrize(
    "answer",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": True},
        {"rating": 4.0},
        {"rating": 4, "comment": "x" * 2001},
        {"rating": 4, "comment": "bell\x07"},
        {"rating": 4, "channel": "pigeon"},
    ],
)
def test_a_malformed_answer_is_invalid_input_and_records_nothing(
    engine: DisputeEngine, alice: Actor, answer: dict[str, object]
):
    dispute = resolved(engine, alice)
    before = stored_rows(engine)
    with pytest.raises(InvalidInput):
        engine.record_feedback(dispute, **{"comment": "", "channel": "chat", **answer})  # type: ignore[arg-type]
    assert stored_rows(engine) == before
