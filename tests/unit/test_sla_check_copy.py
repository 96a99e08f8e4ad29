"""A dispute rebuilt from the SLA view's copy decides alerts as the dispute itself does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.sla_policy import SlaTracker
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


def copy_of(dispute: Dispute, now: datetime) -> Dispute:
    sla = SlaTracker.from_dict(dispute.sla.to_dict())  # what the view stores and reads back
    return Dispute.from_clocks(
        dispute.id, version=dispute.version, status=dispute.status, sla=sla, now=now
    )


def event_data(dispute: Dispute) -> list[dict[str, Any]]:
    return [{**vars(e), "type": type(e).__name__} for e in dispute.collect_events()]


@pytest.mark.parametrize("later", [timedelta(minutes=31), timedelta(hours=2), timedelta(days=40)])
def test_a_copy_records_the_same_alerts_as_the_replayed_dispute(later: timedelta):
    dispute = new_dispute()
    dispute.request_evidence("a screenshot", by=ALICE, now=NOW + timedelta(minutes=10))
    dispute.collect_events()
    now = NOW + later
    copy = copy_of(dispute, now)
    assert copy.record_due_sla_alerts(by=CHECKER, now=now) == dispute.record_due_sla_alerts(
        by=CHECKER, now=now
    )
    assert event_data(copy) == event_data(dispute)


def test_a_copy_numbers_its_alerts_after_the_version_it_was_taken_at():
    dispute = new_dispute()
    now = NOW + timedelta(hours=2)
    copy = copy_of(dispute, now)
    copy.record_due_sla_alerts(by=CHECKER, now=now)
    versions = [e.originator_version for e in copy.collect_events()]
    assert versions == list(range(dispute.version + 1, dispute.version + 1 + len(versions)))


def test_a_copy_refuses_an_alert_already_recorded():
    dispute = new_dispute()
    now = NOW + timedelta(minutes=31)
    assert [a.threshold for a in dispute.record_due_sla_alerts(by=CHECKER, now=now)] == [50]
    dispute.collect_events()
    assert copy_of(dispute, now).record_due_sla_alerts(by=CHECKER, now=now) == []


def test_a_copy_takes_alerts_only_from_the_system():
    copy = copy_of(new_dispute(), NOW)
    with pytest.raises(NotAuthorized):
        copy.record_sla_alert("first_response:1", 50, NOW, by=ALICE, now=NOW)
    assert copy.collect_events() == []
