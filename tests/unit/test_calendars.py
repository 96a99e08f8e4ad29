"""Working-time calendars: the zone of a jurisdiction, business hours at their edges, UTC out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispute_engine.domain.calendars import Calendar

NEW_YORK = ZoneInfo("America/New_York")


def office() -> Calendar:
    """New York business hours, built when a test runs."""
    return Calendar.for_jurisdiction("US", hours=(9, 17))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("jurisdiction", "zone"),
    [
        ("us-ca", "America/Los_Angeles"),
        ("US-CA", "America/Los_Angeles"),
        ("US-NY", "America/New_York"),  # a region without its own zone takes the country's
        ("ZZ", "UTC"),
    ],
)
def test_a_jurisdiction_works_in_its_own_zone(jurisdiction: str, zone: str):
    assert Calendar.for_jurisdiction(jurisdiction).zone == zone


def test_a_jurisdictions_calendar_keeps_its_business_hours():
    calendar = office()
    assert (calendar.zone, calendar.hours) == ("America/New_York", (9, 17))


def test_working_days_are_those_of_the_jurisdictions_own_date():
    tokyo = Calendar.for_jurisdiction("JP")
    # Sunday 20:00 UTC is already Monday 05:00 in Tokyo.
    sunday_evening_utc = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert tokyo.working_between(sunday_evening_utc, sunday_evening_utc + timedelta(hours=2)) == (
        timedelta(hours=2)
    )


def test_a_clock_started_at_closing_time_starts_the_next_working_morning():
    friday_close = local(2026, 12, 4, 17, 0)
    assert office().add(friday_close, timedelta(0)) == local(2026, 12, 7, 9, 0)


def test_a_whole_working_day_ends_at_that_days_close():
    assert office().add(local(2026, 12, 7, 9, 0), timedelta(hours=8)) == local(2026, 12, 7, 17, 0)


def test_working_time_carries_over_to_the_next_day():
    assert office().add(local(2026, 12, 7, 15, 0), timedelta(hours=8)) == local(2026, 12, 8, 15, 0)


def test_a_calendar_without_working_time_says_so():
    never = Calendar(hours=(9, 9))
    with pytest.raises(ValueError, match=r"^no working time within ten years$"):
        never.add(datetime(2026, 12, 7, tzinfo=UTC), timedelta(hours=1))


@pytest.mark.usefixtures("tokyo_machine")
@pytest.mark.parametrize(
    "moment",
    [
        lambda: Calendar().add(local(2026, 12, 7, 10, 0), timedelta(hours=1)),
        lambda: office().add(local(2026, 12, 7, 10, 0), timedelta(hours=1)),
        lambda: office().add_working_days(local(2026, 12, 7, 10, 0), 2),
    ],
)
def test_moments_come_out_in_utc_whatever_the_machines_zone(moment):
    assert moment().utcoffset() == timedelta(0)


@pytest.mark.parametrize("jurisdiction", ["US-CA", "JP", "AU", "ES"])
@pytest.mark.parametrize("hours", [None, (9, 17)])
def test_a_calendar_that_built_its_years_answers_as_a_new_one_around_new_year(
    jurisdiction: str, hours: tuple[int, int] | None
):
    # The first answer builds 2026 and 2027; later ones near the ends of those years are
    # read from them without working out a local date, and must agree with a new calendar's.
    warm = Calendar.for_jurisdiction(jurisdiction, hours=hours)
    warm.working_between(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
    for year, month, day in ((2026, 1, 1), (2026, 12, 29), (2027, 12, 29)):
        for hour in range(0, 24 * 4, 5):
            start = datetime(year, month, day, tzinfo=UTC) + timedelta(hours=hour)
            end = start + timedelta(days=3, minutes=17)
            amount = timedelta(hours=30)
            new = Calendar.for_jurisdiction(jurisdiction, hours=hours)  # nothing built yet
            assert warm.working_between(start, end) == new.working_between(start, end)
            new = Calendar.for_jurisdiction(jurisdiction, hours=hours)
            assert warm.add(start, amount) == new.add(start, amount)
            new = Calendar.for_jurisdiction(jurisdiction, hours=hours)
            assert warm.add_working_days(start, 2) == new.add_working_days(start, 2)
