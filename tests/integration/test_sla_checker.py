"""The SLA checker on SQLite and PostgreSQL: warnings and breaches recorded exactly once."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from dispute_engine import Actor, AddEvidence, DisputeEngine, ProposeDecision
from dispute_engine.database import timestamp
from dispute_engine.domain.dispute import due_sla_alerts
from dispute_engine.service_levels import SLA_CHECKER
from dispute_engine.views import SlaAlertView
from projections.sla import SlaView
from tests.conftest import FakeClock
from tests.factories import file_dispute


def alerts(recorded: list[SlaAlertView]) -> list[tuple[str, int]]:
    return [(a.clock, a.threshold) for a in recorded]


def test_warnings_then_the_breach_are_recorded_once_each(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)  # normal priority: first response within 1 hour
    clock.advance(timedelta(minutes=31))
    assert alerts(engine.record_sla_breaches()) == [("first_response:1", 50)]
    assert engine.record_sla_breaches() == []
    clock.advance(timedelta(minutes=30))
    assert alerts(engine.record_sla_breaches()) == [
        ("first_response:1", 75),
        ("first_response:1", 90),
        ("first_response:1", 100),
    ]
    assert engine.record_sla_breaches() == []
    names = [e.name for e in engine.history(dispute_id)]
    assert names.count("SlaWarningRaised") == 3
    assert names.count("SlaBreached") == 1
    clocks = {c.id: c for c in engine.get(dispute_id).sla_clocks}
    assert clocks["first_response:1"].state == "breached"
    assert clocks["first_response:1"].alerts == [50, 75, 90, 100]
    breach = engine.history(dispute_id)[-1]
    assert breach.actor == "sla-checker"
    assert breach.data["due_at"] == "2026-11-21T10:00:01Z"


def test_the_first_investigator_action_meets_the_first_response_clock(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)
    clock.advance(timedelta(minutes=20))
    engine.assign(dispute_id, investigator="alice", by=alice)
    clock.advance(timedelta(hours=2))
    assert engine.record_sla_breaches() == []
    first = next(c for c in engine.get(dispute_id).sla_clocks if c.metric == "first_response")
    assert first.state == "met"


def test_clocks_pause_while_the_claimant_owes_an_answer(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)
    engine.request_evidence(dispute_id, what="a screenshot", by=alice)
    feedback = next(c for c in engine.get(dispute_id).sla_clocks if c.metric == "feedback")
    assert feedback.state == "paused"
    assert feedback.due_at is None
    clock.advance(timedelta(days=10))
    assert engine.record_sla_breaches() == []  # nothing runs while the claimant owes us
    resumed_at = clock.now
    engine.add_note(dispute_id, "claimant called back", by=alice)  # still awaiting
    engine.add_evidence(
        dispute_id,
        AddEvidence(
            kind="screenshot",
            media_type="image/png",
            filename="a.png",
            content=b"x",
            source="claimant",
        ),
        by=alice,
    )
    feedback = next(c for c in engine.get(dispute_id).sla_clocks if c.metric == "feedback")
    assert feedback.state == "running"
    assert feedback.due_at is not None
    # 24 hours of feedback time, minus the few seconds that ran before the pause.
    assert resumed_at + timedelta(hours=23, minutes=59) < feedback.due_at
    assert feedback.due_at < resumed_at + timedelta(hours=24, minutes=1)


def test_a_dispute_filed_a_moment_ago_is_seen(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    engine.record_sla_breaches()  # the view is current...
    file_dispute(engine, alice, priority="urgent")  # ...then a new dispute: 15 minutes
    clock.advance(timedelta(minutes=16))
    assert ("first_response:1", 100) in alerts(engine.record_sla_breaches())


def test_resolution_counts_business_days_of_the_jurisdiction(
    engine: DisputeEngine, alice: Actor, bob: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice, jurisdiction="US")  # Reg E: 10 business days
    resolution = next(c for c in engine.get(dispute_id).sla_clocks if c.metric == "resolution")
    assert resolution.due_at is not None
    # Filed on Saturday 2026-11-21, the clock starts Monday 00:00 in New York; ten whole
    # business days, skipping Thanksgiving (the 26th), end Tuesday 2026-12-08 00:00 there.
    assert resolution.due_at.astimezone(UTC).isoformat() == "2026-12-08T05:00:00+00:00"
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="reject", rationale="ok", overrides=["checklist"]),
        by=alice,
    )
    resolution = next(c for c in engine.get(dispute_id).sla_clocks if c.metric == "resolution")
    assert resolution.state == "met"


def test_the_sla_view_agrees_with_the_aggregate(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    ids = [file_dispute(engine, alice, priority=p) for p in ("low", "high", "urgent")]
    engine.request_evidence(ids[1], what="x", by=alice)
    clock.advance(timedelta(hours=5))
    engine.record_sla_breaches()
    engine.projections.catch_up()  # the alerts just recorded are events too
    rows = engine._core.db.fetchall(
        f"SELECT dispute_id, clock_id, state, due_at FROM {engine._core.db.table('sla_clocks')}"
    )

    from_view = {(r["dispute_id"], r["clock_id"]): (r["state"], r["due_at"]) for r in rows}
    from_aggregates = {
        (str(i), c.id): (c.state, timestamp(c.due_at))
        for i in ids
        for c in engine.get(i).sla_clocks
    }
    assert from_view == from_aggregates


def run_checkers(count: int, check: Any) -> list[Any]:
    """Run the check in threads at once; every one must finish without an error."""
    barrier = threading.Barrier(count)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(check())
        except BaseException as exc:  # asserted on below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [r for r in results if isinstance(r, BaseException)]
    return results


def test_four_checkers_at_once_record_each_alert_once(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    ids = [file_dispute(engine, alice) for _ in range(5)]
    clock.advance(timedelta(hours=2))
    moment = clock.now
    results = run_checkers(4, lambda: engine.record_sla_breaches(now=moment))
    recorded = sorted((str(a.dispute_id), a.clock, a.threshold) for r in results for a in r)
    assert len(recorded) == len(set(recorded)) == 5 * 4  # 50/75/90/100 of first_response
    for dispute_id in ids:
        names = [e.name for e in engine.history(dispute_id)]
        assert names.count("SlaBreached") == 1
        assert names.count("SlaWarningRaised") == 3


def test_a_stale_copy_in_the_sla_view_cannot_record_an_alert_twice(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)
    clock.advance(timedelta(minutes=31))
    engine.projections.catch_up(["sla"])
    [stale] = SlaView.due(engine._core.db, clock.now)
    assert alerts(engine.record_sla_breaches()) == [("first_response:1", 50)]
    due = due_sla_alerts(stale, by=SLA_CHECKER, now=clock.now)
    assert [alert.threshold for alert, _ in due] == [50]
    with pytest.raises(IntegrityError):
        engine._core.events.save(*(event for _, event in due))
    assert engine.record_sla_breaches() == []
    assert [e.name for e in engine.history(dispute_id)].count("SlaWarningRaised") == 1


def _check_in_process(url: str, iso_now: str) -> list[tuple[str, str, int]]:
    engine = DisputeEngine.open(url)
    try:
        now = datetime.fromisoformat(iso_now)
        return [
            (str(a.dispute_id), a.clock, a.threshold) for a in engine.record_sla_breaches(now=now)
        ]
    finally:
        engine.shutdown()


def test_four_checker_processes_on_postgresql_record_each_alert_once(
    pg_schema_url: str, clock: FakeClock, alice: Actor
):
    engine = DisputeEngine.open(pg_schema_url, clock=clock)
    try:
        ids = [file_dispute(engine, alice) for _ in range(4)]
        engine.projections.catch_up()
        moment = (clock.now + timedelta(hours=2)).isoformat()
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            results = pool.starmap(_check_in_process, [(pg_schema_url, moment)] * 4)
        recorded = [r for result in results for r in result]
        assert len(recorded) == len(set(recorded)) == 4 * 4
        for dispute_id in ids:
            names = [e.name for e in engine.history(dispute_id)]
            assert names.count("SlaBreached") == 1
    finally:
        engine.shutdown()


def test_closed_and_withdrawn_disputes_raise_no_alerts(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = file_dispute(engine, alice)
    engine.withdraw(dispute_id, by=alice)
    clock.advance(timedelta(days=60))
    assert engine.record_sla_breaches() == []
    assert {c.state for c in engine.get(dispute_id).sla_clocks} == {"stopped"}


def test_report_counts_met_and_breached_per_metric_and_priority(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    late = file_dispute(engine, alice, priority="high")
    quick = file_dispute(engine, alice, priority="high")
    engine.assign(quick, investigator="alice", by=alice)
    clock.advance(timedelta(hours=1))
    engine.record_sla_breaches()
    engine.assign(late, investigator="alice", by=alice)
    rows = engine.sla_report(since=clock.now - timedelta(days=1), until=clock.now)
    first = next(r for r in rows if r.metric == "first_response" and r.priority == "high")
    assert (first.met, first.breached, first.met_share) == (1, 1, 0.5)


def file_overdue_dispute(db_url: str, alice: Actor) -> UUID:
    """A dispute filed three hours ago by the wall clock the command line runs on."""
    past = datetime.now(UTC) - timedelta(hours=3)
    engine = DisputeEngine.open(db_url, clock=FakeClock(past))
    try:
        return file_dispute(engine, alice, transaction={"occurred_at": past.isoformat()})
    finally:
        engine.shutdown()


def test_sla_check_and_report_from_the_command_line(db_url: str, alice: Actor):
    dispute_id = file_overdue_dispute(db_url, alice)
    env = cli_env()
    once = subprocess.run(
        ["dispute-engine", "sla", "check", "--db", db_url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert once.returncode == 0, once.stderr
    recorded = json.loads(once.stdout)
    assert {(r["dispute_id"], r["threshold"]) for r in recorded} >= {(str(dispute_id), 100)}

    report = subprocess.run(
        ["dispute-engine", "sla", "report", "--db", db_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[0].split() == [
        "metric",
        "priority",
        "met",
        "breached",
        "open",
        "stopped",
        "met",
        "%",
    ]
    assert "first_response  normal" in report.stdout


def cli_env() -> dict[str, str]:
    """The environment with this interpreter's scripts first on the PATH."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_checker_loop_stops_cleanly_on_a_signal(
    db_url: str, alice: Actor, stop: signal.Signals
):
    dispute_id = file_overdue_dispute(db_url, alice)
    loop = subprocess.Popen(
        ["dispute-engine", "sla", "check", "--db", db_url, "--every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert loop.stdout is not None
    # The first round's output: the loop is running, with its signal handlers in place.
    assert loop.stdout.readline().startswith(str(dispute_id))
    loop.send_signal(stop)
    _, err = loop.communicate(timeout=20)
    assert loop.returncode == 0, err
    assert "Traceback" not in err
