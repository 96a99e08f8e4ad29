"""Working-time calendars: round the clock, business hours, business days of a jurisdiction.

Times go in and out as aware datetimes; working time is counted in the jurisdiction's own
zone (weekends, public holidays, daylight-saving changes) and returned in UTC.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import holidays

ZONES: dict[str, str] = {
    "US": "America/New_York",
    "US-CA": "America/Los_Angeles",
    "US-WA": "America/Los_Angeles",
    "US-TX": "America/Chicago",
    "US-IL": "America/Chicago",
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "IN": "Asia/Kolkata",
    "AU": "Australia/Sydney",
    "ES": "Europe/Madrid",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "GB": "Europe/London",
    "MX": "America/Mexico_City",
    "CO": "America/Bogota",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "BR": "America/Sao_Paulo",
}
WEEKEND = (5, 6)


@lru_cache(maxsize=4096)
def _holidays(country: str, subdiv: str | None, year: int) -> holidays.HolidayBase | None:
    """The country's calendar for a year: holidays, its weekend, weekend days worked in lieu."""
    try:
        return holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError:  # a country or region the package does not know
        return None if subdiv is None else _holidays(country, None, year)


@dataclass(frozen=True)
class Calendar:
    """When work happens: every day all day, or business days (optionally within hours).

    ``hours=None`` means whole days. ``country=None`` means no weekends or holidays.
    """

    zone: str = "UTC"
    country: str | None = None
    subdiv: str | None = None
    hours: tuple[int, int] | None = None

    @classmethod
    def for_jurisdiction(
        cls, jurisdiction: str, *, hours: tuple[int, int] | None = None
    ) -> Calendar:
        """The business calendar of ``US``, ``US-CA``, ``ES``...: its zone and holidays."""
        country, _, subdiv = jurisdiction.upper().partition("-")
        zone = ZONES.get(jurisdiction.upper()) or ZONES.get(country) or "UTC"
        return cls(zone=zone, country=country, subdiv=subdiv or None, hours=hours)

    @cached_property  # asked on every clock computation
    def always(self) -> bool:
        """Whether every minute is working time."""
        return self.country is None and self.hours is None

    @lru_cache(maxsize=65536)  # noqa: B019 - calendars are few, frozen and long-lived
    def is_working_day(self, day: date) -> bool:
        """Whether the local date has working time (not a weekend or public holiday)."""
        if self.country is None:
            return True
        known = _holidays(self.country, self.subdiv, day.year)
        if known is None:
            return day.weekday() not in WEEKEND
        # The package knows each country's weekend (Friday-Saturday in Israel) and the
        # weekend days worked in lieu of a bridge holiday (China's adjusted Saturdays).
        return bool(known.is_working_day(day))

    @lru_cache(maxsize=65536)  # noqa: B019 - calendars are few, frozen and long-lived
    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if not self.is_working_day(day):
            return None
        tz = self._zone
        if self.hours is None:
            start = datetime.combine(day, time(0), tz)
            end = datetime.combine(day + timedelta(days=1), time(0), tz)
        else:
            start = datetime.combine(day, time(self.hours[0]), tz)
            end = datetime.combine(day, time(self.hours[1]), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self._zone).date()

    def _known_over(self, start: int, end: int) -> _Timeline | None:
        """The timeline already built, when it surely covers ``start`` to ``end`` (in
        microseconds) as :meth:`_timeline` would ask: no local date to work out."""
        known: _Timeline | None = self.__dict__.get("_known")
        if known is not None and known.low <= start and end < known.high:
            return known
        return None

    def _timeline(self, first: date, last: date) -> _Timeline:
        """The working windows of whole local years covering ``first`` to ``last``.

        Built once per calendar and widened when a moment falls outside it, so clock
        arithmetic bisects a list instead of walking the days.
        """
        known: _Timeline | None = self.__dict__.get("_known")
        if known is None or first.year < known.first or last.year > known.last:
            low = first.year if known is None else min(first.year, known.first)
            high = last.year if known is None else max(last.year, known.last)
            known = _Timeline.of(self, low, high)
            object.__setattr__(self, "_known", known)  # a cache, not part of the value
        return known

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when end is not after start)."""
        if end <= start:
            return timedelta(0)
        if self.always:
            return end - start
        begin, until = _micros(start), _micros(end)
        timeline = self._known_over(begin, until) or self._timeline(
            self._local_date(start) - DAY, self._local_date(end)
        )
        return timedelta(microseconds=timeline.worked(until) - timeline.worked(begin))

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when ``amount`` of working time has passed since ``start``."""
        if self.always:
            return (start + amount).astimezone(UTC)
        begin = _micros(start)
        known = self._known_over(begin, begin + YEAR)  # as the first round below asks
        found = None if known is None else known.after(begin, amount // MICROSECOND)
        if found is not None:
            return EPOCH + timedelta(microseconds=found)
        first = self._local_date(start) - DAY
        for years in (1, 10):  # targets are days or weeks: ten years is more than enough
            timeline = self._timeline(first, first + years * 366 * DAY)
            found = timeline.after(begin, amount // MICROSECOND)
            if found is not None:
                return EPOCH + timedelta(microseconds=found)
        raise ValueError("no working time within ten years")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time ``days`` working days later (from the next working moment)."""
        begin = self.add(start, timedelta(0))
        tz = self._zone
        local = begin.astimezone(tz)
        day = local.date()
        if days > 0:
            # A working day has exactly one window, opening on that local day.
            for reach in (days * 2 + 30, days * 7 + 400):
                timeline = self._timeline(day, day + reach * DAY)
                index = bisect_right(timeline.days, day) + days - 1
                if index < len(timeline.days):
                    break
            day = timeline.days[index]
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tz).astimezone(UTC)


DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
YEAR = 366 * DAY // MICROSECOND


def _micros(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch (exact, unlike a float)."""
    return (moment - EPOCH) // MICROSECOND


@dataclass(frozen=True)
class _Timeline:
    """A calendar's working windows over whole local years, in microseconds since the epoch,
    with the working time before each window: clock arithmetic by bisection."""

    first: int  # the first and last local years covered
    last: int
    # Moments (microseconds) from which, and before which, every local date is in those
    # years less a day at each end: local and UTC dates differ by a day at most.
    low: int
    high: int
    days: list[date]  # the local day each window opens on
    starts: list[int]
    ends: list[int]
    before: list[int]  # working time before each window
    through: list[int]  # working time up to each window's end

    @classmethod
    def of(cls, calendar: Calendar, first: int, last: int) -> _Timeline:
        days: list[date] = []
        starts: list[int] = []
        ends: list[int] = []
        before: list[int] = []
        through: list[int] = []
        day, total = date(first, 1, 1), 0
        while day.year <= last:
            window = calendar._window(day)
            if window is not None:
                days.append(day)
                starts.append(_micros(window[0]))
                ends.append(_micros(window[1]))
                before.append(total)
                total += ends[-1] - starts[-1]
                through.append(total)
            day += DAY
        low = _micros(datetime(first, 1, 3, tzinfo=UTC))
        high = _micros(datetime(last, 12, 31, tzinfo=UTC))
        return cls(first, last, low, high, days, starts, ends, before, through)

    def worked(self, moment: int) -> int:
        """Working time from the first window to ``moment``."""
        index = bisect_right(self.starts, moment) - 1
        if index < 0:
            return 0
        return self.before[index] + min(
            moment - self.starts[index], self.through[index] - self.before[index]
        )

    def after(self, start: int, amount: int) -> int | None:
        """When ``amount`` of working time has passed since ``start`` (from the first window
        ending after it); None when the timeline ends first."""
        index = bisect_right(self.ends, start)
        if index == len(self.ends):
            return None
        begin = max(self.starts[index], start)
        target = self.before[index] + (begin - self.starts[index]) + amount
        found = bisect_left(self.through, target, lo=index)
        if found == len(self.through):
            return None
        return self.starts[found] + target - self.before[found]
