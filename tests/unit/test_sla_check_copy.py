"""Alerts decided on the SLA view's copy of a dispute are those the dispute itself records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.domain.dispute import Dispute, SlaCopy, due_sla_alerts
from dispute_engine.domain.sla_clock import SlaAlert, SlaClock
from dispute_engine.errors import NotAuthorized
from tests.factories import filing

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
CHECKER = Actor(id="sla-checker", roles={Role.SYSTEM})


def new_dispute(**overrides: Any) -> Dispute:
    command = FileDispute.model_validate(filing(**overrides))
    dispute = Dispute.file(
        command.claim, idempotency_key=command.idempotency_key, by=ALICE, now=NOW
    )
    dispute.collect_events()  # as if saved
    return dispute


def copy_of(dispute: Dispute) -> SlaCopy:
    # What the view stores and reads back: every clock (those not due record nothing).
    clocks = tuple(SlaClock.from_dict(c.to_dict()) for c in dispute.sla.clocks.values())
    return SlaCopy(dispute.id, dispute.status, dispute.version, clocks)


def data(events: list[Any]) -> list[dict[str, Any]]:
    return [{**vars(e), "type": type(e).__name__} for e in events]


def alerts_on_copy(dispute: Dispute, now: datetime) -> tuple[list[SlaAlert], list[Any]]:
    due = due_sla_alerts(copy_of(dispute), by=CHECKER, now=now)
    return [alert for alert, _ in due], [event for _, event in due]


@pytest.mark.parametrize("later", [timedelta(minutes=31), timedelta(hours=2), timedelta(days=40)])
def test_a_copy_records_the_same_alerts_as_the_replayed_dispute(later: timedelta):
    dispute = new_dispute()
    dispute.request_evidence("a screenshot", by=ALICE, now=NOW + timedelta(minutes=10))
    dispute.collect_events()
    now = NOW + later
    alerts, events = alerts_on_copy(dispute, now)
    assert alerts == dispute.record_due_sla_alerts(by=CHECKER, now=now)
    assert data(events) == data(dispute.collect_events())


def test_a_copy_numbers_its_alerts_after_the_version_it_was_taken_at():
    dispute = new_dispute()
    now = NOW + timedelta(hours=2)
    _, events = alerts_on_copy(dispute, now)
    versions = [e.originator_version for e in events]
    assert versions == list(range(dispute.version + 1, dispute.version + 1 + len(versions)))
    assert len(versions) == 4


def test_a_copy_refuses_an_alert_already_recorded():
    dispute = new_dispute()
    now = NOW + timedelta(minutes=31)
    assert [a.threshold for a in dispute.record_due_sla_alerts(by=CHECKER, now=now)] == [50]
    dispute.collect_events()
    assert alerts_on_copy(dispute, now) == ([], [])


def test_a_copy_takes_alerts_only_from_the_system():
    with pytest.raises(NotAuthorized):
        due_sla_alerts(copy_of(new_dispute()), by=ALICE, now=NOW + timedelta(hours=2))


def test_a_copy_of_an_ended_dispute_owes_no_alerts():
    dispute = new_dispute()
    dispute.withdraw("changed their mind", by=ALICE, now=NOW + timedelta(minutes=1))
    dispute.collect_events()
    assert alerts_on_copy(dispute, NOW + timedelta(days=40)) == ([], [])
