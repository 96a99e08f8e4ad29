"""A real local chain for tests: Foundry's anvil from the npm package under .tools/."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from web3 import Web3

ROOT = Path(__file__).parents[1]
BINARIES = [
    ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil",
    ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-arm64/bin/anvil",
    ROOT / ".tools/node_modules/.bin/anvil",
]
TOKEN = json.loads((ROOT / "chain/data/TestToken.json").read_text(encoding="utf-8"))
ANVIL_CHAIN_ID = 31337
# The first contract a fresh anvil deploys from its first account: the test token, which the
# chain tests register the way an operator would, through DISPUTE_ENGINE_TOKENS.
TEST_TOKEN_ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TEST_TOKENS = {ANVIL_CHAIN_ID: [{"symbol": "TUSD", "address": TEST_TOKEN_ADDRESS, "decimals": 6}]}


def anvil_binary() -> Path:
    """The anvil binary; skips without it, except in CI, where its absence fails."""
    for path in BINARIES:
        if path.exists():
            return path
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("anvil is required in CI: run `make tools`")
    pytest.skip("anvil is not installed: run `make tools`")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def anvil(*args: str) -> Iterator[Anvil]:
    """Start anvil on a free loopback port; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--silent", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    node = Anvil(f"http://127.0.0.1:{port}", process, automine="--no-mining" not in args)
    try:
        node.wait_ready()
        yield node
    finally:
        node.stop()


class Anvil:
    """A running anvil node and the calls tests make on it."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], *, automine: bool) -> None:
        self.url = url
        self.process = process
        self.automine = automine
        self.web3 = Web3(Web3.HTTPProvider(url))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1,
                ).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("anvil did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def rpc(self, method: str, *params: Any) -> Any:
        return self.web3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]

    @property
    def accounts(self) -> list[str]:
        return list(self.web3.eth.accounts)

    def send(self, sender: str, to: str, value: int) -> str:
        tx_hash = self.web3.eth.send_transaction({"from": sender, "to": to, "value": value})
        return self._mined("0x" + bytes(tx_hash).hex())

    def _mined(self, tx_hash: str) -> str:
        """The hash, once its block is there (anvil mines just after answering a send)."""
        if self.automine:
            self.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)  # type: ignore[arg-type]
        return tx_hash

    def deploy_token(self, symbol: str = "TUSD", decimals: int = 6) -> Any:
        contract = self.web3.eth.contract(abi=TOKEN["abi"], bytecode=TOKEN["bytecode"])
        tx_hash = contract.constructor(f"Test {symbol}", symbol, decimals, 10**30).transact(
            {"from": self.accounts[0]}
        )
        address = self.web3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"]
        return self.web3.eth.contract(address=address, abi=TOKEN["abi"])

    def token_transfer(self, token: Any, sender: str, to: str, units: int, gas: int = 0) -> str:
        options: dict[str, Any] = {"from": sender}
        if gas:
            options["gas"] = gas  # skip estimation, so a reverting call is still sent
        tx_hash = token.functions.transfer(to, units).transact(options)
        return self._mined("0x" + bytes(tx_hash).hex())

    def block_time(self, tx_hash: str) -> int:
        receipt = self.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return int(self.web3.eth.get_block(receipt["blockNumber"])["timestamp"])
