"""The SLA policy's rules and the clocks events move, without storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispute_engine.domain import events
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.sla_clock import ClockMove, SlaTracker, move_clocks
from dispute_engine.domain.sla_policy import (
    CURRENT_POLICY,
    Metric,
    SlaPolicy,
    Target,
)

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday


def target(metric: Metric, **kw: str) -> Target:
    args = {"priority": "normal", "reason": "other", "jurisdiction": "CN", **kw}
    return CURRENT_POLICY.target(metric, **args)


def test_the_most_specific_rule_sets_the_target():
    assert target(Metric.FIRST_RESPONSE) == Target(1, "hours")
    assert target(Metric.FIRST_RESPONSE, priority="urgent") == Target(15, "minutes")
    assert target(Metric.RESOLUTION).amount == 15
    assert target(Metric.RESOLUTION, jurisdiction="US-CA").note.startswith("US Reg E")
    assert target(Metric.RESOLUTION, jurisdiction="ES").note.startswith("EU PSD2")
    assert target(Metric.RESOLUTION, reason="unauthorized") == Target(5, "business_days")


def test_regulatory_rules_carry_their_extended_targets():
    reg_e = target(Metric.RESOLUTION, jurisdiction="US")
    assert (reg_e.amount, reg_e.unit) == (10, "business_days")
    assert reg_e.extended == Target(45, "calendar_days")
    psd2 = target(Metric.RESOLUTION, jurisdiction="DE")
    assert psd2.extended == Target(35, "business_days")


def test_a_policy_without_a_rule_for_a_metric_says_so():
    with pytest.raises(LookupError):
        SlaPolicy(version="empty", rules=()).target(
            Metric.FEEDBACK, priority="normal", reason="other", jurisdiction="US"
        )


def tracker() -> SlaTracker:
    t = SlaTracker(priority="normal", reason="other", jurisdiction="CN")
    move_clocks(t, ClockMove(events.Filed, None, Status.FILED, T0))
    return t


def observe(
    t: SlaTracker, event: type[events.DisputeEvent], previous: Status, status: Status, at: datetime
) -> None:
    move_clocks(t, ClockMove(event, previous, status, at))


def test_filing_starts_three_clocks_under_the_current_policy():
    clocks = tracker().clocks
    assert set(clocks) == {"first_response:1", "feedback:1", "resolution:1"}
    assert {c.policy_version for c in clocks.values()} == {CURRENT_POLICY.version}
    assert clocks["feedback:1"].due_at == T0 + timedelta(hours=24)


def test_a_pause_moves_the_due_time_by_the_paused_time():
    t = tracker()
    observe(
        t,
        events.EvidenceRequested,
        Status.INVESTIGATING,
        Status.AWAITING_CLAIMANT,
        T0 + timedelta(hours=2),
    )
    assert t.clocks["feedback:1"].state == "paused"
    assert t.alerts_due(T0 + timedelta(days=5)) == []
    observe(
        t,
        events.EvidenceAdded,
        Status.AWAITING_CLAIMANT,
        Status.INVESTIGATING,
        T0 + timedelta(hours=7),
    )
    assert t.clocks["feedback:1"].due_at == T0 + timedelta(hours=29)


def test_alerts_come_at_each_threshold_and_only_once():
    t = tracker()
    due = t.alerts_due(T0 + timedelta(minutes=46))
    assert [(a.clock, a.threshold) for a in due] == [
        ("first_response:1", 50),
        ("first_response:1", 75),
    ]
    for alert in due:
        t.alerted(alert.clock, alert.threshold)
    assert t.alerts_due(T0 + timedelta(minutes=46)) == []
    later = t.alerts_due(T0 + timedelta(minutes=61))
    assert [a.threshold for a in later if a.clock == "first_response:1"] == [90, 100]


def test_meeting_a_metric_stops_its_clock_and_a_breach_stays_a_breach():
    t = tracker()
    t.alerted("first_response:1", 100)
    observe(t, events.Assigned, Status.FILED, Status.INVESTIGATING, T0 + timedelta(hours=2))
    assert t.clocks["first_response:1"].state == "breached"
    assert not t.clocks["first_response:1"].open
    observe(
        t,
        events.ClaimantNotified,
        Status.INVESTIGATING,
        Status.INVESTIGATING,
        T0 + timedelta(hours=3),
    )
    assert t.clocks["feedback:1"].state == "met"


def test_a_reopened_dispute_starts_new_feedback_and_resolution_clocks():
    t = tracker()
    observe(
        t,
        events.DecisionProposed,
        Status.INVESTIGATING,
        Status.RESOLVED,
        T0 + timedelta(days=1),
    )
    observe(t, events.Closed, Status.RESOLVED, Status.CLOSED, T0 + timedelta(days=2))
    assert {c.state for c in t.clocks.values()} <= {"met", "stopped"}
    observe(t, events.Reopened, Status.CLOSED, Status.INVESTIGATING, T0 + timedelta(days=3))
    assert t.clocks["resolution:2"].state == "running"
    assert t.clocks["feedback:2"].started_at == T0 + timedelta(days=3)
    assert "first_response:2" not in t.clocks


def test_the_tracker_survives_a_round_trip_through_json_safe_data():
    t = tracker()
    observe(
        t,
        events.EvidenceRequested,
        Status.FILED,
        Status.AWAITING_CLAIMANT,
        T0 + timedelta(minutes=5),
    )
    t.alerted("first_response:1", 50)
    assert SlaTracker.from_dict(t.to_dict()) == t


def test_warnings_reached_before_a_pause_are_still_owed_during_it():
    t = tracker()  # feedback: 24 hours
    paused_at = T0 + timedelta(hours=13)
    observe(t, events.EvidenceRequested, Status.FILED, Status.AWAITING_CLAIMANT, paused_at)
    owed = [a for a in t.alerts_due(T0 + timedelta(days=5)) if a.clock == "feedback:1"]
    assert [a.threshold for a in owed] == [50]
    assert owed[0].due_at == T0 + timedelta(hours=24)  # the due time as it stood
    assert t.clocks["feedback:1"].next_alert() == (50, paused_at)


def test_an_overdue_clock_does_not_pause():
    t = tracker()
    observe(
        t,
        events.EvidenceRequested,
        Status.FILED,
        Status.AWAITING_CLAIMANT,
        T0 + timedelta(hours=25),
    )
    clock = t.clocks["feedback:1"]
    assert clock.state == "running"
    assert clock.due_at == T0 + timedelta(hours=24)
    owed = t.alerts_due(T0 + timedelta(hours=26))
    assert [a.threshold for a in owed if a.clock == "feedback:1"] == [50, 75, 90, 100]
    assert t.clocks["resolution:1"].state == "paused"


def test_weekends_and_worked_weekend_days_follow_the_country():
    from dispute_engine.domain.calendars import Calendar

    china = Calendar.for_jurisdiction("CN")
    assert china.is_working_day(datetime(2026, 2, 14).date())  # a Saturday worked in lieu
    israel = Calendar.for_jurisdiction("IL")
    assert not israel.is_working_day(datetime(2026, 11, 27).date())  # Friday: the weekend
    assert israel.is_working_day(datetime(2026, 11, 29).date())  # Sunday: a working day


def test_every_event_a_dispute_records_is_one_of_the_explicit_event_classes():
    from dispute_engine.domain.dispute import Dispute

    recorded = {
        value
        for name, value in vars(Dispute).items()
        if isinstance(value, type)
        and issubclass(value, Dispute.Event)
        and name not in ("Event", "Created")
    }
    explicit = {next(c for c in events.EVENT_CLASSES if issubclass(r, c)) for r in recorded}
    assert len(explicit) == len(recorded)
    assert explicit == set(events.EVENT_CLASSES)
