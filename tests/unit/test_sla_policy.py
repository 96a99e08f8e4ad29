"""The SLA policy's rules and the clocks events move, without storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispute_engine.domain import events
from dispute_engine.domain.calendars import Calendar
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.sla_clock import ClockMove, SlaTracker, alerts_due, move_clocks
from dispute_engine.domain.sla_policy import (
    BUSINESS_HOURS,
    CURRENT_POLICY,
    POLICIES,
    Metric,
    Rule,
    SlaPolicy,
    Target,
    Unit,
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


@pytest.mark.parametrize(
    ("unit", "due"),
    [
        ("minutes", datetime(2026, 12, 4, 21, 2, tzinfo=UTC)),
        ("hours", datetime(2026, 12, 4, 23, 0, tzinfo=UTC)),
        ("calendar_days", datetime(2026, 12, 6, 21, 0, tzinfo=UTC)),
        ("business_hours", datetime(2026, 12, 7, 15, 0, tzinfo=UTC)),  # Monday 10:00 in New York
        ("business_days", datetime(2026, 12, 8, 21, 0, tzinfo=UTC)),  # Tuesday 16:00
    ],
)
def test_each_unit_counts_on_its_own_calendar(unit: Unit, due: datetime):
    friday_four_pm_in_new_york = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert Target(2, unit).due(friday_four_pm_in_new_york, "US") == due


def clock_due(target: Target, jurisdiction: str, start: datetime) -> datetime | None:
    """The due time of a clock with the target started at ``start``."""
    policy = SlaPolicy(version="one rule", rules=(Rule(Metric.RESOLUTION, target),))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(POLICIES, policy.version, policy)
        t = SlaTracker(jurisdiction=jurisdiction, policy_version=policy.version)
        t.start_cycle(start, (Metric.RESOLUTION,))
        return t.clocks["resolution:1"].due_at


@pytest.mark.parametrize(
    ("days", "start", "due"),
    [
        # Saturday 10:00 in New York: ten whole days from Monday, done as Friday 11 Dec
        # closes (not at the next opening, Monday 14 Dec).
        (10, datetime(2026, 11, 28, 15, 0, tzinfo=UTC), datetime(2026, 12, 12, 5, 0, tzinfo=UTC)),
        # The working day before Thanksgiving, 10:00: the same time on Friday.
        (1, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), datetime(2026, 11, 27, 15, 0, tzinfo=UTC)),
        # Its opening (00:00): done as Wednesday closes, not as Friday opens after the holiday.
        (1, datetime(2026, 11, 25, 5, 0, tzinfo=UTC), datetime(2026, 11, 26, 5, 0, tzinfo=UTC)),
        # Thanksgiving itself: done as Friday closes, not as Monday opens.
        (1, datetime(2026, 11, 26, 15, 0, tzinfo=UTC), datetime(2026, 11, 28, 5, 0, tzinfo=UTC)),
    ],
)
def test_business_days_fall_due_when_a_clock_started_then_falls_due(
    days: int, start: datetime, due: datetime
):
    target = Target(days, "business_days")
    assert target.due(start, "US") == due
    assert clock_due(target, "US", start) == due


def test_business_days_on_an_hours_calendar_fall_due_at_a_close():
    office = Calendar.for_jurisdiction("US", hours=BUSINESS_HOURS)
    after_closing = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # Wednesday 18:00, Thanksgiving eve
    due = Target(1, "business_days").due_on(office, after_closing)
    assert due == datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # Friday 17:00, not Monday 09:00
    assert office.add(after_closing, office.working_between(after_closing, due)) == due


@pytest.mark.parametrize(
    ("rule", "specificity"),
    [
        (Rule(Metric.FEEDBACK, Target(1, "hours")), 0),
        (Rule(Metric.FEEDBACK, Target(1, "hours"), priority="urgent"), 1),
        (Rule(Metric.FEEDBACK, Target(1, "hours"), reason="unauthorized", country="US"), 2),
        (Rule(Metric.FEEDBACK, Target(1, "hours"), "urgent", "unauthorized", "US"), 3),
        (Rule(Metric.FEEDBACK, Target(1, "hours"), priority="low"), -1),
        (Rule(Metric.FEEDBACK, Target(1, "hours"), "urgent", "unauthorized", "ES"), -1),
    ],
)
def test_a_rule_matches_by_every_field_it_gives(rule: Rule, specificity: int):
    assert rule.matches("urgent", "unauthorized", "US") == specificity


def test_a_fresh_policy_ranks_its_rules_by_how_specifically_they_match():
    general, urgent, in_spain = Target(1, "hours"), Target(2, "hours"), Target(3, "hours")
    policy = SlaPolicy(
        version="test",
        rules=(
            Rule(Metric.FEEDBACK, general),
            Rule(Metric.FEEDBACK, urgent, priority="urgent"),
            Rule(Metric.FEEDBACK, in_spain, priority="urgent", country="ES"),
        ),
    )

    def target(priority: str, jurisdiction: str) -> Target:
        return policy.target(
            Metric.FEEDBACK, priority=priority, reason="other", jurisdiction=jurisdiction
        )

    assert target("normal", "ES") is general
    assert target("urgent", "US") is urgent
    assert target("urgent", "es") is in_spain


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


HALF_A_DAY = timedelta(hours=12)  # half the feedback clock's 24 hours


@pytest.mark.parametrize(
    ("paused_after", "owed"),
    [(timedelta(hours=1), None), (HALF_A_DAY - timedelta(minutes=1), None), (HALF_A_DAY, 50)],
)
def test_a_paused_clock_owes_a_warning_from_exactly_its_share(
    paused_after: timedelta, owed: int | None
):
    t = tracker()
    observe(t, events.EvidenceRequested, Status.FILED, Status.AWAITING_CLAIMANT, T0 + paused_after)
    expected = None if owed is None else (owed, T0 + paused_after)
    assert t.clocks["feedback:1"].next_alert() == expected


@pytest.mark.parametrize(
    ("after", "owed"), [(HALF_A_DAY - timedelta(minutes=1), []), (HALF_A_DAY, [50])]
)
def test_a_running_clock_warns_from_exactly_its_share(after: timedelta, owed: list[int]):
    alerts = tracker().alerts_due(T0 + after)
    assert [a.threshold for a in alerts if a.clock == "feedback:1"] == owed


def test_an_alert_is_due_when_its_share_of_the_target_is_used():
    alerts = tracker().alerts_due(T0 + timedelta(hours=13))
    feedback = [(a.threshold, a.at, a.due_at) for a in alerts if a.clock == "feedback:1"]
    assert feedback == [(50, T0 + HALF_A_DAY, T0 + timedelta(hours=24))]


def test_a_clock_with_nothing_due_does_not_hide_the_next_clocks_alerts():
    clocks = tracker().clocks
    resolution, feedback = clocks["resolution:1"], clocks["feedback:1"]
    owed = alerts_due([resolution, feedback], T0 + timedelta(hours=13))
    assert [(a.clock, a.threshold) for a in owed] == [("feedback:1", 50)]


def test_a_clock_exactly_at_its_due_time_does_not_pause():
    t = tracker()
    due = T0 + timedelta(hours=24)
    observe(t, events.EvidenceRequested, Status.FILED, Status.AWAITING_CLAIMANT, due)
    assert t.clocks["feedback:1"].state == "running"


def test_a_warning_leaves_the_clock_running():
    t = tracker()
    t.alerted("feedback:1", 90)
    assert t.clocks["feedback:1"].state == "running"


def test_a_recorded_breach_stays_a_breach_through_a_pause_and_a_resume():
    t = tracker()
    t.alerted("feedback:1", 100)
    observe(t, events.EvidenceRequested, Status.FILED, Status.AWAITING_CLAIMANT, T0)
    assert (t.clocks["feedback:1"].state, t.clocks["feedback:1"].paused_at) == ("breached", T0)
    later = T0 + timedelta(hours=1)
    observe(t, events.EvidenceAdded, Status.AWAITING_CLAIMANT, Status.INVESTIGATING, later)
    assert (t.clocks["feedback:1"].state, t.clocks["feedback:1"].resumed_at) == ("breached", later)


def test_a_tracker_keeps_its_own_policy_version_priority_and_reason_through_json():
    t = SlaTracker(jurisdiction="ES", policy_version="2025-01", priority="urgent", reason="fraud")
    assert SlaTracker.from_dict(t.to_dict()) == t


def test_a_resumed_clock_runs_again_from_the_answer():
    t = tracker()
    observe(t, events.EvidenceRequested, Status.FILED, Status.AWAITING_CLAIMANT, T0)
    answered = T0 + timedelta(hours=3)
    observe(t, events.EvidenceAdded, Status.AWAITING_CLAIMANT, Status.INVESTIGATING, answered)
    clock = t.clocks["feedback:1"]
    assert (clock.state, clock.resumed_at, clock.paused_at) == ("running", answered, None)


def test_a_paused_clock_is_met_by_a_notice_sent_while_awaiting_the_claimant():
    t = tracker()
    observe(t, events.EvidenceRequested, Status.FILED, Status.AWAITING_CLAIMANT, T0)
    notified = T0 + timedelta(hours=3)
    awaiting = Status.AWAITING_CLAIMANT
    observe(t, events.ClaimantNotified, awaiting, awaiting, notified)
    clock = t.clocks["feedback:1"]
    assert (clock.state, clock.ended_at, clock.paused_at) == ("met", notified, None)
    assert t.clocks["resolution:1"].state == "paused"


def test_entering_resolved_meets_the_resolution_clock_there_and_then():
    t = tracker()
    resolved = T0 + timedelta(days=1)
    observe(t, events.DecisionProposed, Status.INVESTIGATING, Status.RESOLVED, resolved)
    clock = t.clocks["resolution:1"]
    assert (clock.state, clock.ended_at) == ("met", resolved)


def test_withdrawing_stops_every_open_clock_with_the_time_it_used():
    t = tracker()
    withdrawn = T0 + timedelta(hours=3)
    observe(t, events.Withdrawn, Status.FILED, Status.WITHDRAWN, withdrawn)
    assert {c.state for c in t.clocks.values()} == {"stopped"}
    feedback = t.clocks["feedback:1"]
    assert (feedback.ended_at, feedback.resumed_at) == (withdrawn, None)
    assert feedback.used(withdrawn + timedelta(days=3)) == timedelta(hours=3)


def test_a_tracker_for_a_claim_keeps_its_jurisdiction_priority_reason_and_policy():
    claim = {"jurisdiction": "ES", "priority": "urgent", "reason": "unauthorized"}
    assert SlaTracker.for_claim(claim, "2025-01") == SlaTracker(
        jurisdiction="ES", policy_version="2025-01", priority="urgent", reason="unauthorized"
    )


def test_a_claim_without_a_jurisdiction_has_no_clocks():
    claim = {"jurisdiction": "", "priority": "normal", "reason": "other"}
    with pytest.raises(ValueError, match=r"^a filed claim always has a jurisdiction$"):
        SlaTracker.for_claim(claim, CURRENT_POLICY.version)


def test_clocks_start_with_the_targets_of_the_disputes_priority_and_reason():
    t = SlaTracker(jurisdiction="CN", priority="urgent", reason="unauthorized")
    move_clocks(t, ClockMove(events.Filed, None, Status.FILED, T0))
    assert t.clocks["first_response:1"].due_at == T0 + timedelta(minutes=15)
    assert t.clocks["resolution:1"].due_at == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_a_moved_clock_keeps_every_field_its_move_does_not_change():
    clock = replace(tracker().clocks["resolution:1"], alerts=(50,), state="breached")
    later = T0 + timedelta(hours=3)
    moved = clock.moved("paused", timedelta(hours=3), resumed_at=None, paused_at=later)
    assert moved == replace(
        clock, state="paused", consumed=timedelta(hours=3), resumed_at=None, paused_at=later
    )
    ended = clock.moved("met", clock.consumed, None, None, ended_at=later, alerts=(50, 75))
    assert ended == replace(clock, state="met", resumed_at=None, ended_at=later, alerts=(50, 75))


def test_an_alert_changes_only_the_alerts_and_on_a_breach_the_state():
    t = tracker()
    t.pause(T0 + timedelta(hours=2))  # past the first response's target: owed, paused
    paused = t.clocks["first_response:1"]
    t.alerted("first_response:1", 50)
    assert t.clocks["first_response:1"] == replace(paused, alerts=(50,))
    t.alerted("first_response:1", 100)
    assert t.clocks["first_response:1"] == replace(paused, alerts=(50, 100), state="breached")
    ended = replace(t.clocks["resolution:1"], ended_at=T0 + timedelta(hours=3))
    t.clocks["resolution:1"] = ended
    t.alerted("resolution:1", 75)
    assert t.clocks["resolution:1"] == replace(ended, alerts=(75,))
