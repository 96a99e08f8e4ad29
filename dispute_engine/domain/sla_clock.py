"""Service-level clocks: their state, their arithmetic and their serialisation.

A clock starts under the policy version in force and keeps it. Clocks pause while the dispute
awaits the claimant and stop when their metric is met. :func:`move_clocks` is the one place
an event moves them: the Dispute aggregate and the SLA view both call it, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from dispute_engine.domain import events
from dispute_engine.domain.calendars import Calendar
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.sla_policy import (
    CURRENT_POLICY,
    ENDING_EVENTS,
    FEEDBACK_EVENTS,
    FIRST_ACTIONS,
    PAUSING_STATUSES,
    POLICIES,
    RESOLVING_STATUSES,
    RESTARTED_METRICS,
    RESTARTING_EVENTS,
    THRESHOLDS,
    Metric,
    SlaPolicy,
    Target,
    Unit,
    calendar_for,
)

ClockState = Literal["running", "paused", "met", "breached", "stopped"]
ZERO = timedelta(0)


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
        return calendar_for(self.unit, self.jurisdiction)

    def at_share(self, share: int) -> datetime | None:
        """When ``share`` percent of the target will be used, if the clock keeps running."""
        if self.resumed_at is None:
            return None
        left = self.target * share / 100 - self.consumed
        return self.calendar.add(self.resumed_at, max(left, ZERO))

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

    def moved(
        self,
        state: ClockState,
        consumed: timedelta,
        resumed_at: datetime | None,
        paused_at: datetime | None,
        ended_at: datetime | None = None,
        alerts: tuple[int, ...] | None = None,
    ) -> SlaClock:
        """The clock with its run changed (a constructor call: ``dataclasses.replace`` costs
        more than the clock arithmetic of a move)."""
        return SlaClock(
            metric=self.metric,
            cycle=self.cycle,
            state=state,
            started_at=self.started_at,
            target=self.target,
            consumed=consumed,
            resumed_at=resumed_at,
            policy_version=self.policy_version,
            unit=self.unit,
            jurisdiction=self.jurisdiction,
            alerts=self.alerts if alerts is None else alerts,
            ended_at=ended_at,
            paused_at=paused_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state, for views that keep clocks."""

        def moment(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "metric": self.metric.value,
            "cycle": self.cycle,
            "state": self.state,
            "started_at": moment(self.started_at),
            "target": self.target.total_seconds(),
            "consumed": self.consumed.total_seconds(),
            "resumed_at": moment(self.resumed_at),
            "policy_version": self.policy_version,
            "unit": self.unit,
            "jurisdiction": self.jurisdiction,
            "alerts": list(self.alerts),
            "ended_at": moment(self.ended_at),
            "paused_at": moment(self.paused_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaClock:
        """The clock saved by :meth:`to_dict`."""

        def moment(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        started = moment(data["started_at"])
        assert started is not None
        return cls(
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


@dataclass(frozen=True)
class ClockMove:
    """What one event of a dispute means to its clocks (taken from the event itself)."""

    event: type[events.DisputeEvent]
    previous: Status | None  # the status before the event; None for the filing
    status: Status  # the status the event left the dispute in
    at: datetime
    clock: str | None = None  # for an alert: the clock alerted, and at which threshold
    threshold: int | None = None


@dataclass
class SlaTracker:
    """The clocks of one dispute, moved by what happens to it."""

    jurisdiction: str
    policy_version: str = CURRENT_POLICY.version
    priority: str = "normal"
    reason: str = "other"
    cycle: int = 0
    clocks: dict[str, SlaClock] = field(default_factory=dict)

    @classmethod
    def for_claim(cls, claim: Mapping[str, Any], policy_version: str) -> SlaTracker:
        """The (not yet started) clocks of a dispute filed with the claim, as stored data.

        Raises ValueError for a claim without a jurisdiction: filing fills in the default.
        """
        if not claim["jurisdiction"]:
            raise ValueError("a filed claim always has a jurisdiction")
        return cls(
            jurisdiction=claim["jurisdiction"],
            policy_version=policy_version,
            priority=claim["priority"],
            reason=claim["reason"],
        )

    @property
    def policy(self) -> SlaPolicy:
        """The policy the dispute's clocks run under."""
        return POLICIES[self.policy_version]

    def start_cycle(self, at: datetime, metrics: tuple[Metric, ...] = tuple(Metric)) -> None:
        """Start a clock per metric: all three on filing; feedback and resolution on reopen."""
        self.cycle += 1
        for metric, target, calendar in _targets(
            self.policy, metrics, self.priority, self.reason, self.jurisdiction
        ):
            clock = SlaClock(
                metric=metric,
                cycle=self.cycle,
                state="running",
                started_at=at,
                target=target.working_time_on(calendar, at),
                consumed=timedelta(0),
                resumed_at=at,
                policy_version=self.policy_version,
                unit=target.unit,
                jurisdiction=self.jurisdiction,
            )
            self.clocks[clock.id] = clock

    def _update(
        self,
        at: datetime,
        metrics: set[Metric] | None,
        change: Literal["pause", "resume", "meet", "stop"],
    ) -> None:
        for key, clock in self.clocks.items():
            if not clock.open or (metrics is not None and clock.metric not in metrics):
                continue
            used = clock.used(at)
            # An overdue clock does not pause: its breach is owed whatever the claimant does.
            if change == "pause" and clock.resumed_at is not None and used < clock.target:
                state: ClockState = "breached" if clock.state == "breached" else "paused"
                self.clocks[key] = clock.moved(state, used, resumed_at=None, paused_at=at)
            elif change == "resume" and clock.paused_at is not None:
                state = "breached" if clock.state == "breached" else "running"
                self.clocks[key] = clock.moved(state, clock.consumed, resumed_at=at, paused_at=None)
            elif change in ("meet", "stop"):
                final: ClockState = (
                    clock.state
                    if clock.state == "breached"
                    else ("met" if change == "meet" else "stopped")
                )
                self.clocks[key] = clock.moved(
                    final, used, resumed_at=None, paused_at=None, ended_at=at
                )

    def meet(self, metric: Metric, at: datetime) -> None:
        """The metric is met: its open clocks stop (a breached clock stays breached)."""
        self._update(at, {metric}, "meet")

    def pause(self, at: datetime) -> None:
        """The dispute waits for the claimant: clocks not yet overdue pause."""
        self._update(at, None, "pause")

    def resume(self, at: datetime) -> None:
        """The claimant answered: paused clocks run again."""
        self._update(at, None, "resume")

    def stop(self, at: datetime) -> None:
        """The dispute ended: every open clock stops."""
        self._update(at, None, "stop")

    def alerted(self, clock_id: str, threshold: int) -> None:
        """A warning or breach of the clock was recorded."""
        clock = self.clocks[clock_id]
        state = "breached" if threshold >= 100 else clock.state
        self.clocks[clock_id] = clock.moved(
            state,
            clock.consumed,
            clock.resumed_at,
            clock.paused_at,
            clock.ended_at,
            alerts=(*clock.alerts, threshold),
        )

    def alerts_due(self, now: datetime) -> list[SlaAlert]:
        """Warnings and breaches whose time has come and that are not yet recorded."""
        return alerts_due(self.clocks.values(), now)

    def to_dict(self, *, clocks: bool = True) -> dict[str, Any]:
        """JSON-safe state, for views that keep the tracker between events; without its
        clocks (``clocks=False``) for a view that keeps each clock apart."""
        data: dict[str, Any] = {
            "policy_version": self.policy_version,
            "priority": self.priority,
            "reason": self.reason,
            "jurisdiction": self.jurisdiction,
            "cycle": self.cycle,
        }
        if clocks:
            data["clocks"] = [c.to_dict() for c in self.clocks.values()]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaTracker:
        """The tracker saved by :meth:`to_dict`."""
        clocks = [SlaClock.from_dict(c) for c in data["clocks"]]
        return cls(
            jurisdiction=data["jurisdiction"],
            policy_version=data["policy_version"],
            priority=data["priority"],
            reason=data["reason"],
            cycle=data["cycle"],
            clocks={c.id: c for c in clocks},
        )


@lru_cache(maxsize=4096)
def _targets(
    policy: SlaPolicy, metrics: tuple[Metric, ...], priority: str, reason: str, jurisdiction: str
) -> tuple[tuple[Metric, Target, Calendar], ...]:
    """The target and calendar of each metric for a dispute: worked out once per kind of
    dispute rather than on every filing."""
    targets = [
        (m, policy.target(m, priority=priority, reason=reason, jurisdiction=jurisdiction))
        for m in metrics
    ]
    return tuple((m, target, target.calendar(jurisdiction)) for m, target in targets)


def alerts_due(clocks: Iterable[SlaClock], now: datetime) -> list[SlaAlert]:
    """The warnings and breaches of the clocks whose time has come and that are not yet
    recorded, in the order they fell due."""
    alerts = []
    for clock in clocks:
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


def move_clocks(tracker: SlaTracker, move: ClockMove) -> None:
    """Move a dispute's clocks for one of its events: the only place events move clocks."""
    if issubclass(move.event, events.Filed):
        tracker.start_cycle(move.at)
        return
    if move.clock is not None and move.threshold is not None:
        tracker.alerted(move.clock, move.threshold)
    if issubclass(move.event, FIRST_ACTIONS):
        tracker.meet(Metric.FIRST_RESPONSE, move.at)
    if issubclass(move.event, FEEDBACK_EVENTS):
        tracker.meet(Metric.FEEDBACK, move.at)
    if move.status != move.previous and move.status in PAUSING_STATUSES:
        tracker.pause(move.at)
    elif move.status != move.previous and move.previous in PAUSING_STATUSES:
        tracker.resume(move.at)
    if move.status in RESOLVING_STATUSES or issubclass(move.event, events.Closed):
        tracker.meet(Metric.RESOLUTION, move.at)
    if issubclass(move.event, ENDING_EVENTS):
        tracker.stop(move.at)  # whatever is still open ends with the dispute
    if issubclass(move.event, RESTARTING_EVENTS):
        tracker.start_cycle(move.at, RESTARTED_METRICS)
