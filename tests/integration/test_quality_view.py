"""The quality view and `report quality`: response and resolution times, breaches, reopens."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, ProposeDecision, Role
from dispute_engine.cli import app
from dispute_engine.errors import InvalidInput
from projections.quality import QualityView
from tests.conftest import FakeClock
from tests.factories import file_dispute

runner = CliRunner()
REJECT = ProposeDecision(
    outcome="reject", rationale="the transaction matches the claim", overrides=["checklist"]
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def about(span: timedelta, expected: timedelta) -> bool:
    """Within the few seconds the test clock ticks on each reading."""
    return expected <= span < expected + timedelta(seconds=30)


def desk(engine: DisputeEngine, alice: Actor, clock: FakeClock) -> None:
    """Three disputes: answered and resolved, then reopened; breached; untouched."""
    quick = file_dispute(engine, alice, channel="email", language="es")
    clock.advance(timedelta(minutes=10))
    engine.assign(quick, investigator="alice", by=alice)
    clock.advance(timedelta(hours=2))
    engine.propose_decision(quick, REJECT, by=alice)  # resolved 2h10m after filing
    engine.close(quick, by=alice)
    engine.reopen(quick, reason="new evidence", by=alice)
    carol = Actor(id="carol", roles={Role.INVESTIGATOR})  # an appeal gets fresh eyes
    engine.assign(quick, investigator="carol", by=carol)
    engine.propose_decision(quick, REJECT, by=carol)  # resolved again, at the same time
    slow = file_dispute(engine, alice, channel="chat", language="zh")
    clock.advance(timedelta(hours=2))
    engine.record_sla_breaches()  # first response: past its hour
    engine.assign(slow, investigator="bob", by=alice)
    file_dispute(engine, alice, channel="chat", language="en")


def test_quality_rows_follow_each_dispute_through_response_resolution_and_reopening(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    desk(engine, alice, clock)
    engine.projections.catch_up(["quality"])
    rows = sorted(QualityView.rows(engine._core.db), key=lambda r: r.filed_at)
    quick, slow, fresh = rows
    assert (quick.channel, quick.language, quick.investigator) == ("email", "es", "carol")
    assert quick.first_response_at is not None
    assert about(quick.first_response_at - quick.filed_at, timedelta(minutes=10))
    assert quick.resolved_at is not None
    assert about(quick.resolved_at - quick.filed_at, timedelta(hours=2, minutes=10))
    assert (quick.reopens, quick.breaches) == (1, 0)
    assert slow.investigator == "bob"
    assert slow.resolved_at is None
    assert slow.breaches == 1
    assert (fresh.investigator, fresh.first_response_at, fresh.breaches) == (None, None, 0)


def test_the_quality_view_rebuilt_from_the_events_equals_the_one_kept_current(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    file_dispute(engine, alice)
    engine.projections.catch_up(["quality"])  # a first batch, then the rest on top of it
    desk(engine, alice, clock)
    engine.projections.catch_up(["quality"])
    kept = sorted(QualityView.rows(engine._core.db), key=lambda r: r.filed_at)
    engine.projections.rebuild("quality")
    assert sorted(QualityView.rows(engine._core.db), key=lambda r: r.filed_at) == kept


def test_report_quality_groups_by_investigator_with_times_breaches_and_reopen_rate(
    engine: DisputeEngine, alice: Actor, clock: FakeClock, db_url: str
):
    desk(engine, alice, clock)
    code, out, err = invoke("report", "quality", "--by", "investigator", "--db", db_url, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert sorted(report) == ["bob", "carol", "unassigned"]
    alice_row = report["carol"]  # the appeal's investigator: the dispute is hers now
    assert alice_row["disputes"] == 1
    first = alice_row["first_response"]
    assert first["count"] == 1
    assert first["median_seconds"] == first["p90_seconds"]
    assert about(timedelta(seconds=first["median_seconds"]), timedelta(minutes=10))
    assert about(
        timedelta(seconds=alice_row["resolution"]["median_seconds"]), timedelta(hours=2, minutes=10)
    )
    assert alice_row["reopen_rate"] == 1.0
    assert alice_row["csat"] is None
    assert (report["bob"]["breaches"], report["bob"]["breached_disputes"]) == (1, 1)
    assert report["unassigned"]["first_response"]["count"] == 0


def test_report_quality_prints_one_row_for_all_disputes_for_people(
    engine: DisputeEngine, alice: Actor, clock: FakeClock, db_url: str
):
    desk(engine, alice, clock)
    code, out, err = invoke("report", "quality", "--db", db_url)
    assert code == 0, err
    header, _, row = out.splitlines()
    assert header.split()[:3] == ["group", "disputes", "rated"]
    assert row.split()[:3] == ["all", "3", "0"]
    assert "2h 10m" in row  # the resolution median: one resolved dispute


def test_report_quality_refuses_an_unknown_grouping(db_url: str, engine: DisputeEngine):
    code, out, err = invoke("report", "quality", "--by", "mood", "--db", db_url)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(InvalidInput):
        QualityView.report(engine._core.db, by="mood")  # type: ignore[arg-type]
