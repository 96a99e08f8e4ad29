"""Working-time calendars: round the clock, business hours, business days of a jurisdiction.

Times go in and out as aware datetimes; working time is counted in the jurisdiction's own
zone (weekends, public holidays, daylight-saving changes) and returned in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
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

    @property
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
        tz = ZoneInfo(self.zone)
        if self.hours is None:
            start = datetime.combine(day, time(0), tz)
            end = datetime.combine(day + timedelta(days=1), time(0), tz)
        else:
            start = datetime.combine(day, time(self.hours[0]), tz)
            end = datetime.combine(day, time(self.hours[1]), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.zone)).date()

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when end is not after start)."""
        if end <= start:
            return timedelta(0)
        if self.always:
            return end - start
        total = timedelta(0)
        day = self._local_date(start) - timedelta(days=1)
        last = self._local_date(end)
        while day <= last:
            window = self._window(day)
            if window is not None:
                overlap = min(end, window[1]) - max(start, window[0])
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when ``amount`` of working time has passed since ``start``."""
        if self.always:
            return (start + amount).astimezone(UTC)
        remaining = amount
        day = self._local_date(start) - timedelta(days=1)
        for _ in range(3660):  # ten years of days: targets are days or weeks
            window = self._window(day)
            if window is not None and window[1] > start:
                begin = max(window[0], start)
                available = window[1] - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working time within ten years")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time ``days`` working days later (from the next working moment)."""
        begin = self.add(start, timedelta(0))
        tz = ZoneInfo(self.zone)
        local = begin.astimezone(tz)
        day, counted = local.date(), 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tz).astimezone(UTC)
