"""Checklists, contact attempts, escalation and second-level review through the public API,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.commands import AddEvidence, ProposeDecision
from dispute_engine.errors import InvalidInput, InvalidTransition, NotAuthorized
from dispute_engine.settings import Settings
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute

DAVE = Actor(id="dave", roles={Role.APPROVER})
ERIN = Actor(id="erin", roles={Role.INVESTIGATOR})


def statement(source: str = "claimant") -> AddEvidence:
    return AddEvidence(
        kind="statement",
        media_type="text/plain",
        filename="statement.txt",
        content=b"I never sent this",
        source=source,  # type: ignore[arg-type]
    )


def items(engine: DisputeEngine, dispute_id: object) -> dict[str, bool]:
    return {i.name: i.done for i in engine.get(dispute_id).checklist}  # type: ignore[arg-type]


# -- reason checklists -----------------------------------------------------------------


def test_the_checklist_shows_items_done_by_recorded_facts_without_a_click(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice, reason="unauthorized")
    view = engine.get(dispute_id)
    assert view.checklist_version == "2026-12"
    assert items(engine, dispute_id) == {
        "identity_verified": False,
        "claimant_statement": False,
        "chain_lookup": False,
    }
    engine.verify_identity(dispute_id, method="security_question", by=alice)
    assert not items(engine, dispute_id)["identity_verified"]  # too weak for unauthorized
    engine.verify_identity(dispute_id, method="document", by=alice)
    engine.add_evidence(dispute_id, statement(source="investigator"), by=alice)
    assert not items(engine, dispute_id)["claimant_statement"]  # the claimant's own words
    engine.add_evidence(dispute_id, statement(), by=alice)
    assert items(engine, dispute_id) == {
        "identity_verified": True,
        "claimant_statement": True,
        "chain_lookup": False,
    }


def test_a_rejection_is_refused_while_items_are_open_and_nothing_is_written(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    before = engine.get(dispute_id).version
    with pytest.raises(InvalidInput) as raised:
        engine.propose_decision(
            dispute_id, ProposeDecision(outcome="reject", rationale="looks fine"), by=alice
        )
    assert raised.value.fields == ["overrides"]
    assert "identity_verified, chain_lookup, chain_final, payment_proof" in str(raised.value)
    assert engine.get(dispute_id).version == before


def test_each_open_item_is_overridden_by_its_name_or_all_by_checklist(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice, reason="unauthorized")
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.verify_identity(dispute_id, method="document", by=alice)
    named = ProposeDecision(outcome="reject", rationale="r", overrides=["claimant_statement"])
    with pytest.raises(InvalidInput, match="chain_lookup"):
        engine.propose_decision(dispute_id, named, by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(
            outcome="reject",
            rationale="the claimant stopped answering",
            overrides=[" Claimant_Statement ", "CHAIN_LOOKUP"],
        ),
        by=alice,
    )
    decision = engine.get(dispute_id).decision
    assert decision is not None
    assert decision.overrides == ["chain_lookup", "claimant_statement"]


def test_an_unknown_override_is_invalid_input(engine: DisputeEngine, alice: Actor):
    with pytest.raises(InvalidInput) as raised:
        ProposeDecision(outcome="reject", rationale="r", overrides=["checklists"])
    assert raised.value.fields[0].startswith("overrides")


def test_a_contact_attempt_covers_the_recipient_contacted_item(engine: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(engine, alice, reason="wrong_recipient")
    assert not items(engine, dispute_id)["recipient_contacted"]
    engine.record_contact_attempt(
        dispute_id, party="recipient", channel="email", note="asked to return it", by=alice
    )
    assert items(engine, dispute_id)["recipient_contacted"]
    [contact] = engine.get(dispute_id).contacts
    assert (contact.party, contact.channel, contact.by) == ("recipient", "email", "alice")
    assert engine.history(dispute_id)[-1].name == "ContactAttempted"


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("party", {"party": "the moon", "channel": "email", "note": "n"}),
        ("channel", {"party": "recipient", "channel": "pigeon", "note": "n"}),
        ("note", {"party": "recipient", "channel": "email", "note": ""}),
    ],
)
def test_a_contact_attempt_with_bad_input_writes_nothing(
    engine: DisputeEngine, alice: Actor, field: str, values: dict[str, str]
):
    dispute_id = file_dispute(engine, alice)
    with pytest.raises(InvalidInput) as raised:
        engine.record_contact_attempt(dispute_id, by=alice, **values)
    assert raised.value.fields[0].startswith(field)
    assert engine.get(dispute_id).version == 1


# -- escalation ---------------------------------------------------------------------------


def test_escalation_raises_the_priority_and_hands_the_dispute_to_the_escalation_queue(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice, priority="high")
    assert (engine.get(dispute_id).priority, engine.get(dispute_id).queue) == ("high", None)
    engine.escalate(dispute_id, reason="claimant threatens a chargeback", by=alice)
    view = engine.get(dispute_id)
    assert (view.priority, view.queue) == ("urgent", "escalation")
    engine.escalate(dispute_id, reason="regulator asked", by=alice)
    assert engine.get(dispute_id).priority == "urgent"
    assert [e.reason for e in engine.get(dispute_id).escalations] == [
        "claimant threatens a chargeback",
        "regulator asked",
    ]


def test_an_auditor_cannot_escalate(engine: DisputeEngine, alice: Actor, auditor: Actor):
    dispute_id = file_dispute(engine, alice)
    with pytest.raises(NotAuthorized):
        engine.escalate(dispute_id, reason="r", by=auditor)
    with pytest.raises(InvalidInput):
        engine.escalate(dispute_id, reason="", by=alice)
    assert engine.get(dispute_id).version == 1


# -- second-level review ----------------------------------------------------------------------


def decided_and_reopened(engine: DisputeEngine, alice: Actor, bob: Actor) -> object:
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(
            outcome="partial_refund", amount=Decimal(10), rationale="fee", overrides=UNCHECKED
        ),
        by=alice,
    )
    engine.approve_decision(dispute_id, by=bob)
    engine.execute_decision(dispute_id, by=bob)
    engine.reopen(dispute_id, reason="claimant appeal", by=alice)
    return dispute_id


def test_an_appeal_goes_to_an_investigator_who_did_not_decide_it(
    engine: DisputeEngine, alice: Actor, bob: Actor, carol: Actor
):
    dispute_id = decided_and_reopened(engine, alice, bob)
    with pytest.raises(NotAuthorized, match="did not decide"):
        engine.assign(dispute_id, investigator="ALICE", by=carol)
    with pytest.raises(NotAuthorized, match="did not decide"):
        engine.propose_decision(
            dispute_id,
            ProposeDecision(outcome="reject", rationale="r", overrides=["checklist"]),
            by=alice,
        )
    engine.assign(dispute_id, investigator="carol", by=carol)
    assert engine.get(dispute_id).assignee == "carol"


def test_an_appeals_decision_needs_an_approver_who_did_not_approve_the_first(
    engine: DisputeEngine, alice: Actor, bob: Actor, carol: Actor
):
    dispute_id = decided_and_reopened(engine, alice, bob)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(
            outcome="partial_refund", amount=Decimal(20), rationale="more", overrides=UNCHECKED
        ),
        by=carol,
    )
    with pytest.raises(NotAuthorized, match="did not approve the first"):
        engine.approve_decision(dispute_id, by=Actor(id=" Bob ", roles={Role.APPROVER}))
    engine.approve_decision(dispute_id, by=DAVE)
    assert engine.get(dispute_id).status == "approved"


def test_an_unauthorized_transfer_needs_two_distinct_approvals_before_execution(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = file_dispute(engine, alice, reason="unauthorized")
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="stolen key", overrides=UNCHECKED),
        by=alice,
    )
    assert engine.get(dispute_id).decision.approvals_required == 2  # type: ignore[union-attr]
    engine.approve_decision(dispute_id, by=bob)
    assert engine.get(dispute_id).status == "pending_approval"
    with pytest.raises(InvalidTransition):
        engine.execute_decision(dispute_id, by=bob)
    with pytest.raises(NotAuthorized, match="another approver"):
        engine.approve_decision(dispute_id, by=Actor(id="BOB", roles={Role.APPROVER}))
    engine.approve_decision(dispute_id, by=DAVE)
    view = engine.get(dispute_id)
    assert view.status == "approved"
    assert view.decision is not None
    assert view.decision.approvals == ["bob", "dave"]
    engine.execute_decision(dispute_id, by=bob)
    assert engine.get(dispute_id).paid_amount == Decimal("125.50")


@pytest.fixture
def strict_engine(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    """An engine asking two approvals above 100 USDT."""
    settings = Settings(second_approval_above={"USDT": Decimal(100)})
    with DisputeEngine.open(db_url, clock=clock, settings=settings) as engine:
        yield engine


@pytest.mark.parametrize(("amount", "required"), [("100", 1), ("100.01", 2)])
def test_amounts_above_the_configured_threshold_need_two_approvals(
    strict_engine: DisputeEngine, alice: Actor, amount: str, required: int
):
    dispute_id = file_dispute(strict_engine, alice)
    strict_engine.assign(dispute_id, investigator="alice", by=alice)
    strict_engine.propose_decision(
        dispute_id,
        ProposeDecision(
            outcome="partial_refund", amount=Decimal(amount), rationale="r", overrides=UNCHECKED
        ),
        by=alice,
    )
    decision = strict_engine.get(dispute_id).decision
    assert decision is not None
    assert decision.approvals_required == required


def test_disputes_on_different_transactions_are_not_linked(engine: DisputeEngine, alice: Actor):
    first = file_dispute(engine, alice)
    second = file_dispute(engine, ERIN)
    assert engine.get(first).linked == []
    assert engine.get(second).linked == []


def test_an_escalated_dispute_leads_the_work_queue_and_its_escalation_queue(
    engine: DisputeEngine, alice: Actor
):
    first = file_dispute(engine, alice)
    later = file_dispute(engine, alice)
    assert [v.id for v in engine.list_disputes()] == [first, later]
    engine.escalate(later, reason="the claimant is a minor", by=alice)
    assert [v.id for v in engine.list_disputes()] == [later, first]
    assert [v.id for v in engine.list_disputes(queue="escalation")] == [later]
