"""Forgetting a claimant: their data key destroyed, the fact recorded, no notice sent again."""

from __future__ import annotations

from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine
from dispute_engine.delivery import Outbox, WebhookChannel
from dispute_engine.errors import NotAuthorized, PersonalDataErased
from tests.delivery_servers import SECRET, gateway
from tests.factories import file_dispute, stored_rows


def forgotten_on(engine: DisputeEngine, dispute: UUID) -> list[str]:
    return [e.actor for e in engine.history(dispute) if e.name == "ClaimantForgotten"]


def test_forgetting_needs_an_approver_and_a_refusal_records_nothing(
    keyed: DisputeEngine, alice: Actor
):
    file_dispute(keyed, alice)
    before = stored_rows(keyed)
    with pytest.raises(NotAuthorized):
        keyed.forget_claimant("user-1842", by=alice)
    assert stored_rows(keyed) == before


def test_forgetting_is_recorded_on_each_of_the_claimants_disputes_under_any_spelling(
    keyed: DisputeEngine, alice: Actor, bob: Actor
):
    first = file_dispute(keyed, alice)
    second = file_dispute(keyed, alice)
    other = file_dispute(keyed, alice, claimant_id="user-7")
    assert keyed.forget_claimant(" USER-1842 ", by=bob) == sorted([first, second])
    assert forgotten_on(keyed, first) == ["bob"]
    assert forgotten_on(keyed, second) == ["bob"]
    assert forgotten_on(keyed, other) == []
    assert keyed.forget_claimant("user-1842", by=bob) == []  # once is enough


def test_no_notice_reaches_a_forgotten_claimant(keyed: DisputeEngine, alice: Actor, bob: Actor):
    dispute = file_dispute(keyed, alice)
    keyed.assign(dispute, investigator="alice", by=alice)
    keyed.notify_claimant(dispute, by=alice)
    keyed.projections.catch_up(["outbox"])  # recorded, not yet sent
    keyed.forget_claimant("user-1842", by=bob)
    with pytest.raises(PersonalDataErased):
        keyed.notify_claimant(dispute, by=alice)
    keyed.projections.catch_up(["outbox"])
    with gateway() as server:
        report = Outbox(
            keyed._core.db, {"chat": WebhookChannel(server.url, secret=SECRET)}
        ).send_due(keyed.now())
    assert report.sent == 0
    assert server.received.requests == []
    [entry] = Outbox(keyed._core.db).entries(["dead"])
    assert entry.last_error == "the claimant was forgotten"
