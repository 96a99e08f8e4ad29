"""The engine's service-level part: the scheduled checker and the report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.dispute import SlaCopy, due_sla_alerts
from dispute_engine.domain.errors import ConcurrencyConflict
from dispute_engine.domain.sla_clock import SlaAlert
from dispute_engine.engine_core import EngineCore
from dispute_engine.gc_pause import paused_gc
from dispute_engine.reports import ReportRow
from dispute_engine.views import SlaAlertView

SLA_CHECKER = Actor(id="sla-checker", roles={Role.SYSTEM})
ALERT_BATCH = 500  # disputes whose alerts are saved in one transaction


class ServiceLevels:
    """Records SLA warnings and breaches once each, and reports how clocks fared."""

    def __init__(self, core: EngineCore) -> None:
        self._core = core

    @paused_gc()
    def record_sla_breaches(self, now: datetime | None = None) -> list[SlaAlertView]:
        """Record every SLA warning (50/75/90 %) and breach due by ``now``; returns them.

        What the scheduled checker calls. The SLA view is brought up to date first, then
        read by its due index, so a check costs in proportion to the clocks due. Each alert
        is recorded once however many checkers run at once: the aggregate refuses a second
        one, and a concurrent save is retried on the fresh state.
        """
        moment = (now or self._core.now()).astimezone(UTC)
        read_models = self._core.projections
        read_models.catch_up(["sla"])
        due = read_models.sla_due(moment)
        recorded: list[tuple[UUID, SlaAlert]] = []
        for start in range(0, len(due), ALERT_BATCH):
            recorded += self._record_alerts(due[start : start + ALERT_BATCH], moment)
        return [
            SlaAlertView(
                dispute_id=dispute_id,
                clock=a.clock,
                metric=a.metric,
                threshold=a.threshold,
                due_at=a.due_at,
                detected_at=moment,
            )
            for dispute_id, a in recorded
        ]

    def _record_alerts(
        self, copies: Sequence[SlaCopy], now: datetime
    ) -> list[tuple[UUID, SlaAlert]]:
        """Record the due alerts of several disputes in one transaction; one by one on a clash.

        The disputes are the SLA view's copies, so nothing is replayed. A copy is stale when
        another checker (or anyone) saved the dispute after the view read it: the store then
        refuses the whole transaction, and each dispute is loaded and decided afresh.
        """
        due = [
            (c.dispute_id, alert, event)
            for c in copies
            for alert, event in due_sla_alerts(c, by=SLA_CHECKER, now=now)
        ]
        try:
            self._core.save_events([event for _, _, event in due])
            return [(dispute_id, alert) for dispute_id, alert, _ in due]
        except ConcurrencyConflict:
            alone: list[tuple[UUID, SlaAlert]] = []
            for dispute_id in (c.dispute_id for c in copies):
                alone += [
                    (dispute_id, a)
                    for a in self._core.command(
                        dispute_id,
                        lambda d: d.record_due_sla_alerts(by=SLA_CHECKER, now=now),
                        retry=True,
                    )
                ]
            return alone

    def sla_report(self, *, since: datetime, until: datetime) -> list[ReportRow]:
        """Met, breached, open and stopped clocks per metric and priority started in a period."""
        read_models = self._core.projections
        read_models.catch_up(["sla"])
        return read_models.sla_report(since, until)
