"""Working-time calendars against a brute-force minute counter, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_engine.domain.calendars import Calendar
from dispute_engine.domain.sla_clock import SlaTracker
from dispute_engine.domain.sla_policy import Metric, Target

JURISDICTIONS = ["US", "US-CA", "ES", "CN", "AU", "CL", "GB", "IL"]
MINUTE = timedelta(minutes=1)
# Around the spring and autumn clock changes of both hemispheres.
STARTS = [
    datetime(2026, m, d, tzinfo=UTC)
    for m, d in ((3, 6), (3, 27), (4, 2), (9, 4), (10, 23), (10, 30))
]


def calendars() -> st.SearchStrategy[Calendar]:
    return st.builds(
        Calendar.for_jurisdiction,
        st.sampled_from(JURISDICTIONS),
        hours=st.sampled_from([None, (9, 17), (8, 20)]),
    ) | st.just(Calendar())


def moments() -> st.SearchStrategy[datetime]:
    return st.builds(
        lambda start, minutes: start + timedelta(minutes=minutes),
        st.sampled_from(STARTS),
        st.integers(0, 14 * 24 * 60),
    )


def brute_force(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Count working minutes one by one: is the minute's local time working time?"""
    total = timedelta(0)
    moment = start
    while moment < end:
        if _working(calendar, moment):
            total += MINUTE
        moment += MINUTE
    return total


def _working(calendar: Calendar, moment: datetime) -> bool:
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(calendar.zone))
    if not calendar.is_working_day(local.date()):
        return False
    if calendar.hours is None:
        return True
    return calendar.hours[0] <= local.hour < calendar.hours[1]


@settings(max_examples=60, deadline=None)
@given(calendar=calendars(), start=moments(), minutes=st.integers(0, 6 * 24 * 60))
def test_working_time_equals_counting_minutes(calendar: Calendar, start: datetime, minutes: int):
    end = start + timedelta(minutes=minutes)
    assert calendar.working_between(start, end) == brute_force(calendar, start, end)


@settings(max_examples=100, deadline=None)
@given(calendar=calendars(), start=moments(), minutes=st.integers(0, 40 * 60))
def test_adding_working_time_then_measuring_it_gives_it_back(
    calendar: Calendar, start: datetime, minutes: int
):
    due = calendar.add(start, timedelta(minutes=minutes))
    assert calendar.working_between(start, due) == timedelta(minutes=minutes)
    assert due >= start
    if minutes:  # the due moment is the end of a working minute, not idle time after it
        assert _working(calendar, due - MINUTE)


@settings(max_examples=60, deadline=None)
@given(calendar=calendars(), start=moments(), a=st.integers(0, 3000), b=st.integers(0, 3000))
def test_more_working_time_is_never_due_earlier(
    calendar: Calendar, start: datetime, a: int, b: int
):
    low, high = sorted((a, b))
    assert calendar.add(start, timedelta(minutes=low)) <= calendar.add(
        start, timedelta(minutes=high)
    )


@given(jurisdiction=st.sampled_from(JURISDICTIONS), start=moments(), days=st.integers(1, 20))
def test_working_days_land_on_a_working_day_at_the_same_local_time(
    jurisdiction: str, start: datetime, days: int
):
    from zoneinfo import ZoneInfo

    calendar = Calendar.for_jurisdiction(jurisdiction)
    due = calendar.add_working_days(start, days)
    zone = ZoneInfo(calendar.zone)
    begin = calendar.add(start, timedelta(0)).astimezone(zone)
    local_due = due.astimezone(zone)
    assert calendar.is_working_day(local_due.date())
    working_days = sum(
        calendar.is_working_day(begin.date() + timedelta(days=n))
        for n in range(1, (local_due.date() - begin.date()).days + 1)
    )
    assert working_days == days
    if local_due.replace(tzinfo=None).time() == begin.replace(tzinfo=None).time():
        return
    # Only a wall time that the clock change skips may move (by the skipped hour).
    assert abs(local_due.utcoffset() - begin.utcoffset()) == timedelta(hours=1)  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(calendar=calendars(), start=moments(), a=st.integers(0, 5000), b=st.integers(0, 5000))
def test_consecutive_spans_add_up(calendar: Calendar, start: datetime, a: int, b: int):
    middle = start + timedelta(minutes=a)
    end = middle + timedelta(minutes=b)
    assert calendar.working_between(start, middle) + calendar.working_between(
        middle, end
    ) == calendar.working_between(start, end)


@settings(max_examples=100, deadline=None)
@given(jurisdiction=st.sampled_from(JURISDICTIONS), start=moments(), days=st.integers(1, 40))
def test_business_days_fall_due_as_soon_as_their_working_time_has_passed(
    jurisdiction: str, start: datetime, days: int
):
    target = Target(days, "business_days")
    calendar = target.calendar(jurisdiction)
    due = target.due(start, jurisdiction)
    same_local_time = calendar.add_working_days(start, days)
    worked = calendar.working_between(start, same_local_time)
    assert calendar.working_between(start, due) == worked
    assert calendar.add(start, worked) == due
    assert due <= same_local_time
    assert _working(calendar, due - MINUTE)  # a close or a moment of work, never idle time


@settings(max_examples=100, deadline=None)
@given(
    jurisdiction=st.sampled_from(JURISDICTIONS),
    reason=st.sampled_from(["other", "unauthorized"]),
    start=moments(),
)
def test_a_business_day_clock_falls_due_when_its_target_does(
    jurisdiction: str, reason: str, start: datetime
):
    tracker = SlaTracker(jurisdiction=jurisdiction, reason=reason)
    tracker.start_cycle(start, (Metric.RESOLUTION,))
    clock = tracker.clocks["resolution:1"]
    target = tracker.policy.target(
        Metric.RESOLUTION, priority="normal", reason=reason, jurisdiction=jurisdiction
    )
    assert target.unit == "business_days"
    assert clock.due_at == target.due(start, jurisdiction)
    calendar = target.calendar(jurisdiction)
    same_local_time = calendar.add_working_days(start, target.amount)
    assert clock.target == calendar.working_between(start, same_local_time)
