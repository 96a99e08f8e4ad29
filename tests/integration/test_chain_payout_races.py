"""Refunds from two processes at once: each instruction is paid once, none fails untyped."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from dispute_engine import DisputeEngine, Settings
from dispute_engine.ports import PayoutInstruction, PayoutReceipt
from tests.chain_node import ANVIL_CHAIN_ID, TEST_TOKENS, Anvil, anvil

# anvil's first dev account; its key is public test data.
HOT_WALLET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
REFUND = 10**17


@pytest.fixture
def node() -> Iterator[Anvil]:
    with anvil() as running:
        yield running


@pytest.fixture
def two_processes(db_url: str, node: Anvil) -> Iterator[tuple[DisputeEngine, DisputeEngine]]:
    """Two engines on one database and one hot wallet, as two processes would be."""
    settings = Settings(
        chains={ANVIL_CHAIN_ID: node.url},
        hot_wallet_key=SecretStr(HOT_WALLET_KEY),
        tokens=TEST_TOKENS,
    )
    engines = [DisputeEngine.open(db_url, settings=settings) for _ in range(2)]
    yield engines[0], engines[1]
    for engine in engines:
        engine.shutdown()


def instruction(key: str, to: str) -> PayoutInstruction:
    return PayoutInstruction(
        key=key,
        dispute_id=uuid.uuid4(),
        decision_number=1,
        outcome="refund",
        claimant_id="c-1",
        chain_id=ANVIL_CHAIN_ID,
        asset="ETH",
        token_address=None,
        decimals=18,
        units=REFUND,
        to_address=to,
    )


def at_once(*calls: Callable[[], PayoutReceipt]) -> list[Any]:
    """Run the calls in threads released together; each result or the exception it raised."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the test asserts on whatever escaped
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_instruction_paid_by_two_processes_at_once_is_paid_once(
    two_processes: tuple[DisputeEngine, DisputeEngine], node: Anvil
) -> None:
    first, second = (e._core.payout_gateway for e in two_processes)
    claimant = node.accounts[7]
    balance = node.web3.eth.get_balance(claimant)  # type: ignore[arg-type]
    paid = instruction("refund-1", claimant)
    results = at_once(lambda: first.pay(paid), lambda: second.pay(paid))
    assert all(isinstance(r, PayoutReceipt) for r in results), results
    assert results[0].reference == results[1].reference
    assert sorted(r.created for r in results) == [False, True]
    node.web3.eth.wait_for_transaction_receipt(results[0].reference, timeout=10)
    assert node.web3.eth.get_balance(claimant) == balance + REFUND  # type: ignore[arg-type]


def test_two_instructions_paid_by_two_processes_at_once_are_both_paid(
    two_processes: tuple[DisputeEngine, DisputeEngine], node: Anvil
) -> None:
    first, second = (e._core.payout_gateway for e in two_processes)
    claimant = node.accounts[8]
    balance = node.web3.eth.get_balance(claimant)  # type: ignore[arg-type]
    results = at_once(
        lambda: first.pay(instruction("refund-a", claimant)),
        lambda: second.pay(instruction("refund-b", claimant)),
    )
    assert all(isinstance(r, PayoutReceipt) for r in results), results
    assert results[0].reference != results[1].reference
    for receipt in results:
        node.web3.eth.wait_for_transaction_receipt(receipt.reference, timeout=10)
    assert node.web3.eth.get_balance(claimant) == balance + 2 * REFUND  # type: ignore[arg-type]
