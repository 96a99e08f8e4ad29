"""Money the chain can vouch for, on anvil with real 6-decimal ERC-20 tokens.

The issue this guards against: a USDT claim (6 decimals) filed with ``decimals=18,
amount="1"`` was refunded as 10^18 base units, 10^12 USDT.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from dispute_engine import DisputeEngine, ProposeDecision, Settings
from dispute_engine.domain.review import DEFAULT_APPROVAL_POLICY
from dispute_engine.errors import InvalidInput, PayoutRefused
from dispute_engine.settings import PayoutLimit
from tests.chain_node import ANVIL_CHAIN_ID, TEST_TOKEN_ADDRESS, TEST_TOKENS, Anvil, anvil
from tests.conftest import FakeClock
from tests.factories import file_dispute
from tests.integration.test_chain import ALICE, BOB, HOT_WALLET_KEY, claim_for

REGISTERED_TOKEN = TEST_TOKEN_ADDRESS  # registered through the tokens setting


@pytest.fixture
def node() -> Iterator[Anvil]:
    with anvil() as running:
        yield running


@pytest.fixture
def now_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC) + timedelta(minutes=5))


def paying_engine(db_url: str, clock: FakeClock, node: Anvil, **settings: Any) -> DisputeEngine:
    return DisputeEngine.open(
        db_url,
        clock=clock,
        settings=Settings(
            chains={ANVIL_CHAIN_ID: node.url},
            hot_wallet_key=SecretStr(HOT_WALLET_KEY),
            # A threshold for the test token, as a desk sets one for each asset it pays in.
            second_approval_above={
                **DEFAULT_APPROVAL_POLICY.second_approval_above,
                "TUSD": Decimal(10_000),
            },
            tokens=TEST_TOKENS,
            **settings,
        ),
    )


def token_claim(node: Anvil, token: Any, units: int, **changes: Any) -> dict[str, Any]:
    """A true claim about a token transfer from a[6] to a[5] (a[0], the hot wallet, mints)."""
    a = node.accounts
    node.token_transfer(token, a[0], a[6], units)
    tx_hash = node.token_transfer(token, a[6], a[5], units)
    symbol = token.functions.symbol().call()
    decimals = token.functions.decimals().call()
    amount = Decimal(units).scaleb(-decimals)
    truth = {
        "asset": symbol,
        "token_address": token.address,
        "decimals": decimals,
        "amount": f"{amount:f}",
        "recipient": a[5],
    }
    return claim_for(node, tx_hash, **{**truth, **changes})


def unknown_usdt(node: Anvil) -> Any:
    """A 6-decimal USDT the registry does not know (the registered address is taken first)."""
    assert node.deploy_token("TUSD", 6).address == REGISTERED_TOKEN
    usdt = node.deploy_token("USDT", 6)
    assert usdt.address != REGISTERED_TOKEN
    return usdt


def events(engine: DisputeEngine, dispute_id: Any) -> list[str]:
    return [e.name for e in engine.history(dispute_id)]


def test_decimals_that_differ_from_the_registry_are_refused_at_filing(
    db_url: str, now_clock: FakeClock, node: Anvil
):
    token = node.deploy_token("TUSD", 6)
    assert token.address == REGISTERED_TOKEN
    claim = token_claim(node, token, 10**6, decimals=18, amount="1")
    engine = paying_engine(db_url, now_clock, node)
    try:
        with pytest.raises(InvalidInput) as raised:
            file_dispute(engine, ALICE, transaction=claim, idempotency_key="usdt-18")
        assert raised.value.fields == ["transaction.decimals"]
        assert engine.list_disputes() == []
        filed = file_dispute(engine, ALICE, transaction={**claim, "decimals": 6})
        assert engine.get(filed).claim.transaction.decimals == 6
    finally:
        engine.shutdown()


def test_a_usdt_claim_in_18_decimals_never_pays_10_to_the_18_units(
    db_url: str, now_clock: FakeClock, node: Anvil
):
    a = node.accounts
    usdt = unknown_usdt(node)
    claim = token_claim(node, usdt, 10**6, decimals=18, amount="1")  # 1 USDT moved
    engine = paying_engine(db_url, now_clock, node)
    try:
        dispute_id = file_dispute(engine, ALICE, transaction=claim)
        engine.assign(dispute_id, investigator="alice", by=ALICE)
        facts = engine.look_up_transaction(dispute_id, by=ALICE)
        assert facts.mismatches == ["decimals", "amount"]
        assert facts.token_transfers[0].decimals == 6  # read from the contract's decimals()
        assert facts.value is None  # the chain vouches for no amount in the claim's scale

        refund = {"outcome": "refund", "rationale": "claimant says 1 USDT never arrived"}
        for overrides in ([], ["decimals"], ["amount"]):
            with pytest.raises(InvalidInput) as raised:
                engine.propose_decision(
                    dispute_id, ProposeDecision(**refund, overrides=overrides), by=ALICE
                )
            assert raised.value.fields == ["overrides"]
        engine.propose_decision(
            dispute_id,
            ProposeDecision(**refund, overrides=["decimals", "amount", "checklist"]),
            by=ALICE,
        )
        assert engine.get(dispute_id).decision.overrides == ["amount", "checklist", "decimals"]  # type: ignore[union-attr]
        engine.approve_decision(dispute_id, by=BOB)

        before = usdt.functions.balanceOf(a[6]).call()
        hot_nonce = node.web3.eth.get_transaction_count(a[0])
        with pytest.raises(PayoutRefused, match="6 decimals") as refused:
            engine.execute_decision(dispute_id, by=BOB)
        assert refused.value.reason == "decimals"
        assert usdt.functions.balanceOf(a[6]).call() == before
        assert node.web3.eth.get_transaction_count(a[0]) == hot_nonce  # nothing was sent
        assert engine.get(dispute_id).status == "approved"
        assert "DecisionExecuted" not in events(engine, dispute_id)
    finally:
        engine.shutdown()


def test_a_reverted_transfer_is_refunded_only_with_status_and_amount_named(
    db_url: str, now_clock: FakeClock, node: Anvil
):
    a = node.accounts
    usdt = unknown_usdt(node)
    failed = node.token_transfer(usdt, a[7], a[5], 5 * 10**6, gas=100_000)  # a[7] has none
    claim = claim_for(
        node,
        failed,
        asset="USDT",
        token_address=usdt.address,
        decimals=6,
        amount="5",
        recipient=a[5],
    )
    engine = paying_engine(db_url, now_clock, node)
    try:
        dispute_id = file_dispute(engine, ALICE, transaction=claim)
        engine.assign(dispute_id, investigator="alice", by=ALICE)
        assert engine.look_up_transaction(dispute_id, by=ALICE).mismatches == ["status"]
        with pytest.raises(InvalidInput, match="vouches for 0 USDT"):
            engine.propose_decision(
                dispute_id,
                ProposeDecision(
                    outcome="refund", rationale="reverted", overrides=["status", "checklist"]
                ),
                by=ALICE,
            )
        engine.propose_decision(
            dispute_id,
            ProposeDecision(
                outcome="refund",
                rationale="reverted on chain, debited by the wallet",
                overrides=["status", "amount", "checklist"],
            ),
            by=ALICE,
        )
        engine.approve_decision(dispute_id, by=BOB)
        before = usdt.functions.balanceOf(a[7]).call()
        engine.execute_decision(dispute_id, by=BOB)
        assert usdt.functions.balanceOf(a[7]).call() == before + 5 * 10**6
        proposed = next(e for e in engine.history(dispute_id) if e.name == "DecisionProposed")
        assert proposed.data["overrides"] == ["amount", "checklist", "status"]
    finally:
        engine.shutdown()


def test_payouts_over_the_assets_limits_are_refused_and_nothing_is_paid(
    db_url: str, now_clock: FakeClock, node: Anvil
):
    a = node.accounts
    token = node.deploy_token("TUSD", 6)
    limits = {"TUSD": PayoutLimit(per_payout=Decimal(10), per_day=Decimal(15))}
    engine = paying_engine(db_url, now_clock, node, payout_limits=limits)

    def approved(units: int) -> Any:
        dispute_id = file_dispute(engine, ALICE, transaction=token_claim(node, token, units))
        engine.assign(dispute_id, investigator="alice", by=ALICE)
        assert engine.look_up_transaction(dispute_id, by=ALICE).mismatches == []
        engine.propose_decision(
            dispute_id,
            ProposeDecision(outcome="refund", rationale="r", overrides=["checklist"]),
            by=ALICE,
        )
        engine.approve_decision(dispute_id, by=BOB)
        return dispute_id

    try:
        large, first, second = approved(12_500_000), approved(8_000_000), approved(8_000_000)
        balance = token.functions.balanceOf(a[6]).call()
        with pytest.raises(PayoutRefused, match="per payout") as refused:
            engine.execute_decision(large, by=BOB)
        assert refused.value.reason == "per_payout"
        engine.execute_decision(first, by=BOB)
        with pytest.raises(PayoutRefused, match="per day") as refused:
            engine.execute_decision(second, by=BOB)
        assert refused.value.reason == "per_day"
        assert token.functions.balanceOf(a[6]).call() == balance + 8_000_000
        assert [engine.get(i).status for i in (large, first, second)] == [
            "approved",
            "resolved",
            "approved",
        ]
        now_clock.advance(timedelta(days=1))  # a new day has room again
        engine.execute_decision(second, by=BOB)
        assert token.functions.balanceOf(a[6]).call() == balance + 16_000_000
    finally:
        engine.shutdown()
