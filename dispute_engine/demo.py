"""A walk through several disputes, for ``dispute-engine demo`` and newcomers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from dispute_engine.application import DisputeEngine
from dispute_engine.commands import AddEvidence, FileDispute, ProposeDecision
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.errors import NotAuthorized

ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def _filing(engine: DisputeEngine, n: int, **fields: object) -> FileDispute:
    tx = dict(fields.pop("transaction"))  # type: ignore[call-overload]
    return FileDispute.model_validate(
        {
            **fields,
            "transaction": {
                "chain_id": 1,
                "tx_hash": f"0x{n:064x}",
                "sender": f"0x{n:040x}",
                "recipient": f"0x{n + 100:040x}",
                "occurred_at": engine.now() - timedelta(hours=n),
                **tx,
            },
            "idempotency_key": f"demo-{uuid.uuid4()}",
        }
    )


def run_demo(engine: DisputeEngine, say: Callable[[str], None]) -> list[UUID]:
    """File and work three disputes; tells what happens through ``say``; returns their ids."""
    zh = engine.file_dispute(
        _filing(
            engine,
            1,
            claimant_id="user-1842",
            channel="chat",
            language="zh-CN",
            jurisdiction="CN",
            priority="high",
            reason="not_received",
            transaction={"asset": "USDT", "token_address": USDT, "amount": "125.50"},
            description="转账 125.50 USDT 到交易所,一直没有到账",
        ),
        by=ALICE,
    )
    say(f"[zh] filed {zh}: 125.50 USDT never arrived")
    engine.assign(zh, investigator="alice", by=ALICE)
    engine.verify_identity(zh, method="security_question", by=ALICE)
    engine.request_evidence(zh, what="交易所充值页面截图", by=ALICE)
    say(f"[zh] notice: {engine.notify_claimant(zh, by=ALICE)}")
    engine.add_evidence(
        zh,
        AddEvidence(
            kind="screenshot",
            media_type="image/png",
            filename="deposit.png",
            content=b"\x89PNG demo",
            source="claimant",
        ),
        by=ALICE,
    )
    engine.propose_decision(
        zh,
        ProposeDecision(outcome="refund", rationale="the exchange confirms no deposit arrived"),
        by=ALICE,
    )
    try:
        engine.approve_decision(zh, by=Actor(id="alice", roles={Role.APPROVER}))
    except NotAuthorized as exc:
        say(f"[zh] four eyes: {exc}")
    engine.approve_decision(zh, by=BOB)
    say(f"[zh] refund paid once: {engine.execute_decision(zh, by=BOB)}")
    say(f"[zh] notice: {engine.notify_claimant(zh, by=ALICE)}")
    engine.close(zh, by=ALICE)
    say(f"[zh] {engine.get(zh).status}")

    es = engine.file_dispute(
        _filing(
            engine,
            2,
            claimant_id="user-5531",
            channel="email",
            language="es",
            jurisdiction="ES",
            reason="wrong_amount",
            transaction={"asset": "ETH", "amount": "0.25"},
            description="Me cobraron 0.25 ETH en lugar de 0.2",
        ),
        by=ALICE,
    )
    say(f"[es] filed {es}: charged 0.25 ETH instead of 0.2")
    engine.assign(es, investigator="alice", by=ALICE)
    engine.add_note(es, "the quote screen showed 0.25 ETH including fees", by=ALICE)
    engine.propose_decision(
        es, ProposeDecision(outcome="reject", rationale="the amount matches the quote"), by=ALICE
    )
    say(f"[es] notice: {engine.notify_claimant(es, by=ALICE)}")
    engine.close(es, by=ALICE)
    engine.reopen(es, reason="claimant appeal: the quote said 0.2 ETH", by=ALICE)
    say("[es] reopened on appeal")
    engine.propose_decision(
        es,
        ProposeDecision(
            outcome="partial_refund", amount="0.05", rationale="quote screen was misleading"
        ),
        by=ALICE,
    )
    engine.approve_decision(es, by=BOB)
    engine.execute_decision(es, by=BOB)
    say(f"[es] notice: {engine.notify_claimant(es, by=ALICE)}")
    engine.close(es, by=ALICE)
    say(f"[es] {engine.get(es).status}, paid {engine.get(es).paid_amount} ETH")

    en = engine.file_dispute(
        _filing(
            engine,
            3,
            claimant_id="user-0007",
            channel="app",
            language="en",
            jurisdiction="US-CA",
            reason="duplicate",
            transaction={"asset": "USDC", "amount": "40", "token_address": USDC},
            description="I was charged twice for the same top-up",
        ),
        by=ALICE,
    )
    say(f"[en] filed {en}: charged twice")
    engine.request_evidence(en, what="your card statement showing both charges", by=ALICE)
    say(f"[en] notice: {engine.notify_claimant(en, by=ALICE)}")
    engine.withdraw(en, reason="the claimant found the second charge was refunded", by=ALICE)
    say(f"[en] {engine.get(en).status}")

    for dispute_id in (zh, es, en):
        names = ", ".join(e.name for e in engine.history(dispute_id))
        say(f"history {str(dispute_id)[:8]}: {names}")
    return [zh, es, en]
