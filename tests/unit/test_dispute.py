"""The Dispute aggregate on its own: no database, only the domain's rules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.domain import events
from dispute_engine.domain.checklist import CURRENT_CHECKLIST_VERSION
from dispute_engine.domain.claim import Claim, address_pseudonym
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.note import Note
from dispute_engine.errors import InvalidInput, InvalidTransition, NotAuthorized
from dispute_engine.notices.catalog import render
from dispute_engine.views import DisputeView
from tests.factories import filing

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
# No lookup here: the chain vouches for nothing, so these proposals name both overrides.
UNCHECKED = ("no_lookup", "amount", "checklist")


def new_dispute(**overrides: Any) -> Dispute:
    command = FileDispute.model_validate(filing(**overrides))
    return Dispute.file(command.claim, idempotency_key=command.idempotency_key, by=ALICE, now=NOW)


def replayed(dispute: Dispute) -> Dispute:
    copy: Any = None
    for domain_event in dispute.collect_events():
        copy = domain_event.mutate(copy)
    assert isinstance(copy, Dispute)
    return copy


def test_the_same_idempotency_key_always_gives_the_same_id():
    assert Dispute.create_id("chat-msg-1") == Dispute.create_id("chat-msg-1")
    assert Dispute.create_id("chat-msg-1") != Dispute.create_id("chat-msg-2")


def test_replaying_the_events_gives_the_same_state():
    dispute = new_dispute()
    dispute.assign("alice", by=ALICE, now=NOW)
    dispute.propose_decision(
        Outcome.PARTIAL_REFUND, Decimal(100), "fees", by=ALICE, now=NOW, overrides=UNCHECKED
    )
    dispute.approve_decision(by=BOB, now=NOW)
    dispute.record_execution("ref-1", by=BOB, now=NOW)
    live = DisputeView.of(dispute)
    assert DisputeView.of(replayed(dispute)) == live
    assert live.paid_amount == Decimal(100)


def test_every_event_records_its_actor_and_the_status_it_left():
    dispute = new_dispute()
    dispute.assign("carol", by=ALICE, now=NOW)
    dispute.request_evidence("a screenshot", by=ALICE, now=NOW)
    recorded = dispute.collect_events()
    assert [(e.actor, e.status) for e in recorded] == [  # type: ignore[attr-defined]
        ("alice", "filed"),
        ("alice", "investigating"),
        ("alice", "awaiting_claimant"),
    ]


def test_every_recorded_event_is_an_instance_of_its_explicit_class():
    dispute = new_dispute()
    dispute.assign("carol", by=ALICE, now=NOW)
    dispute.add_note("called the exchange", by=ALICE, now=NOW)
    filed, assigned, noted = dispute.collect_events()
    assert isinstance(filed, events.Filed)
    assert isinstance(assigned, events.Assigned)
    assert assigned.investigator == "carol"
    assert isinstance(noted, events.NoteAdded)
    assert not isinstance(noted, events.Assigned)


def test_events_are_stored_under_the_topics_release_0_1_wrote():
    for explicit in events.EVENT_CLASSES:
        recorded = getattr(Dispute, explicit.__name__)
        assert issubclass(recorded, explicit)
        assert get_topic(recorded) == f"dispute_engine.domain.dispute:Dispute.{explicit.__name__}"


def test_notes_and_notices_are_kept_as_frozen_values():
    dispute = new_dispute()
    dispute.add_note("called the exchange", by=ALICE, now=NOW)
    dispute.notify_claimant(by=ALICE, now=NOW, appeal_window=timedelta(days=30), render=render)
    assert dispute.notes == [Note(author="alice", text="called the exchange", added_at=NOW)]
    notice = dispute.notices[0]
    assert (notice.template, notice.sent_at) == ("acknowledgement", NOW)
    with pytest.raises(FrozenInstanceError):
        notice.text = "changed"  # type: ignore[misc]


def test_the_proposer_never_approves_even_holding_the_approver_role():
    dispute = new_dispute()
    dispute.assign("alice", by=ALICE, now=NOW)
    dispute.propose_decision(
        Outcome.REFUND, None, "reverted", by=ALICE, now=NOW, overrides=UNCHECKED
    )
    with pytest.raises(NotAuthorized):
        dispute.approve_decision(
            by=Actor(id="alice", roles={Role.APPROVER, Role.INVESTIGATOR}), now=NOW
        )


def test_a_refund_is_the_whole_remaining_amount():
    dispute = new_dispute()
    dispute.assign("alice", by=ALICE, now=NOW)
    dispute.propose_decision(
        Outcome.REFUND, None, "reverted", by=ALICE, now=NOW, overrides=UNCHECKED
    )
    assert dispute.decision is not None
    assert dispute.decision.units == 125_500_000


def test_the_payouts_not_yet_recorded_are_the_next_credit_and_the_approved_decision():
    dispute = new_dispute()
    credit = (Action.GRANT_PROVISIONAL_CREDIT, f"{dispute.id}:credit:1")
    assert dispute.unrecorded_payouts() == [credit]
    dispute.assign("alice", by=ALICE, now=NOW)
    dispute.propose_decision(
        Outcome.REFUND, None, "reverted", by=ALICE, now=NOW, overrides=UNCHECKED
    )
    assert dispute.unrecorded_payouts() == [credit]  # proposed: nothing can be paid yet
    dispute.approve_decision(by=BOB, now=NOW)
    execution = (Action.EXECUTE_DECISION, f"{dispute.id}:1")
    assert dispute.unrecorded_payouts() == [credit, execution]
    dispute.record_execution("ledger:1", by=BOB, now=NOW)
    assert dispute.unrecorded_payouts() == [credit]


def test_an_sla_alert_is_recorded_once_per_clock_and_threshold():
    dispute = new_dispute()
    system = Actor(id="sla-checker", roles={Role.SYSTEM})
    due = NOW + timedelta(hours=1)
    assert dispute.record_sla_alert("first_response:1", 50, due, by=system, now=NOW)
    assert not dispute.record_sla_alert("first_response:1", 50, due, by=system, now=NOW)
    assert dispute.record_sla_alert("first_response:1", 100, due, by=system, now=NOW)
    assert not dispute.record_sla_alert("first_response:1", 100, due, by=system, now=NOW)
    assert len(dispute.collect_events()) == 3
    with pytest.raises(NotAuthorized):
        dispute.record_sla_alert("feedback:1", 50, due, by=ALICE, now=NOW)


def test_a_transaction_after_the_filing_time_is_refused():
    command = FileDispute.model_validate(filing())
    with pytest.raises(InvalidInput):
        Dispute.file(
            command.claim,
            idempotency_key="k",
            by=ALICE,
            now=command.transaction.occurred_at - timedelta(seconds=1),
        )


def test_closed_disputes_only_take_notes_and_appeals():
    dispute = new_dispute()
    dispute.assign("alice", by=ALICE, now=NOW)
    dispute.propose_decision(
        Outcome.REJECT, None, "matches chain", by=ALICE, now=NOW, overrides=("checklist",)
    )
    dispute.close(by=ALICE, now=NOW, appeal_window=timedelta(days=30), render=render)
    with pytest.raises(InvalidTransition, match="allowed: filed, investigating"):
        dispute.request_evidence("more", by=ALICE, now=NOW)
    dispute.add_note("claimant called again", by=ALICE, now=NOW)
    dispute.reopen("appeal", by=ALICE, now=NOW + timedelta(days=30), appeal_window=timedelta(30))
    assert dispute.status == "investigating"


def test_a_transaction_at_the_filing_time_is_accepted_and_a_later_one_refused_on_its_field():
    claim = FileDispute.model_validate(filing()).claim
    when = claim.transaction.occurred_at
    assert Dispute.file(claim, idempotency_key="k", by=ALICE, now=when).filed_at == when
    with pytest.raises(InvalidInput) as raised:
        Dispute.file(claim, idempotency_key="k", by=ALICE, now=when - timedelta(microseconds=1))
    assert raised.value.errors == [
        {"field": "transaction.occurred_at", "message": "must not be in the future"}
    ]


def test_a_claim_without_a_jurisdiction_is_refused_on_its_field():
    claim = FileDispute.model_validate(filing()).claim.model_copy(update={"jurisdiction": None})
    with pytest.raises(InvalidInput) as raised:
        Dispute.file(claim, idempotency_key="k", by=ALICE, now=NOW)
    assert raised.value.errors == [{"field": "jurisdiction", "message": "is required"}]


def test_only_personal_fields_can_be_sealed():
    claim = FileDispute.model_validate(filing()).claim
    with pytest.raises(InvalidInput) as raised:
        Dispute.file(claim, idempotency_key="k", by=ALICE, now=NOW, sealed={"claimant_id": "x"})
    assert raised.value.errors == [
        {"field": "sealed", "message": "only contact, description, sender are sealed"}
    ]


FINGERPRINTED = (
    '{"channel":"chat","claimant_id":"user-1","description":"never credited",'
    '"jurisdiction":"US","language":"en","priority":"normal","reason":"not_received",'
    '"transaction":{"amount":"125.5","asset":"USDT","chain_id":1,"decimals":6,'
    '"occurred_at":"2026-11-20T08:15:00Z",'
    '"recipient":"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",'
    '"sender":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",'
    '"token_address":"0xdAC17F958D2ee523a2206206994597C13D831ec7",'
    '"tx_hash":"0xabababababababababababababababababababababababababababababababab"}}'
)


@pytest.mark.parametrize("contact", [None, "+1 555 0100"])
def test_the_fingerprint_is_of_the_claim_as_json_with_sorted_keys_and_no_spaces(
    contact: str | None,
):
    # Retried filings are recognised by fingerprints recorded by earlier releases: a claim
    # without a contact is fingerprinted as before contacts existed, without the key.
    claim = Claim.model_validate(json.loads(FINGERPRINTED) | {"contact": contact})
    dispute = Dispute.file(
        claim, idempotency_key="k", by=ALICE, now=NOW, sealed={"description": "sealed"}
    )
    given = "" if contact is None else f'"contact":"{contact}",'
    text = FINGERPRINTED.replace('"description"', f'{given}"description"')
    assert dispute.fingerprint == hashlib.sha256(text.encode()).hexdigest()


def test_a_sealed_sender_is_recorded_beside_the_claim_whose_transaction_names_its_pseudonym():
    claim = FileDispute.model_validate(filing()).claim
    plain = Dispute.file(claim, idempotency_key="k", by=ALICE, now=NOW)
    sealed = Dispute.file(claim, idempotency_key="k", by=ALICE, now=NOW, sealed={"sender": "s"})
    (filed,) = sealed.collect_events()
    assert isinstance(filed, events.Filed)
    pseudonym = address_pseudonym(Dispute.create_id("k"), claim.transaction.sender)
    assert filed.claim["sender"] == "s"
    assert filed.claim["transaction"] == {
        **claim.transaction.model_dump(mode="json"),
        "sender": pseudonym,
    }
    assert sealed.claim.transaction.sender == pseudonym
    assert sealed.fingerprint == plain.fingerprint


def test_a_new_filing_is_held_to_the_checklist_in_force():
    assert new_dispute().checklist_version == CURRENT_CHECKLIST_VERSION
