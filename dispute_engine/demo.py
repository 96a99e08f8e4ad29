"""A walk through three disputes about real transactions on an in-process chain."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from eth_account import Account
from pydantic import SecretStr

from dispute_engine.commands import AddEvidence, FileDispute, ProposeDecision
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.errors import NotAuthorized
from dispute_engine.engine import DisputeEngine

ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
CAROL = Actor(id="carol", roles={Role.INVESTIGATOR})
ETHER = 10**18


@dataclass(frozen=True)
class HotWallet:
    """The wallet a demo run pays refunds from."""

    key: SecretStr
    address: str


def new_hot_wallet() -> HotWallet:
    """A fresh wallet for one run: its nonces start at 0 whatever an earlier run recorded."""
    account = Account.create()
    return HotWallet(SecretStr("0x" + bytes(account.key).hex()), str(account.address))


class DemoChain(Protocol):
    """A chain the demo can make real transactions on."""

    chain_id: int
    accounts: list[str]

    def send(self, sender: str, to: str, wei: int, gas: int = 0) -> str: ...

    def token(self, symbol: str, decimals: int) -> str: ...

    def transfer(self, symbol: str, sender: str, to: str, units: int, gas: int = 0) -> str: ...

    def balance(self, symbol: str, owner: str) -> int: ...


def _gas(least: int) -> int:
    """A gas limit of its own for each run's transaction.

    The in-process chain starts afresh each run, so the same transaction would have the same
    hash as an earlier run's, and its dispute would be linked to that run's (one transaction,
    one cap on what its disputes are paid).
    """
    return least + secrets.randbelow(10_000)


def _file(
    engine: DisputeEngine, chain: DemoChain, tx_hash: str, claim: dict[str, Any], **fields: Any
) -> UUID:
    transaction = {
        "chain_id": chain.chain_id,
        "tx_hash": tx_hash,
        "token_address": None,
        "occurred_at": datetime.now(UTC),
        **claim,
    }
    filing = {**fields, "transaction": transaction, "idempotency_key": f"demo-{uuid.uuid4()}"}
    return engine.file_dispute(FileDispute.model_validate(filing), by=ALICE)


def _facts(engine: DisputeEngine, dispute_id: UUID, say: Callable[[str], None], tag: str) -> None:
    facts = engine.look_up_transaction(dispute_id, by=ALICE)
    contradicted = ", ".join(facts.mismatches) or "nothing"
    say(f"{tag} chain: {facts.status} in block {facts.block_number}; contradicts {contradicted}")


def run_demo(
    engine: DisputeEngine, chain: DemoChain, say: Callable[[str], None], *, hot_wallet: str
) -> list[UUID]:
    """File and work three disputes about real transactions; returns their ids.

    ``hot_wallet`` is the address the engine pays refunds from; the chain's first account,
    which deploys the demo token, funds it with ether and tokens first.
    """
    bank = chain.accounts[0]
    zh_user, exchange, es_user, shop, en_user, friend = chain.accounts[3:9]
    usdt = chain.token("USDT", 6)
    chain.send(bank, hot_wallet, ETHER)
    chain.transfer("USDT", bank, hot_wallet, 1_000_000_000)

    # A transfer that reverted on chain while the app showed the balance as spent.
    chain.transfer("USDT", bank, zh_user, 100_000_000)
    failed = chain.transfer("USDT", zh_user, exchange, 125_500_000, gas=_gas(100_000))
    zh = _file(
        engine,
        chain,
        failed,
        {
            "asset": "USDT",
            "decimals": 6,
            "token_address": usdt,
            "amount": "125.50",
            "sender": zh_user,
            "recipient": exchange,
        },
        claimant_id="user-1842",
        channel="chat",
        language="zh-CN",
        jurisdiction="CN",
        priority="high",
        reason="failed_but_debited",
        description="转账 125.50 USDT 到交易所,钱包已扣款但交易所没有到账",
    )
    say(f"[zh] filed {zh}: 125.50 USDT debited, never arrived")
    engine.assign(zh, investigator="alice", by=ALICE)
    engine.verify_identity(zh, method="security_question", by=ALICE)
    _facts(engine, zh, say, "[zh]")
    engine.propose_decision(
        zh,
        ProposeDecision(
            outcome="refund",
            rationale="the transfer reverted on chain; the wallet debited the user anyway",
            # The chain shows nothing moved, and the checklist's items are not all worked in
            # a demo: both said on purpose.
            overrides=("status", "amount", "checklist"),
        ),
        by=ALICE,
    )
    try:
        engine.approve_decision(zh, by=Actor(id="alice", roles={Role.APPROVER}))
    except NotAuthorized as exc:
        say(f"[zh] four eyes: {exc}")
    engine.approve_decision(zh, by=BOB)
    before = chain.balance("USDT", zh_user)
    say(f"[zh] refund sent on chain once: {engine.execute_decision(zh, by=BOB)}")
    after = chain.balance("USDT", zh_user)
    say(f"[zh] the claimant's USDT on chain went from {before / 10**6} to {after / 10**6}")
    say(f"[zh] notice: {engine.notify_claimant(zh, by=ALICE)}")
    engine.close(zh, by=ALICE)

    # The claimant remembers 0.2 ETH; the chain shows the 0.25 they signed.
    paid = chain.send(es_user, shop, ETHER // 4, gas=_gas(21_000))
    es = _file(
        engine,
        chain,
        paid,
        {"asset": "ETH", "amount": "0.2", "sender": es_user, "recipient": shop},
        claimant_id="user-5531",
        channel="email",
        language="es",
        jurisdiction="ES",
        reason="wrong_amount",
        description="Me cobraron 0.25 ETH en lugar de 0.2",
    )
    say(f"[es] filed {es}: charged 0.25 ETH instead of 0.2")
    engine.assign(es, investigator="alice", by=ALICE)
    _facts(engine, es, say, "[es]")
    engine.propose_decision(
        es,
        ProposeDecision(
            outcome="reject", rationale="the claimant signed 0.25 ETH", overrides=["checklist"]
        ),
        by=ALICE,
    )
    say(f"[es] notice: {engine.notify_claimant(es, by=ALICE)}")
    engine.close(es, by=ALICE)
    _appeal(engine, es, say)

    # The chain shows the payment arrived; the claimant withdraws once their friend checks.
    sent = chain.send(en_user, friend, ETHER // 10, gas=_gas(21_000))
    en = _file(
        engine,
        chain,
        sent,
        {"asset": "ETH", "amount": "0.1", "sender": en_user, "recipient": friend},
        claimant_id="user-0007",
        channel="app",
        language="en",
        jurisdiction="US-CA",
        reason="not_received",
        description="My friend says my 0.1 ETH never arrived",
    )
    say(f"[en] filed {en}: 0.1 ETH never arrived")
    _facts(engine, en, say, "[en]")
    engine.request_evidence(en, what="a screenshot of your friend's wallet history", by=ALICE)
    say(f"[en] notice: {engine.notify_claimant(en, by=ALICE)}")
    engine.add_evidence(
        en,
        AddEvidence(
            kind="chat_log",
            media_type="text/plain",
            filename="chat.txt",
            content=b"friend: found it, it arrived",
            source="claimant",
        ),
        by=ALICE,
    )
    engine.withdraw(en, reason="the friend found the payment", by=ALICE)

    for dispute_id in (zh, es, en):
        view = engine.get(dispute_id)
        names = ", ".join(e.name for e in engine.history(dispute_id))
        say(f"{str(dispute_id)[:8]} {view.status}, paid {view.paid_amount}: {names}")
    audit = engine.audit.verify()
    verdict = "OK" if audit.ok else f"{len(audit.problems)} problems"
    say(f"audit: {audit.logged} of {audit.events} stored events sealed and logged; {verdict}")
    return [zh, es, en]


def _appeal(engine: DisputeEngine, es: UUID, say: Callable[[str], None]) -> None:
    """The es claimant appeals; the appeal is decided by people who did not decide it."""
    engine.reopen(es, reason="appeal: the quote screen said 0.2 ETH", by=ALICE)
    # An appeal goes to fresh eyes: an investigator who did not decide the dispute before.
    engine.assign(es, investigator="carol", by=CAROL)
    engine.propose_decision(
        es,
        ProposeDecision(
            outcome="partial_refund",
            amount=Decimal("0.05"),
            rationale="the quote screen was misleading",
            overrides=("amount", "checklist"),  # the chain shows 0.25 ETH, not the 0.2 claimed
        ),
        by=CAROL,
    )
    engine.approve_decision(es, by=BOB)
    engine.execute_decision(es, by=BOB)
    say(
        f"[es] reopened on appeal, decided by carol; notice: {engine.notify_claimant(es, by=CAROL)}"
    )
    engine.close(es, by=CAROL)
