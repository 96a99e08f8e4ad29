"""Working-time calendars: the zone of a jurisdiction, business hours at their edges, UTC out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispute_engine.domain.calendars import Calendar

NEW_YORK = ZoneInfo("America/New_York")
MICROSECOND = timedelta(microseconds=1)


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


def test_a_region_keeps_its_own_holidays():
    california = Calendar.for_jurisdiction("US-CA")
    cesar_chavez_day = date(2026, 3, 31)  # a Tuesday: a California holiday, not a federal one
    assert california == Calendar("America/Los_Angeles", "US", "CA")
    assert not california.is_working_day(cesar_chavez_day)
    assert Calendar.for_jurisdiction("US").is_working_day(cesar_chavez_day)


def test_a_country_without_a_region_has_none():
    assert Calendar.for_jurisdiction("US") == Calendar("America/New_York", "US", None)


def test_working_time_late_in_january_counts_from_that_day():
    assert office().add(local(2027, 1, 12, 10, 0), timedelta(hours=1)) == local(2027, 1, 12, 11, 0)


def test_a_span_starting_before_the_years_first_working_day_counts_from_its_opening():
    # 1 January 2027 is a Friday and a holiday: the first working day is Monday the 4th.
    calendar = Calendar.for_jurisdiction("US")
    saturday, tuesday = local(2027, 1, 2, 12, 0), local(2027, 1, 5, 12, 0)
    assert calendar.working_between(saturday, tuesday) == timedelta(hours=36)


def test_working_time_crosses_the_new_year():
    new_years_eve, monday = local(2026, 12, 31, 16, 0), local(2027, 1, 4, 10, 0)
    assert office().add(new_years_eve, timedelta(hours=2)) == local(2027, 1, 4, 10, 0)
    assert office().working_between(new_years_eve, monday) == timedelta(hours=2)
    assert office().add_working_days(new_years_eve, 1) == local(2027, 1, 4, 16, 0)


@pytest.mark.parametrize("years", [(2027, 2026, 2028), (2026, 2028, 2027)])
def test_answers_do_not_depend_on_the_years_asked_before(years: tuple[int, ...]):
    used = office()
    for year in years:
        start = local(year, 6, 14, 10, 0)
        assert used.add(start, timedelta(hours=30)) == office().add(start, timedelta(hours=30))
        assert used.add_working_days(start, 3) == office().add_working_days(start, 3)
        end = local(year, 7, 1, 12, 0)
        assert used.working_between(start, end) == office().working_between(start, end)


def test_the_years_first_working_day_counts_in_full():
    monday = local(2027, 1, 4, 10, 0)  # the first working day of 2027 in New York
    calendar = Calendar.for_jurisdiction("US")
    assert calendar.working_between(monday, monday + timedelta(hours=2)) == timedelta(hours=2)


@pytest.mark.usefixtures("tokyo_machine")
def test_the_years_a_span_covers_are_those_of_the_calendars_zone():
    # 02:00 on 1 January in Auckland is still 31 December on a machine in Tokyo.
    auckland = ZoneInfo("Pacific/Auckland")
    calendar = Calendar(zone="Pacific/Auckland", hours=(0, 23))
    start, end = (
        datetime(2026, 12, 31, 12, tzinfo=auckland),
        datetime(2027, 1, 1, 2, tzinfo=auckland),
    )
    assert calendar.working_between(start, end) == timedelta(hours=13)


def test_working_days_far_ahead_count_every_working_day_between():
    calendar = Calendar.for_jurisdiction("US")
    start = local(2026, 12, 7, 10, 0)
    due = calendar.add_working_days(start, 600)
    first, last = start.date(), due.astimezone(NEW_YORK).date()
    counted = sum(
        calendar.is_working_day(first + timedelta(days=n))
        for n in range(1, (last - first).days + 1)
    )
    assert (counted, due.astimezone(NEW_YORK).time()) == (600, start.time())


def test_a_calendar_builds_its_working_windows_once_for_the_years_it_covers():
    calendar = office()
    june = date(2026, 6, 1)
    assert calendar._timeline(june, june) is calendar._timeline(june, june + timedelta(days=90))


@pytest.mark.parametrize(("asked", "then"), [(2026, 2028), (2028, 2026)])
def test_widening_the_working_windows_keeps_the_years_already_covered(asked: int, then: int):
    calendar = office()
    calendar._timeline(date(asked, 6, 1), date(asked, 6, 1))
    widened = calendar._timeline(date(then, 6, 1), date(then, 6, 1))
    assert calendar._timeline(date(asked, 6, 1), date(asked, 6, 1)) is widened


def test_working_time_stays_exact_to_the_microsecond_far_from_1970():
    start = local(2300, 6, 1, 10, 0, 0, 1)  # a Friday; a float would round these microseconds
    assert office().working_between(start, start + MICROSECOND) == MICROSECOND
    assert office().add(start, timedelta(hours=1)) == start + timedelta(hours=1)
