"""The dispute records the catalog notice that fits each moment, in the claimant's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.domain import events
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.sla_policy import Metric
from dispute_engine.notices.catalog import render
from tests.factories import filing

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
CAROL = Actor(id="carol", roles={Role.APPROVER})
DAVE = Actor(id="dave", roles={Role.INVESTIGATOR})
PAYOUT = "0x" + "ab" * 32


def new_dispute(**overrides: Any) -> Dispute:
    command = FileDispute.model_validate(filing(**{"language": "en", **overrides}))
    dispute = Dispute.file(
        command.claim, idempotency_key=command.idempotency_key, by=ALICE, now=NOW
    )
    dispute.assign("alice", by=ALICE, now=NOW)
    return dispute


def notify(dispute: Dispute, at: datetime = NOW) -> str:
    return dispute.notify_claimant(by=ALICE, now=at, appeal_window=WINDOW, render=render)


def close(dispute: Dispute, at: datetime = NOW) -> None:
    dispute.close(by=ALICE, now=at, appeal_window=WINDOW, render=render)


def notified(dispute: Dispute) -> list[events.ClaimantNotified]:
    """The notices recorded and not yet collected (collecting them empties the list)."""
    return [e for e in dispute.collect_events() if isinstance(e, events.ClaimantNotified)]


def templates(dispute: Dispute) -> list[str]:
    return [n.template for n in dispute.notices]


def rejected(**overrides: Any) -> Dispute:
    dispute = new_dispute(**overrides)
    dispute.propose_decision(
        Outcome.REJECT, None, "the exchange credited it", by=ALICE, now=NOW, overrides=["checklist"]
    )
    return dispute


def test_the_first_notice_acknowledges_the_dispute_and_meets_the_feedback_clock():
    dispute = new_dispute()
    later = NOW + timedelta(hours=2)
    text = notify(dispute, later)
    (event,) = notified(dispute)
    assert event.template == "acknowledgement"
    assert event.subject is not None
    assert dispute.reference in event.subject
    assert "125.5 USDT" in text
    assert event.text == text
    clock = next(c for c in dispute.sla.clocks.values() if c.metric is Metric.FEEDBACK)
    assert (clock.state, clock.ended_at) == ("met", later)


def test_awaiting_the_claimant_asks_for_evidence_then_reminds():
    dispute = new_dispute()
    dispute.request_evidence("a screenshot of the deposit page", by=ALICE, now=NOW)
    first = notify(dispute)
    second = notify(dispute, NOW + timedelta(days=3))
    assert templates(dispute) == ["evidence_request", "reminder"]
    assert "a screenshot of the deposit page" in first
    assert "Dec 5, 2026" in first
    assert "a screenshot of the deposit page" in second


def test_a_rejection_notice_gives_the_reason_and_the_appeal_deadline():
    dispute = rejected()
    text = notify(dispute)
    assert templates(dispute) == ["decision.reject"]
    assert "the exchange credited it" in text
    assert "Dec 21, 2026" in text


def test_an_approved_refund_is_announced_then_its_payout_links_to_the_explorer():
    dispute = new_dispute()
    dispute.propose_decision(
        Outcome.REFUND,
        None,
        "reverted on chain",
        by=ALICE,
        now=NOW,
        overrides=["no_lookup", "amount", "checklist"],
    )
    dispute.approve_decision(by=BOB, now=NOW)
    announced = notify(dispute)
    dispute.record_execution(PAYOUT, by=CAROL, now=NOW)
    sent = notify(dispute)
    assert templates(dispute) == ["decision.refund", "refund_sent"]
    assert "reverted on chain" in announced
    assert "125.5 USDT" in announced
    assert PAYOUT in sent
    assert f"https://etherscan.io/tx/{PAYOUT}" in sent


def test_a_reopened_dispute_says_so_once_then_acknowledges():
    dispute = rejected()
    close(dispute)
    dispute.reopen("claimant appeal", by=ALICE, now=NOW + timedelta(days=1), appeal_window=WINDOW)
    notify(dispute, NOW + timedelta(days=1))
    notify(dispute, NOW + timedelta(days=2))
    assert templates(dispute)[-2:] == ["reopened", "acknowledgement"]


def test_closing_tells_the_claimant_and_asks_for_feedback_once_per_resolution():
    dispute = rejected()
    close(dispute)
    dispute.reopen("claimant appeal", by=ALICE, now=NOW, appeal_window=WINDOW)
    dispute.propose_decision(
        Outcome.REJECT, None, "still credited", by=DAVE, now=NOW, overrides=["checklist"]
    )
    close(dispute)
    names = [type(e).__name__ for e in dispute.collect_events()]
    assert names[-3:] == ["Closed", "ClaimantNotified", "ClaimantNotified"]
    assert templates(dispute) == ["closed", "satisfaction_request"] * 2


def test_a_forgotten_claimant_gets_no_notice_on_closing():
    dispute = rejected()
    dispute.forget_claimant(by=BOB, now=NOW)
    close(dispute)
    assert templates(dispute) == []
    assert dispute.status == "closed"


def test_notices_follow_the_claimants_language_with_fallbacks():
    taiwan = new_dispute(language="zh-TW")
    mexico = new_dispute(language="es-MX")
    german = new_dispute(language="de")
    notify(taiwan), notify(mexico), notify(german)
    assert [notified(d)[0].language for d in (taiwan, mexico, german)] == ["zh_Hant", "es", "en"]
    assert "爭議" in taiwan.notices[0].text


def test_replay_gives_the_same_notices_without_rendering_again():
    dispute = rejected()
    notify(dispute)
    close(dispute)
    copy: Any = None
    for recorded in dispute.collect_events():
        copy = recorded.mutate(copy)
    assert copy.notices == dispute.notices
