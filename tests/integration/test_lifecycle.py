"""A dispute's life on SQLite and PostgreSQL: four eyes, exactly-once payouts, appeals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from dispute_engine import Actor, AddEvidence, DisputeEngine, ProposeDecision, Role
from dispute_engine.database import Database
from dispute_engine.errors import (
    DisputeNotFound,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    PayoutFailed,
)
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.ports import PayoutInstruction, PayoutReceipt
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, stored_rows

REFUND = ProposeDecision(
    outcome="refund", rationale="tx reverted on chain; funds never left", overrides=UNCHECKED
)


def investigating(engine: DisputeEngine, alice: Actor) -> UUID:
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    return dispute_id


def approved_refund(engine: DisputeEngine, alice: Actor, bob: Actor) -> UUID:
    dispute_id = investigating(engine, alice)
    engine.propose_decision(dispute_id, REFUND, by=alice)
    engine.approve_decision(dispute_id, by=bob)
    return dispute_id


def test_refund_goes_from_filing_to_closed_with_a_second_approver(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = investigating(engine, alice)
    engine.verify_identity(dispute_id, method="security_question", by=alice)
    engine.propose_decision(dispute_id, REFUND, by=alice)
    assert engine.get(dispute_id).status == "pending_approval"
    engine.approve_decision(dispute_id, by=bob)
    reference = engine.execute_decision(dispute_id, by=bob)
    notice = engine.notify_claimant(dispute_id, by=alice)
    engine.close(dispute_id, by=alice)

    view = engine.get(dispute_id)
    assert view.status == "closed"
    assert view.identity_verified
    assert view.identity_verified_by == "alice"
    assert view.paid_amount == Decimal("125.5")
    assert [p.reference for p in view.payouts] == [reference]
    assert "125.5 USDT" in notice
    assert "tx reverted on chain" in notice  # a ledger payout has no explorer page: the decision
    assert notice.startswith("我们决定")  # the claimant wrote in Chinese
    history = engine.history(dispute_id)
    assert [e.actor for e in history][-6:] == ["bob", "bob", "alice", "alice", "alice", "alice"]
    assert [e.data.get("template") for e in history][-3:] == [
        None,
        "closed",
        "satisfaction_request",
    ]


def test_refund_needs_a_second_approver(engine: DisputeEngine, alice: Actor):
    dispute_id = investigating(engine, alice)
    engine.propose_decision(dispute_id, REFUND, by=alice)
    alice_the_approver = Actor(id="alice", roles={Role.INVESTIGATOR, Role.APPROVER})
    before = stored_rows(engine)
    with pytest.raises(NotAuthorized, match="second approver"):
        engine.approve_decision(dispute_id, by=alice_the_approver)
    assert stored_rows(engine) == before


def test_investigator_cannot_approve_and_auditor_cannot_act(
    engine: DisputeEngine, alice: Actor, carol: Actor, auditor: Actor
):
    dispute_id = investigating(engine, alice)
    engine.propose_decision(dispute_id, REFUND, by=alice)
    before = stored_rows(engine)
    with pytest.raises(NotAuthorized):
        engine.approve_decision(dispute_id, by=carol)
    with pytest.raises(NotAuthorized):
        engine.add_note(dispute_id, "just looking", by=auditor)
    assert stored_rows(engine) == before
    assert engine.get(dispute_id).status == "pending_approval"  # reading is open to all


def test_rejection_resolves_without_approval_and_tells_the_claimant_how_to_appeal(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice, language="es-MX")
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="reject", rationale="tx matches claim", overrides=["checklist"]),
        by=alice,
    )
    view = engine.get(dispute_id)
    assert view.status == "resolved"
    assert view.payouts == []
    notice = engine.notify_claimant(dispute_id, by=alice)
    assert "tx matches claim" in notice  # the reason, and until when to appeal
    assert "Puede apelar hasta el" in notice


def test_unsupported_language_is_kept_and_notices_fall_back_to_english(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice, language="fr-CA")
    assert engine.get(dispute_id).claim.language == "fr-CA"
    assert engine.notify_claimant(dispute_id, by=alice).startswith("We received your dispute")


def test_approver_can_send_a_decision_back(engine: DisputeEngine, alice: Actor, bob: Actor):
    dispute_id = investigating(engine, alice)
    engine.propose_decision(dispute_id, REFUND, by=alice)
    engine.send_back(dispute_id, reason="check the exchange's records first", by=bob)
    view = engine.get(dispute_id)
    assert view.status == "investigating"
    assert view.decision is None


def test_command_in_the_wrong_status_is_refused_with_the_allowed_ones(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = investigating(engine, alice)
    before = stored_rows(engine)
    with pytest.raises(InvalidTransition) as raised:
        engine.approve_decision(dispute_id, by=bob)
    assert str(raised.value) == (
        "cannot approve a dispute that is investigating; allowed: pending_approval"
    )
    assert raised.value.allowed == ("pending_approval",)
    assert stored_rows(engine) == before


def test_decision_executes_exactly_once(engine: DisputeEngine, alice: Actor, bob: Actor):
    dispute_id = approved_refund(engine, alice, bob)
    engine.execute_decision(dispute_id, by=bob)
    before = stored_rows(engine)
    with pytest.raises(InvalidTransition):
        engine.execute_decision(dispute_id, by=bob)
    assert stored_rows(engine) == before
    assert len(engine._core.payout_gateway.instructions()) == 1  # type: ignore[attr-defined]


def test_retry_after_a_crash_between_paying_and_recording_pays_once(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    dispute_id = approved_refund(engine, alice, bob)
    view = engine.get(dispute_id)
    tx = view.claim.transaction
    # The rail recorded the payment, then the process died before the event was saved.
    first = engine._core.payout_gateway.pay(
        PayoutInstruction(
            key=f"{dispute_id}:1",
            dispute_id=dispute_id,
            decision_number=1,
            outcome="refund",
            claimant_id=view.claim.claimant_id,
            chain_id=tx.chain_id,
            asset=tx.asset,
            token_address=tx.token_address,
            decimals=6,
            units=125_500_000,
            to_address=tx.sender,
        )
    )
    assert first.created
    reference = engine.execute_decision(dispute_id, by=bob)
    assert reference == first.reference
    assert len(engine._core.payout_gateway.instructions()) == 1  # type: ignore[attr-defined]
    assert engine.get(dispute_id).status == "resolved"


def test_payouts_never_exceed_the_disputed_amount_across_appeals(
    engine: DisputeEngine, alice: Actor, bob: Actor, carol: Actor
):
    dispute_id = investigating(engine, alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(
            outcome="partial_refund", amount="100", rationale="fees kept", overrides=UNCHECKED
        ),
        by=alice,
    )
    engine.approve_decision(dispute_id, by=bob)
    engine.execute_decision(dispute_id, by=bob)
    engine.close(dispute_id, by=alice)
    engine.reopen(dispute_id, reason="claimant appeal", by=alice)
    before = stored_rows(engine)
    # The appeal is decided by people who did not decide the dispute before.
    dave = Actor(id="dave", roles={Role.APPROVER})
    with pytest.raises(InvalidInput, match="exceeds"):
        engine.propose_decision(
            dispute_id,
            ProposeDecision(
                outcome="adjustment", amount="25.51", rationale="too much", overrides=UNCHECKED
            ),
            by=carol,
        )
    assert stored_rows(engine) == before
    engine.propose_decision(dispute_id, REFUND, by=carol)  # the rest: 25.50
    engine.approve_decision(dispute_id, by=dave)
    engine.execute_decision(dispute_id, by=dave)
    view = engine.get(dispute_id)
    assert view.paid_amount == view.disputed_amount == Decimal("125.5")
    assert [p.amount for p in view.payouts] == [Decimal(100), Decimal("25.5")]


@pytest.mark.parametrize(
    ("outcome", "amount", "message"),
    [
        ("partial_refund", None, "needs an amount"),
        ("partial_refund", "125.50", "less than the full amount"),
        ("refund", "100", "use partial_refund"),
        ("adjustment", "0.0000001", "decimals"),
        ("adjustment", "200", "exceeds"),
    ],
)
def test_decision_amounts_follow_the_money_rules(
    engine: DisputeEngine, alice: Actor, outcome: str, amount: str | None, message: str
):
    dispute_id = investigating(engine, alice)
    before = stored_rows(engine)
    with pytest.raises(InvalidInput, match=message) as raised:
        engine.propose_decision(
            dispute_id,
            ProposeDecision(outcome=outcome, amount=amount, rationale="r", overrides=UNCHECKED),  # type: ignore[arg-type]
            by=alice,
        )
    assert raised.value.fields == ["amount"]
    assert stored_rows(engine) == before


def test_reopen_is_refused_after_the_appeal_window(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = investigating(engine, alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="reject", rationale="matches chain", overrides=["checklist"]),
        by=alice,
    )
    engine.close(dispute_id, by=alice)
    clock.advance(timedelta(days=31))
    with pytest.raises(InvalidTransition, match="appeal window"):
        engine.reopen(dispute_id, reason="too late", by=alice)
    clock.now -= timedelta(days=2)
    engine.reopen(dispute_id, reason="just in time", by=alice)
    assert engine.get(dispute_id).status == "investigating"


def test_withdrawn_dispute_accepts_no_more_work(engine: DisputeEngine, alice: Actor):
    dispute_id = investigating(engine, alice)
    engine.withdraw(dispute_id, by=alice)
    with pytest.raises(InvalidTransition):
        engine.request_evidence(dispute_id, what="anything", by=alice)
    assert engine.get(dispute_id).status == "withdrawn"


def test_claimant_answer_moves_the_dispute_back_to_investigating(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = investigating(engine, alice)
    engine.request_evidence(dispute_id, what="screenshot of the deposit page", by=alice)
    assert engine.get(dispute_id).status == "awaiting_claimant"
    engine.add_evidence(
        dispute_id,
        AddEvidence(
            kind="screenshot",
            media_type="image/png",
            filename="investigator.png",
            content=b"internal",
        ),
        by=alice,
    )
    assert engine.get(dispute_id).status == "awaiting_claimant"
    engine.add_evidence(
        dispute_id,
        AddEvidence(
            kind="screenshot",
            media_type="image/png",
            filename="deposit.png",
            content=b"\x89PNG",
            source="claimant",
        ),
        by=alice,
    )
    view = engine.get(dispute_id)
    assert view.status == "investigating"
    assert view.evidence_requests[0].answered_at is not None


def test_identical_evidence_bytes_are_stored_once(engine: DisputeEngine, alice: Actor):
    first, second = investigating(engine, alice), investigating(engine, alice)
    evidence = AddEvidence(
        kind="statement",
        media_type="application/pdf",
        filename="s.pdf",
        content=b"%PDF-1.7 statement",
    )
    digest = engine.add_evidence(first, evidence, by=alice)
    assert engine.add_evidence(second, evidence, by=alice) == digest
    assert stored_rows(engine)[1] == 1
    assert engine.evidence_content(digest) == b"%PDF-1.7 statement"
    kept = engine.get(first).evidence[0]
    assert (kept.sha256, kept.size, kept.media_type, kept.filename) == (
        digest,
        18,
        "application/pdf",
        "s.pdf",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"media_type": "application/x-msdownload"}, "media_type"),
        ({"filename": "../../etc/passwd"}, "filename"),
        ({"content": b""}, "content"),
        ({"kind": "rumour"}, "kind"),
    ],
)
def test_bad_evidence_is_refused_before_any_bytes_are_stored(
    engine: DisputeEngine, alice: Actor, fields: dict[str, object], field: str
):
    dispute_id = investigating(engine, alice)
    before = stored_rows(engine)
    base: dict[str, object] = {
        "kind": "screenshot",
        "media_type": "image/png",
        "filename": "a.png",
        "content": b"x",
    }
    with pytest.raises(InvalidInput) as raised:
        engine.add_evidence(dispute_id, AddEvidence.model_validate({**base, **fields}), by=alice)
    assert raised.value.fields == [field]
    assert stored_rows(engine) == before


def test_evidence_on_a_closed_dispute_stores_no_bytes(engine: DisputeEngine, alice: Actor):
    dispute_id = investigating(engine, alice)
    engine.withdraw(dispute_id, by=alice)
    before = stored_rows(engine)
    with pytest.raises(InvalidTransition):
        engine.add_evidence(
            dispute_id,
            AddEvidence(kind="other", media_type="text/plain", filename="n.txt", content=b"n"),
            by=alice,
        )
    assert stored_rows(engine) == before


def test_unknown_dispute_is_not_found(engine: DisputeEngine, alice: Actor):
    missing = UUID(int=7)
    with pytest.raises(DisputeNotFound):
        engine.get(missing)
    with pytest.raises(DisputeNotFound):
        engine.add_note(missing, "hello", by=alice)
    with pytest.raises(DisputeNotFound):
        engine.history(missing)
    assert isinstance(DisputeNotFound("x"), LookupError)


def test_list_disputes_filters_by_status_and_assignee(
    engine: DisputeEngine, alice: Actor, carol: Actor
):
    mine = investigating(engine, alice)
    theirs = file_dispute(engine, carol)
    engine.assign(theirs, investigator="carol", by=carol)
    untouched = file_dispute(engine, alice)
    assert {v.id for v in engine.list_disputes()} == {mine, theirs, untouched}
    assert [v.id for v in engine.list_disputes(status="investigating", assignee="alice")] == [mine]
    assert [v.id for v in engine.list_disputes(status="filed")] == [untouched]
    with pytest.raises(InvalidInput):
        engine.list_disputes(status="lost")


class RefusingRail:
    """A payout rail that refuses every instruction."""

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        raise PayoutFailed(f"rail refused {instruction.key}")


def test_a_refused_payout_records_nothing_and_can_be_retried(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    engine = DisputeEngine.open(db_url, clock=clock, payout_gateway=RefusingRail())
    try:
        dispute_id = approved_refund(engine, alice, bob)
        before = stored_rows(engine)
        with pytest.raises(PayoutFailed):
            engine.execute_decision(dispute_id, by=bob)
        assert stored_rows(engine) == before
        assert engine.get(dispute_id).status == "approved"
    finally:
        engine.shutdown()


class NoteWhilePaying:
    """A payout rail during whose payment an investigator adds a note to the dispute."""

    def __init__(self, db: Database) -> None:
        self.ledger = PayoutLedger(db)
        self.engine: DisputeEngine | None = None

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        receipt = self.ledger.pay(instruction)
        if receipt.created and self.engine is not None:
            note_taker = Actor(id="carol", roles={Role.INVESTIGATOR})
            self.engine.add_note(instruction.dispute_id, "called meanwhile", by=note_taker)
        return receipt


def test_a_change_made_while_paying_does_not_fail_the_execution_or_pay_twice(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    rails: list[NoteWhilePaying] = []

    def rail(db: Database) -> NoteWhilePaying:
        rails.append(NoteWhilePaying(db))
        return rails[-1]

    engine = DisputeEngine.open(db_url, clock=clock, payout_gateway=rail)
    rails[0].engine = engine
    try:
        dispute_id = approved_refund(engine, alice, bob)
        reference = engine.execute_decision(dispute_id, by=bob)
        view = engine.get(dispute_id)
        assert view.status == "resolved"
        assert [p.reference for p in view.payouts] == [reference]
        assert [n.text for n in view.notes] == ["called meanwhile"]
        assert len(rails[0].ledger.instructions()) == 1
    finally:
        engine.shutdown()


def test_the_acknowledgement_meets_the_feedback_clock_in_the_dispute_and_the_sla_view(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute_id = investigating(engine, alice)
    clock.advance(timedelta(hours=2))
    engine.notify_claimant(dispute_id, by=alice)
    [notified] = [e for e in engine.history(dispute_id) if e.name == "ClaimantNotified"]
    assert notified.data["template"] == "acknowledgement"
    feedback = [c for c in engine.get(dispute_id).sla_clocks if c.metric == "feedback"]
    assert [c.state for c in feedback] == ["met"]
    rows = engine.sla_report(since=clock.now - timedelta(days=1), until=clock.now)
    assert sum(r.met for r in rows if r.metric == "feedback") == 1
