"""Contract wallets prove control through EIP-1271 on a real node (anvil)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from chain.client import ChainClient
from chain.wallet_signature import WalletProof, eip1271_valid, verify_wallet_signature
from dispute_engine.domain.wallet_challenge import WalletChallenge
from dispute_engine.errors import ChainMismatch, ChainUnavailable, SignatureRefused
from dispute_engine.networks import network
from tests.chain_node import ANVIL_CHAIN_ID, Anvil, anvil, free_port

WALLETS = json.loads((Path(__file__).parents[1] / "data/ContractWallet.json").read_text())
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NONCE = "n0nce0123456789abcdef"
OWNER = Account.from_key("0x" + "11" * 32)
STRANGER = Account.from_key("0x" + "22" * 32)


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with anvil() as running:
        yield running


@pytest.fixture(scope="module")
def client(node: Anvil) -> ChainClient:
    return ChainClient(network(ANVIL_CHAIN_ID), node.url, timeout=5)


def deploy(node: Anvil, name: str, *args: Any) -> str:
    compiled = WALLETS[name]
    contract = node.web3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    tx_hash = contract.constructor(*args).transact({"from": node.accounts[0]})
    return str(node.web3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"])


@pytest.fixture(scope="module")
def wallet(node: Anvil) -> str:
    return deploy(node, "ContractWallet", OWNER.address)


def message_for(address: str, chain_id: int = ANVIL_CHAIN_ID) -> str:
    return WalletChallenge.issue(
        domain="support.wallet.example",
        address=address,
        chain_id=chain_id,
        dispute_id=UUID("abcdef12-1234-5678-1234-567812345678"),
        nonce=NONCE,
        now=NOW,
    ).message


def personal_sign(account: Any, message: str) -> str:
    return "0x" + bytes(account.sign_message(encode_defunct(text=message)).signature).hex()


def verify(message: str, signature: str, address: str, client: ChainClient | None) -> WalletProof:
    return verify_wallet_signature(
        message,
        signature,
        address=address,
        now=NOW + timedelta(minutes=1),
        issued={NONCE},
        used=set(),
        client=client,
    )


@pytest.mark.anvil
def test_a_contract_wallet_owners_signature_proves_control_of_the_wallet(
    client: ChainClient, wallet: str
):
    message = message_for(wallet)
    assert verify(message, personal_sign(OWNER, message), wallet, client) is WalletProof.EIP1271


@pytest.mark.anvil
def test_a_contract_wallet_refuses_a_strangers_signature(client: ChainClient, wallet: str):
    message = message_for(wallet)
    with pytest.raises(SignatureRefused, match="not by the claimed sender"):
        verify(message, personal_sign(STRANGER, message), wallet, client)


@pytest.mark.anvil
def test_without_a_node_a_contract_wallet_cannot_prove_control(wallet: str):
    message = message_for(wallet)
    with pytest.raises(SignatureRefused):
        verify(message, personal_sign(OWNER, message), wallet, None)


@pytest.mark.anvil
def test_a_signature_the_wallet_does_not_know_how_to_read_is_refused(
    client: ChainClient, wallet: str
):
    # Longer than one ECDSA signature: the wallet answers "invalid", not a malformed request.
    message = message_for(wallet)
    with pytest.raises(SignatureRefused):
        verify(message, personal_sign(OWNER, message) + "00", wallet, client)


@pytest.mark.anvil
def test_a_wallet_whose_check_reverts_is_refused(node: Anvil, client: ChainClient):
    reverting = deploy(node, "RevertingWallet")
    message = message_for(reverting)
    assert not eip1271_valid(client, reverting, message, b"\x01" * 65)
    with pytest.raises(SignatureRefused):
        verify(message, personal_sign(OWNER, message), reverting, client)


@pytest.mark.anvil
def test_an_account_without_code_is_not_a_contract_wallet(node: Anvil, client: ChainClient):
    empty = node.accounts[5]
    message = message_for(empty)
    assert not eip1271_valid(client, empty, message, b"\x01" * 65)
    with pytest.raises(SignatureRefused):
        verify(message, personal_sign(OWNER, message), empty, client)


@pytest.mark.anvil
def test_a_plain_wallet_is_checked_without_asking_the_node():
    down = ChainClient(network(ANVIL_CHAIN_ID), f"http://127.0.0.1:{free_port()}", timeout=1)
    message = message_for(OWNER.address)
    proof = verify(message, personal_sign(OWNER, message), OWNER.address, down)
    assert proof is WalletProof.PERSONAL_SIGN


@pytest.mark.anvil
def test_a_contract_wallet_with_the_node_down_is_unavailable_not_refused(wallet: str):
    down = ChainClient(network(ANVIL_CHAIN_ID), f"http://127.0.0.1:{free_port()}", timeout=1)
    message = message_for(wallet)
    with pytest.raises(ChainUnavailable):
        verify(message, personal_sign(OWNER, message), wallet, down)


@pytest.mark.anvil
def test_a_challenge_for_another_chain_is_not_checked_on_this_one(client: ChainClient, wallet: str):
    message = message_for(wallet, chain_id=1)
    with pytest.raises(ChainMismatch):
        verify(message, personal_sign(OWNER, message), wallet, client)


@pytest.mark.anvil
def test_a_node_that_never_answers_is_unavailable_within_its_timeout(wallet: str):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    try:
        silent = ChainClient(
            network(ANVIL_CHAIN_ID), f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=1
        )
        message = message_for(wallet)
        started = time.monotonic()
        with pytest.raises(ChainUnavailable):
            verify(message, personal_sign(OWNER, message), wallet, silent)
        assert time.monotonic() - started < 10
    finally:
        listener.close()
