"""A batch answer with an error for one call: that entry fails, it is never a false fact."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chain.lookup import Web3TransactionLookup
from dispute_engine.domain.chain_facts import ChainFacts
from dispute_engine.errors import ChainUnavailable
from tests.chain_node import ANVIL_CHAIN_ID, Anvil, anvil

NODE_ERROR = {"code": -32000, "message": "header not found"}


class Faults:
    """Which (method, first param) calls the proxy answers with an error instead of the node."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, Any]] = set()

    def apply(self, request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        params = request.get("params") or [None]
        if (request["method"], params[0]) in self.calls:
            return {"jsonrpc": "2.0", "id": request["id"], "error": NODE_ERROR}
        return response


@pytest.fixture
def node() -> Iterator[Anvil]:
    with anvil() as running:
        yield running


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def proxy_url(node: Anvil, faults: Faults) -> Iterator[str]:
    """A loopback JSON-RPC proxy in front of anvil that injects the configured errors."""

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = requests.post(node.url, json=body, timeout=10).json()
            if isinstance(body, list):
                by_id = {r["id"]: r for r in answer}
                answer = [faults.apply(call, by_id[call["id"]]) for call in body]
            else:
                answer = faults.apply(body, answer)
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def payments(node: Anvil, count: int) -> list[str]:
    a = node.accounts
    return [node.send(a[1], a[2], 10**15 * (n + 1)) for n in range(count)]


def test_an_error_for_one_transaction_fails_that_entry_not_the_batch_nor_a_false_not_found(
    node: Anvil, faults: Faults, proxy_url: str
) -> None:
    hashes = payments(node, 3)
    faults.calls.add(("eth_getTransactionByHash", hashes[1]))
    results = Web3TransactionLookup({ANVIL_CHAIN_ID: proxy_url}).look_up_many(
        [(ANVIL_CHAIN_ID, h) for h in hashes]
    )
    assert isinstance(results[1], ChainUnavailable)
    assert [getattr(r, "status", None) for r in (results[0], results[2])] == ["success"] * 2


def test_an_error_for_one_receipt_is_never_read_as_a_pending_transaction(
    node: Anvil, faults: Faults, proxy_url: str
) -> None:
    hashes = payments(node, 2)
    faults.calls.add(("eth_getTransactionReceipt", hashes[0]))
    results = Web3TransactionLookup({ANVIL_CHAIN_ID: proxy_url}).look_up_many(
        [(ANVIL_CHAIN_ID, h) for h in hashes]
    )
    assert isinstance(results[0], ChainUnavailable)
    assert isinstance(results[1], ChainFacts)
    assert results[1].status == "success"


def test_an_error_for_a_block_is_never_read_as_facts_without_a_time(
    node: Anvil, faults: Faults, proxy_url: str
) -> None:
    (tx_hash,) = payments(node, 1)
    block = node.web3.eth.get_transaction(tx_hash)["blockHash"]  # type: ignore[arg-type]
    faults.calls.add(("eth_getBlockByHash", block.to_0x_hex()))
    (result,) = Web3TransactionLookup({ANVIL_CHAIN_ID: proxy_url}).look_up_many(
        [(ANVIL_CHAIN_ID, tx_hash)]
    )
    assert isinstance(result, ChainUnavailable)


def test_an_error_for_the_latest_block_fails_the_chunk_as_unavailable(
    node: Anvil, faults: Faults, proxy_url: str
) -> None:
    hashes = payments(node, 2)
    faults.calls.add(("eth_blockNumber", None))
    results = Web3TransactionLookup({ANVIL_CHAIN_ID: proxy_url}).look_up_many(
        [(ANVIL_CHAIN_ID, h) for h in hashes]
    )
    assert all(isinstance(r, ChainUnavailable) for r in results)
