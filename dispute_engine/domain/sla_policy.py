"""Service-level policy and clocks: what is promised, by when, and where each clock stands.

A policy is versioned data: a target per metric, refined by priority, reason and
jurisdiction. A clock starts under the policy version in force and keeps it. Clocks pause
while the dispute awaits the claimant and stop when their metric is met. The same
:class:`SlaTracker` runs inside the Dispute aggregate and in the SLA projection, so the two
always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from dispute_engine.domain.calendars import Calendar

THRESHOLDS = (50, 75, 90, 100)  # warnings, then the breach
BUSINESS_HOURS = (9, 17)


class Metric(StrEnum):
    """What a clock measures."""

    FIRST_RESPONSE = "first_response"  # the first investigator action
    FEEDBACK = "feedback"  # the first notice to the claimant
    RESOLUTION = "resolution"  # the decision executed (or the rejection decided)


Unit = Literal["minutes", "hours", "calendar_days", "business_hours", "business_days"]
ClockState = Literal["running", "paused", "met", "breached", "stopped"]


@dataclass(frozen=True)
class Target:
    """An amount of time in a unit; ``extended`` is the longer target a rule allows."""

    amount: int
    unit: Unit
    extended: Target | None = None
    note: str = ""

    def calendar(self, jurisdiction: str) -> Calendar:
        """The calendar the target counts on."""
        if self.unit == "business_days":
            return Calendar.for_jurisdiction(jurisdiction)
        if self.unit == "business_hours":
            return Calendar.for_jurisdiction(jurisdiction, hours=BUSINESS_HOURS)
        return Calendar()

    def due(self, start: datetime, jurisdiction: str) -> datetime:
        """When the target falls due for a clock started at ``start``."""
        calendar = self.calendar(jurisdiction)
        if self.unit == "business_days":
            return calendar.add_working_days(start, self.amount)
        span = {
            "minutes": timedelta(minutes=self.amount),
            "hours": timedelta(hours=self.amount),
            "calendar_days": timedelta(days=self.amount),
            "business_hours": timedelta(hours=self.amount),
        }[self.unit]
        return calendar.add(start, span)


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


@dataclass(frozen=True)
class SlaAlert:
    """A warning (threshold < 100) or the breach of a clock, due at ``at``."""

    clock: str
    metric: Metric
    threshold: int
    due_at: datetime
    at: datetime


@dataclass(frozen=True)
class SlaClock:
    """One clock of one dispute: ``metric:cycle``; a reopened dispute starts a new cycle."""

    metric: Metric
    cycle: int
    state: ClockState
    started_at: datetime
    target: timedelta  # working time from start to due, as first set
    consumed: timedelta  # working time used before the current run
    resumed_at: datetime | None  # when the current run began; None unless running
    policy_version: str
    unit: Unit
    jurisdiction: str
    alerts: tuple[int, ...] = ()
    ended_at: datetime | None = None
    paused_at: datetime | None = None

    @property
    def id(self) -> str:
        """The clock's name within its dispute."""
        return f"{self.metric}:{self.cycle}"

    @property
    def open(self) -> bool:
        """Whether the clock still counts (running or paused, breached or not)."""
        return self.ended_at is None

    @property
    def calendar(self) -> Calendar:
        """The calendar the clock counts on."""
        return Target(0, self.unit).calendar(self.jurisdiction)

    def at_share(self, share: int) -> datetime | None:
        """When ``share`` percent of the target will be used, if the clock keeps running."""
        if self.resumed_at is None:
            return None
        left = self.target * share / 100 - self.consumed
        return self.calendar.add(self.resumed_at, max(left, timedelta(0)))

    @property
    def due_at(self) -> datetime | None:
        """When the target falls due (None while paused or ended: it moves on resume)."""
        return self.at_share(100)

    @property
    def due_when_paused(self) -> datetime | None:
        """For a paused clock, the due time as it stood when it paused."""
        if self.paused_at is None:
            return None
        return self.calendar.add(self.paused_at, self.target - self.consumed)

    def used(self, now: datetime) -> timedelta:
        """Working time used up to ``now``."""
        if self.resumed_at is None:
            return self.consumed
        return self.consumed + self.calendar.working_between(self.resumed_at, now)

    def next_alert(self) -> tuple[int, datetime] | None:
        """The next threshold not yet recorded, and when it falls due.

        A paused clock owes the thresholds it reached before the pause (due at once, given
        as its start), and nothing more until it resumes.
        """
        pending = [t for t in THRESHOLDS if t not in self.alerts]
        if not self.open or not pending:
            return None
        if self.paused_at is not None:
            reached = self.consumed >= self.target * pending[0] / 100
            return (pending[0], self.paused_at) if reached else None
        when = self.at_share(pending[0])
        assert when is not None
        return pending[0], when


FIRST_ACTIONS = frozenset(
    {
        "Assigned",
        "IdentityVerified",
        "EvidenceRequested",
        "EvidenceAdded",
        "NoteAdded",
        "TransactionLookedUp",
        "DecisionProposed",
    }
)


@dataclass
class SlaTracker:
    """The clocks of one dispute, moved by what happens to it."""

    policy_version: str = CURRENT_POLICY.version
    priority: str = "normal"
    reason: str = "other"
    jurisdiction: str = "US"
    cycle: int = 0
    clocks: dict[str, SlaClock] = field(default_factory=dict)

    @property
    def policy(self) -> SlaPolicy:
        """The policy the dispute's clocks run under."""
        return POLICIES[self.policy_version]

    def start_cycle(self, at: datetime, metrics: tuple[Metric, ...] = tuple(Metric)) -> None:
        """Start a clock per metric: all three on filing; feedback and resolution on reopen."""
        self.cycle += 1
        for metric in metrics:
            target = self.policy.target(
                metric, priority=self.priority, reason=self.reason, jurisdiction=self.jurisdiction
            )
            due = target.due(at, self.jurisdiction)
            calendar = target.calendar(self.jurisdiction)
            clock = SlaClock(
                metric=metric,
                cycle=self.cycle,
                state="running",
                started_at=at,
                target=calendar.working_between(at, due),
                consumed=timedelta(0),
                resumed_at=at,
                policy_version=self.policy_version,
                unit=target.unit,
                jurisdiction=self.jurisdiction,
            )
            self.clocks[clock.id] = clock

    def _update(self, at: datetime, metrics: set[Metric] | None, change: str) -> None:
        for key, clock in self.clocks.items():
            if not clock.open or (metrics is not None and clock.metric not in metrics):
                continue
            used = clock.used(at)
            # An overdue clock does not pause: its breach is owed whatever the claimant does.
            if change == "pause" and clock.resumed_at is not None and used < clock.target:
                state: ClockState = "breached" if clock.state == "breached" else "paused"
                self.clocks[key] = replace(
                    clock, consumed=used, resumed_at=None, paused_at=at, state=state
                )
            elif change == "resume" and clock.paused_at is not None:
                state = "breached" if clock.state == "breached" else "running"
                self.clocks[key] = replace(clock, resumed_at=at, paused_at=None, state=state)
            elif change in ("meet", "stop"):
                final: ClockState = (
                    clock.state
                    if clock.state == "breached"
                    else ("met" if change == "meet" else "stopped")
                )
                self.clocks[key] = replace(
                    clock, consumed=used, resumed_at=None, paused_at=None, state=final, ended_at=at
                )

    def meet(self, metric: Metric, at: datetime) -> None:
        """The metric is met: its open clocks stop (a breached clock stays breached)."""
        self._update(at, {metric}, "meet")

    def observe(self, event: str, previous: str | None, status: str, at: datetime) -> None:
        """Move the clocks for one event of the dispute (its name and the status change)."""
        if event in FIRST_ACTIONS:
            self.meet(Metric.FIRST_RESPONSE, at)
        if event == "ClaimantNotified":
            self.meet(Metric.FEEDBACK, at)
        if status != previous and status == "awaiting_claimant":
            self._update(at, None, "pause")
        elif status != previous and previous == "awaiting_claimant":
            self._update(at, None, "resume")
        if status == "resolved" or event == "Closed":
            self.meet(Metric.RESOLUTION, at)
        if event in ("Closed", "Withdrawn"):
            self._update(at, None, "stop")  # whatever is still open ends with the dispute
        if event == "Reopened":
            self.start_cycle(at, (Metric.FEEDBACK, Metric.RESOLUTION))

    def alerted(self, clock_id: str, threshold: int) -> None:
        """A warning or breach of the clock was recorded."""
        clock = self.clocks[clock_id]
        state = "breached" if threshold >= 100 else clock.state
        self.clocks[clock_id] = replace(clock, alerts=(*clock.alerts, threshold), state=state)

    def alerts_due(self, now: datetime) -> list[SlaAlert]:
        """Warnings and breaches whose time has come and that are not yet recorded."""
        alerts = []
        for clock in self.clocks.values():
            pending = [t for t in THRESHOLDS if t not in clock.alerts]
            if not clock.open or not pending:
                continue
            used = clock.used(now)
            crossed = [t for t in pending if used >= clock.target * t / 100]
            if not crossed:
                continue  # the common case: no calendar arithmetic beyond measuring
            due = clock.due_at or clock.due_when_paused
            assert due is not None  # an open clock runs or is paused
            for threshold in crossed:
                at = clock.at_share(threshold) or now
                alerts.append(SlaAlert(clock.id, clock.metric, threshold, due, at))
        return sorted(alerts, key=lambda a: (a.at, a.clock, a.threshold))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state, for views that keep the tracker between events."""
        return {
            "policy_version": self.policy_version,
            "priority": self.priority,
            "reason": self.reason,
            "jurisdiction": self.jurisdiction,
            "cycle": self.cycle,
            "clocks": [_clock_to_dict(c) for c in self.clocks.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaTracker:
        """The tracker saved by :meth:`to_dict`."""
        clocks = [_clock_from_dict(c) for c in data["clocks"]]
        return cls(
            policy_version=data["policy_version"],
            priority=data["priority"],
            reason=data["reason"],
            jurisdiction=data["jurisdiction"],
            cycle=data["cycle"],
            clocks={c.id: c for c in clocks},
        )


def _clock_to_dict(clock: SlaClock) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "metric": clock.metric.value,
        "cycle": clock.cycle,
        "state": clock.state,
        "started_at": moment(clock.started_at),
        "target": clock.target.total_seconds(),
        "consumed": clock.consumed.total_seconds(),
        "resumed_at": moment(clock.resumed_at),
        "policy_version": clock.policy_version,
        "unit": clock.unit,
        "jurisdiction": clock.jurisdiction,
        "alerts": list(clock.alerts),
        "ended_at": moment(clock.ended_at),
        "paused_at": moment(clock.paused_at),
    }


def _clock_from_dict(data: dict[str, Any]) -> SlaClock:
    def moment(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    started = moment(data["started_at"])
    assert started is not None
    return SlaClock(
        metric=Metric(data["metric"]),
        cycle=data["cycle"],
        state=data["state"],
        started_at=started,
        target=timedelta(seconds=data["target"]),
        consumed=timedelta(seconds=data["consumed"]),
        resumed_at=moment(data["resumed_at"]),
        policy_version=data["policy_version"],
        unit=data["unit"],
        jurisdiction=data["jurisdiction"],
        alerts=tuple(data["alerts"]),
        ended_at=moment(data["ended_at"]),
        paused_at=moment(data.get("paused_at")),
    )
