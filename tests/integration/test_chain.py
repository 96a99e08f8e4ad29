"""Chain truth on a real node (anvil): facts, mismatches, finality, reorgs, faults, refunds."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, ProposeDecision, Role, Settings
from dispute_engine.cli import app
from dispute_engine.domain.review import DEFAULT_APPROVAL_POLICY
from dispute_engine.errors import ChainUnavailable, InvalidInput
from dispute_engine.ports import PayoutInstruction
from tests.chain_node import ANVIL_CHAIN_ID, TEST_TOKENS, Anvil, anvil, free_port
from tests.conftest import FakeClock
from tests.factories import file_dispute, stored_rows

ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
# anvil's first dev account; its key is public test data.
HOT_WALLET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture
def node() -> Iterator[Anvil]:
    with anvil() as running:
        yield running


@pytest.fixture
def now_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC) + timedelta(minutes=5))


def open_engine(db_url: str, clock: FakeClock, url: str, **settings: Any) -> DisputeEngine:
    return DisputeEngine.open(
        db_url,
        clock=clock,
        # The test token has a threshold, as a desk sets one for each asset it pays in:
        # an asset without one needs two approvals.
        settings=Settings(
            chains={ANVIL_CHAIN_ID: url},
            tokens=TEST_TOKENS,
            second_approval_above={
                **DEFAULT_APPROVAL_POLICY.second_approval_above,
                "TUSD": Decimal(10_000),
            },
            **settings,
        ),
    )


@pytest.fixture
def engine_on_chain(db_url: str, now_clock: FakeClock, node: Anvil) -> Iterator[DisputeEngine]:
    engine = open_engine(db_url, now_clock, node.url)
    yield engine
    engine.shutdown()


def claim_for(node: Anvil, sent: str, **overrides: Any) -> dict[str, Any]:
    """The claim that tells the truth about a sent transaction, but for the overrides."""
    tx = node.web3.eth.get_transaction(sent)  # type: ignore[arg-type]
    occurred = datetime.fromtimestamp(node.block_time(sent), UTC).isoformat()
    return {
        "chain_id": ANVIL_CHAIN_ID,
        "tx_hash": sent,
        "asset": "ETH",
        "token_address": None,
        "amount": str(Decimal(tx["value"]).scaleb(-18)),
        "sender": tx["from"],
        "recipient": tx["to"],
        "occurred_at": occurred,
        **overrides,
    }


def test_a_true_claim_has_no_mismatches(engine_on_chain: DisputeEngine, node: Anvil):
    a = node.accounts
    tx_hash = node.send(a[1], a[2], 10**18)
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction=claim_for(node, tx_hash))
    facts = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    assert facts.status == "success"
    assert facts.mismatches == []
    assert facts.value == Decimal(1)
    assert facts.sender == a[1]
    assert facts.block_number == node.web3.eth.block_number
    assert engine_on_chain.get(dispute_id).chain_facts == facts
    assert engine_on_chain.history(dispute_id)[-1].name == "TransactionLookedUp"


@pytest.mark.parametrize(
    ("field", "mismatch"),
    [
        ("recipient", "recipient"),
        ("amount", "amount"),
        ("asset", "asset"),
        ("time", "time"),
        ("sender", "sender"),
    ],
)
def test_each_contradicted_claim_field_is_a_mismatch(
    engine_on_chain: DisputeEngine, node: Anvil, field: str, mismatch: str
):
    a = node.accounts
    tx_hash = node.send(a[1], a[2], 10**18)
    claim = claim_for(node, tx_hash)
    wrong: dict[str, Any] = {
        "recipient": {"recipient": a[3]},
        "amount": {"amount": "1.000000000000000001"},
        "asset": {
            "asset": "USDT",
            "token_address": "0xdAC17F958D2ee523a2206206994597C13D831ec7",
            "amount": "1",
        },
        "time": {
            "occurred_at": (
                datetime.fromisoformat(claim["occurred_at"]) - timedelta(hours=3)
            ).isoformat()
        },
        "sender": {"sender": a[4]},
    }[field]
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction={**claim, **wrong})
    facts = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    assert facts.mismatches == [mismatch]


def test_an_erc20_claim_is_matched_against_its_transfer_log(
    engine_on_chain: DisputeEngine, node: Anvil
):
    a = node.accounts
    token = node.deploy_token("TUSD", 6)
    tx_hash = node.token_transfer(token, a[0], a[5], 125_500_000)
    claim = claim_for(
        node,
        tx_hash,
        asset="TUSD",
        decimals=6,
        token_address=token.address,
        amount="125.5",
        recipient=a[5],
    )
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction=claim)
    facts = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    assert facts.mismatches == []
    assert facts.value == Decimal("125.5")
    (transfer,) = facts.token_transfers
    assert (transfer.symbol, transfer.amount, transfer.recipient) == (
        "TUSD",
        Decimal("125.5"),
        a[5],
    )

    short = file_dispute(engine_on_chain, ALICE, transaction={**claim, "amount": "125.500001"})
    assert engine_on_chain.look_up_transaction(short, by=ALICE).mismatches == ["amount"]


def test_a_reverted_transaction_is_a_status_mismatch(engine_on_chain: DisputeEngine, node: Anvil):
    a = node.accounts
    token = node.deploy_token()
    tx_hash = node.token_transfer(token, a[7], a[5], 1, gas=100_000)  # a[7] holds no tokens
    claim = claim_for(
        node,
        tx_hash,
        asset="TUSD",
        decimals=6,
        token_address=token.address,
        amount="0.000001",
        recipient=a[5],
    )
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction=claim)
    facts = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    assert facts.status == "failed"
    assert "status" in facts.mismatches
    assert facts.token_transfers == []


def test_an_unknown_hash_is_a_fact_not_an_error(engine_on_chain: DisputeEngine, node: Anvil):
    a = node.accounts
    tx_hash = node.send(a[1], a[2], 1)
    claim = claim_for(node, tx_hash, tx_hash="0x" + "42" * 32)
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction=claim)
    facts = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    assert facts.status == "not_found"
    assert facts.mismatches == ["status"]


def test_a_pending_transaction_is_seen_as_pending(db_url: str, now_clock: FakeClock):
    with anvil("--no-mining") as node:
        a = node.accounts
        tx_hash = node.send(a[1], a[2], 10**18)
        engine = open_engine(db_url, now_clock, node.url)
        try:
            claim = claim_for_pending(node, tx_hash)
            dispute_id = file_dispute(engine, ALICE, transaction=claim)
            facts = engine.look_up_transaction(dispute_id, by=ALICE)
            assert facts.status == "pending"
            assert facts.mismatches == ["status"]
            assert facts.block_number is None
            node.rpc("evm_mine")
            assert engine.recheck_unfinalized(by=ALICE) == [dispute_id]
            assert engine.get(dispute_id).chain_facts.status == "success"  # type: ignore[union-attr]
        finally:
            engine.shutdown()


def claim_for_pending(node: Anvil, tx_hash: str) -> dict[str, Any]:
    tx = node.web3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    return {
        "chain_id": ANVIL_CHAIN_ID,
        "tx_hash": tx_hash,
        "asset": "ETH",
        "amount": "1",
        "token_address": None,
        "sender": tx["from"],
        "recipient": tx["to"],
        "occurred_at": datetime.now(UTC).isoformat(),
    }


def test_finality_comes_from_the_nodes_finalized_block(db_url: str, now_clock: FakeClock):
    with anvil("--slots-in-an-epoch", "1") as node:
        engine = open_engine(db_url, now_clock, node.url)
        try:
            a = node.accounts
            tx_hash = node.send(a[1], a[2], 10**18)
            dispute_id = file_dispute(engine, ALICE, transaction=claim_for(node, tx_hash))
            first = engine.look_up_transaction(dispute_id, by=ALICE)
            assert not first.finalized
            assert engine.recheck_unfinalized(by=ALICE) == []  # nothing new: nothing recorded
            for _ in range(3):
                node.rpc("evm_mine")
            assert engine.recheck_unfinalized(by=ALICE) == [dispute_id]
            final = engine.get(dispute_id).chain_facts
            assert final is not None
            assert final.finalized
            assert final.confirmations == 4
            assert final.lookup == 2
        finally:
            engine.shutdown()


def test_a_reorg_that_drops_the_transaction_supersedes_the_old_facts(
    engine_on_chain: DisputeEngine, node: Anvil
):
    a = node.accounts
    tx_hash = node.send(a[1], a[2], 10**18)
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction=claim_for(node, tx_hash))
    before = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    assert before.status == "success"
    node.rpc("anvil_rollback", 1)  # the block holding the transaction is gone
    node.rpc("anvil_dropAllTransactions")
    assert engine_on_chain.recheck_unfinalized(by=ALICE) == [dispute_id]
    after = engine_on_chain.get(dispute_id).chain_facts
    assert after is not None
    assert after.status == "not_found"
    assert after.lookup == 2
    lookups = [e for e in engine_on_chain.history(dispute_id) if e.name == "TransactionLookedUp"]
    assert [e.data["facts"]["status"] for e in lookups] == ["success", "not_found"]
    assert lookups[1].data["supersedes"] == 1


def test_a_reorg_that_moves_the_transaction_to_another_block_supersedes_the_old_facts(
    engine_on_chain: DisputeEngine, node: Anvil
):
    a = node.accounts
    tx_hash = node.send(a[1], a[2], 10**18)
    dispute_id = file_dispute(engine_on_chain, ALICE, transaction=claim_for(node, tx_hash))
    before = engine_on_chain.look_up_transaction(dispute_id, by=ALICE)
    raw = node.rpc("eth_getRawTransactionByHash", tx_hash)
    node.rpc("anvil_reorg", 1, [[raw, 0]])  # the block is replaced by one holding the same tx
    assert engine_on_chain.recheck_unfinalized(by=ALICE) == [dispute_id]
    after = engine_on_chain.get(dispute_id).chain_facts
    assert after is not None
    assert (after.status, after.block_number) == ("success", before.block_number)
    assert after.block_hash != before.block_hash
    lookups = [e for e in engine_on_chain.history(dispute_id) if e.name == "TransactionLookedUp"]
    assert [e.data["facts"]["block_hash"] for e in lookups] == [before.block_hash, after.block_hash]
    assert lookups[1].data["supersedes"] == 1


def test_look_up_many_batches_and_one_unknown_hash_fails_nothing(
    engine_on_chain: DisputeEngine, node: Anvil
):
    a = node.accounts
    ids: list[UUID] = []
    for n in range(5):
        tx_hash = node.send(a[1], a[2], 10**15 * (n + 1))
        ids.append(file_dispute(engine_on_chain, ALICE, transaction=claim_for(node, tx_hash)))
    unknown = claim_for(node, node.send(a[1], a[2], 1), tx_hash="0x" + "43" * 32)
    ids.append(file_dispute(engine_on_chain, ALICE, transaction=unknown))
    results = engine_on_chain.look_up_many(ids, by=ALICE)
    assert [getattr(r, "status", r) for r in results] == ["success"] * 5 + ["not_found"]
    assert all(r.mismatches == [] for r in results[:5])  # type: ignore[union-attr]


def test_a_node_on_another_chain_is_refused(db_url: str, now_clock: FakeClock, node: Anvil):
    engine = DisputeEngine.open(db_url, clock=now_clock, chains={1: node.url})
    try:
        dispute_id = file_dispute(engine, ALICE)  # a chain 1 claim
        before = stored_rows(engine)
        with pytest.raises(ChainUnavailable, match="is on chain 31337"):
            engine.look_up_transaction(dispute_id, by=ALICE)
        assert stored_rows(engine) == before
    finally:
        engine.shutdown()


def test_a_chain_without_a_node_is_a_clear_error(engine_on_chain: DisputeEngine):
    dispute_id = file_dispute(engine_on_chain, ALICE)  # chain 1: not configured
    with pytest.raises(LookupError, match="no node is configured for chain 1"):
        engine_on_chain.look_up_transaction(dispute_id, by=ALICE)


class Garbage(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html>not json-rpc</html>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.mark.parametrize("kind", ["down", "garbage", "silent"])
def test_a_node_that_cannot_answer_is_unavailable_quickly_and_nothing_is_recorded(
    db_url: str, now_clock: FakeClock, kind: str, request: pytest.FixtureRequest
):
    url = {
        "down": lambda: f"http://127.0.0.1:{free_port()}",
        "garbage": lambda: request.getfixturevalue("garbage_url"),
        "silent": lambda: request.getfixturevalue("silent_url"),
    }[kind]()
    engine = open_engine(db_url, now_clock, url, chain_timeout_seconds=1)
    try:
        dispute_id = file_dispute(engine, ALICE, transaction={"chain_id": ANVIL_CHAIN_ID})
        before = stored_rows(engine)
        started = time.monotonic()
        with pytest.raises(ChainUnavailable):
            engine.look_up_transaction(dispute_id, by=ALICE)
        assert time.monotonic() - started < 10
        assert stored_rows(engine) == before
    finally:
        engine.shutdown()


def test_a_node_urls_credentials_and_api_key_never_appear_in_its_errors(
    db_url: str, now_clock: FakeClock, node: Anvil
):
    secret_path = "/v3/KEY-0123?apikey=KEY-4567"
    down = f"http://user:KEY-89@127.0.0.1:{free_port()}{secret_path}"
    on_another_chain = node.url.replace("://", "://user:KEY-89@") + secret_path
    for url, chain_id in ((down, ANVIL_CHAIN_ID), (on_another_chain, 1)):
        engine = DisputeEngine.open(db_url, clock=now_clock, chains={chain_id: url})
        try:
            dispute_id = file_dispute(engine, ALICE, transaction={"chain_id": chain_id})
            with pytest.raises(ChainUnavailable) as caught:
                engine.look_up_transaction(dispute_id, by=ALICE)
            assert "KEY-" not in str(caught.value)
            assert "127.0.0.1" in str(caught.value)
        finally:
            engine.shutdown()


def test_a_node_killed_mid_run_is_unavailable_then_recovers(db_url: str, now_clock: FakeClock):
    with anvil() as node:
        engine = open_engine(db_url, now_clock, node.url, chain_timeout_seconds=2)
        try:
            a = node.accounts
            tx_hash = node.send(a[1], a[2], 10**18)
            dispute_id = file_dispute(engine, ALICE, transaction=claim_for(node, tx_hash))
            node.stop()
            before = stored_rows(engine)
            with pytest.raises(ChainUnavailable):
                engine.look_up_transaction(dispute_id, by=ALICE)
            assert stored_rows(engine) == before
        finally:
            engine.shutdown()


def test_malformed_hashes_never_reach_the_node(engine_on_chain: DisputeEngine, node: Anvil):
    with pytest.raises(InvalidInput):
        file_dispute(
            engine_on_chain, ALICE, transaction={"chain_id": ANVIL_CHAIN_ID, "tx_hash": "0x1234"}
        )


def refund_engine(db_url: str, clock: FakeClock, node: Anvil) -> DisputeEngine:
    return open_engine(db_url, clock, node.url, hot_wallet_key=SecretStr(HOT_WALLET_KEY))


def test_a_refund_is_paid_on_chain_exactly_once_across_a_crash_and_retry(
    db_url: str, now_clock: FakeClock, node: Anvil
):
    a = node.accounts
    claimant = a[6]
    tx_hash = node.send(claimant, a[2], 2 * 10**18)
    engine = refund_engine(db_url, now_clock, node)
    try:
        dispute_id = file_dispute(engine, ALICE, transaction=claim_for(node, tx_hash))
        engine.assign(dispute_id, investigator="alice", by=ALICE)
        assert engine.look_up_transaction(dispute_id, by=ALICE).mismatches == []
        engine.propose_decision(
            dispute_id,
            ProposeDecision(
                outcome="refund", rationale="sent to a dead address", overrides=["checklist"]
            ),
            by=ALICE,
        )
        engine.approve_decision(dispute_id, by=BOB)
        balance = node.web3.eth.get_balance(claimant)  # type: ignore[arg-type]
        hot = engine._core.payout_gateway.address  # type: ignore[attr-defined]
        nonce = node.web3.eth.get_transaction_count(hot)

        # The transfer is recorded and sent, then the process dies before saving its event.
        view = engine.get(dispute_id)
        first = engine._core.payout_gateway.pay(
            PayoutInstruction(
                key=f"{dispute_id}:1",
                dispute_id=dispute_id,
                decision_number=1,
                outcome="refund",
                claimant_id=view.claim.claimant_id,
                chain_id=ANVIL_CHAIN_ID,
                asset="ETH",
                token_address=None,
                decimals=18,
                units=2 * 10**18,
                to_address=claimant,
            )
        )
        reference = engine.execute_decision(dispute_id, by=BOB)  # the retry
        assert reference == first.reference
        assert node.web3.eth.get_balance(claimant) == balance + 2 * 10**18  # type: ignore[arg-type]
        assert node.web3.eth.get_transaction_count(hot) == nonce + 1
        assert engine.get(dispute_id).payouts[0].reference == reference
    finally:
        engine.shutdown()


def test_an_erc20_refund_transfers_the_token(db_url: str, now_clock: FakeClock, node: Anvil):
    a = node.accounts
    token = node.deploy_token("TUSD", 6)  # minted to a[0], the hot wallet
    node.token_transfer(token, a[0], a[6], 50_000_000)
    tx_hash = node.token_transfer(token, a[6], a[5], 30_000_000)
    claim = claim_for(
        node,
        tx_hash,
        asset="TUSD",
        decimals=6,
        token_address=token.address,
        amount="30",
        recipient=a[5],
    )
    engine = refund_engine(db_url, now_clock, node)
    try:
        dispute_id = file_dispute(engine, ALICE, transaction=claim)
        engine.assign(dispute_id, investigator="alice", by=ALICE)
        assert engine.look_up_transaction(dispute_id, by=ALICE).mismatches == []
        engine.propose_decision(
            dispute_id,
            ProposeDecision(
                outcome="partial_refund",
                amount="12.5",
                rationale="fee kept",
                overrides=["checklist"],
            ),
            by=ALICE,
        )
        engine.approve_decision(dispute_id, by=BOB)
        before = token.functions.balanceOf(a[6]).call()
        engine.execute_decision(dispute_id, by=BOB)
        assert token.functions.balanceOf(a[6]).call() == before + 12_500_000
    finally:
        engine.shutdown()


def test_the_cli_looks_up_and_rechecks_with_chains_from_the_environment(db_url: str):
    with anvil("--slots-in-an-epoch", "1") as node:
        a = node.accounts
        tx_hash = node.send(a[1], a[2], 10**18)
        engine = DisputeEngine.open(db_url)
        try:
            dispute_id = file_dispute(engine, ALICE, transaction=claim_for(node, tx_hash))
        finally:
            engine.shutdown()
        env = {"DISPUTE_ENGINE_CHAINS": json.dumps({str(ANVIL_CHAIN_ID): node.url})}
        check_cli_lookup_and_recheck(node, env, db_url, str(dispute_id))


def check_cli_lookup_and_recheck(node: Anvil, env: dict[str, str], db_url: str, dispute_id: str):
    runner = CliRunner()
    result = runner.invoke(
        app, ["chain", "lookup", dispute_id, "--db", db_url, "--actor", "alice"], env=env
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("success, block 1, final False; mismatches: none")
    for _ in range(3):
        node.rpc("evm_mine")
    result = runner.invoke(
        app, ["chain", "recheck", "--db", db_url, "--json", "--actor", "alice"], env=env
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [dispute_id]
