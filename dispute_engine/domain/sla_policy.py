"""Service-level policy: what is promised, by when, and which events keep the promise.

A policy is versioned data: a target per metric, refined by priority, reason and
jurisdiction. A clock starts under the policy version in force and keeps it (the clocks
themselves are in :mod:`dispute_engine.domain.sla_clock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from dispute_engine.domain import events
from dispute_engine.domain.calendars import Calendar
from dispute_engine.domain.lifecycle import Status

THRESHOLDS = (50, 75, 90, 100)  # warnings, then the breach
BUSINESS_HOURS = (9, 17)


class Metric(StrEnum):
    """What a clock measures."""

    FIRST_RESPONSE = "first_response"  # the first investigator action
    FEEDBACK = "feedback"  # the first notice to the claimant
    RESOLUTION = "resolution"  # the decision executed (or the rejection decided)


Unit = Literal["minutes", "hours", "calendar_days", "business_hours", "business_days"]


SPANS: dict[str, timedelta] = {
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "calendar_days": timedelta(days=1),
    "business_hours": timedelta(hours=1),
}
"""The time one of a unit counts on its calendar (business days count whole days apart)."""


@lru_cache(maxsize=1024)
def calendar_for(unit: Unit, jurisdiction: str) -> Calendar:
    """The calendar a unit counts on in a jurisdiction: one object each, so the calendar's
    own caches find it by identity (clock arithmetic asks them thousands of times)."""
    if unit == "business_days":
        return Calendar.for_jurisdiction(jurisdiction)
    if unit == "business_hours":
        return Calendar.for_jurisdiction(jurisdiction, hours=BUSINESS_HOURS)
    return Calendar()


@dataclass(frozen=True)
class Target:
    """An amount of time in a unit; ``extended`` is the longer target a rule allows."""

    amount: int
    unit: Unit
    extended: Target | None = None
    note: str = ""

    def calendar(self, jurisdiction: str) -> Calendar:
        """The calendar the target counts on."""
        return calendar_for(self.unit, jurisdiction)

    def due(self, start: datetime, jurisdiction: str) -> datetime:
        """When the target falls due for a clock started at ``start``."""
        return self.due_on(self.calendar(jurisdiction), start)

    def due_on(self, calendar: Calendar, start: datetime) -> datetime:
        """When the target falls due on its calendar (from :meth:`calendar`), from ``start``.

        As soon as its working time has passed, as for a clock started then: business days
        counted from outside working time fall due as the last day counted closes, not at the
        next opening (after a weekend or holiday).
        """
        return calendar.add(start, self.working_time_on(calendar, start))

    def working_time_on(self, calendar: Calendar, start: datetime) -> timedelta:
        """The working time the target gives from ``start`` on its calendar; for business
        days, up to the same local time that many working days later."""
        if self.unit == "business_days":
            return calendar.working_between(start, calendar.add_working_days(start, self.amount))
        return SPANS[self.unit] * self.amount


@dataclass(frozen=True)
class Rule:
    """A target for a metric, for disputes matching every field that is given."""

    metric: Metric
    target: Target
    priority: str | None = None
    reason: str | None = None
    country: str | None = None

    def matches(self, priority: str, reason: str, country: str) -> int:
        """How specifically the rule matches (-1: it does not)."""
        given = [(self.priority, priority), (self.reason, reason), (self.country, country)]
        if any(want is not None and want != have for want, have in given):
            return -1
        return sum(want is not None for want, _ in given)


@dataclass(frozen=True, eq=False)  # one object per version: identity is equality, and cheap
class SlaPolicy:
    """A versioned set of rules; the most specific matching rule sets a clock's target."""

    version: str
    rules: tuple[Rule, ...]

    @lru_cache(maxsize=4096)  # noqa: B019 - policies are module constants
    def target(self, metric: Metric, *, priority: str, reason: str, jurisdiction: str) -> Target:
        """The target of a metric for a dispute. Raises LookupError without a rule."""
        country = jurisdiction.split("-", maxsplit=1)[0].upper()
        ranked = [
            (r.matches(priority, reason, country), -i, r)
            for i, r in enumerate(self.rules)
            if r.metric is metric
        ]
        best = max((x for x in ranked if x[0] >= 0), default=None, key=lambda x: (x[0], x[1]))
        if best is None:
            raise LookupError(f"policy {self.version} has no rule for {metric}")
        return best[2].target


EU = (
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
)
REG_E = Target(
    10,
    "business_days",
    extended=Target(45, "calendar_days"),
    note="US Reg E: 10 business days, or 45 calendar days with provisional credit",
)
PSD2 = Target(
    15,
    "business_days",
    extended=Target(35, "business_days"),
    note="EU PSD2: 15 business days, 35 in exceptional cases",
)

POLICIES: dict[str, SlaPolicy] = {
    "2026-11": SlaPolicy(
        version="2026-11",
        rules=(
            Rule(Metric.FIRST_RESPONSE, Target(1, "hours")),
            Rule(Metric.FIRST_RESPONSE, Target(15, "minutes"), priority="urgent"),
            Rule(Metric.FIRST_RESPONSE, Target(30, "minutes"), priority="high"),
            Rule(Metric.FIRST_RESPONSE, Target(4, "hours"), priority="low"),
            Rule(Metric.FEEDBACK, Target(24, "hours")),
            Rule(Metric.FEEDBACK, Target(4, "hours"), priority="urgent"),
            Rule(Metric.RESOLUTION, Target(15, "business_days")),
            Rule(Metric.RESOLUTION, Target(5, "business_days"), reason="unauthorized"),
            Rule(Metric.RESOLUTION, REG_E, country="US"),
            *(Rule(Metric.RESOLUTION, PSD2, country=c) for c in EU),
        ),
    )
}
CURRENT_POLICY = POLICIES["2026-11"]


FIRST_ACTIONS = (
    events.Assigned,
    events.IdentityVerified,
    events.EvidenceRequested,
    events.EvidenceAdded,
    events.NoteAdded,
    events.TransactionLookedUp,
    events.DecisionProposed,
)
"""Events that meet the first-response metric: the first thing an investigator does."""
FEEDBACK_EVENTS = (events.ClaimantNotified,)
"""Events that meet the feedback metric."""
RESOLVING_STATUSES = frozenset({Status.RESOLVED})
"""Statuses that meet the resolution metric when entered (closing also meets it)."""
PAUSING_STATUSES = frozenset({Status.AWAITING_CLAIMANT})
"""Statuses that pause every clock while the dispute is in them."""
ENDING_EVENTS = (events.Closed, events.Withdrawn)
"""Events that stop whatever clock is still open: the dispute is over."""
RESTARTING_EVENTS = (events.Reopened,)
"""Events that start a new cycle of feedback and resolution clocks."""
RESTARTED_METRICS = (Metric.FEEDBACK, Metric.RESOLUTION)
"""The metrics a reopened dispute owes again (it was responded to already)."""
