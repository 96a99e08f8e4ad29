"""An in-process chain with funded accounts and a demo token, for demos and tutorials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from web3 import Web3
from web3.types import Wei

from chain.lookup import Web3TransactionLookup
from dispute_engine.domain.errors import ChainNotConfigured
from dispute_engine.networks import ETH_TESTER_CHAIN_ID
from dispute_engine.ports import TransactionLookup

# eth-tester's first account; its key is public, and it holds the demo's hot wallet.
SANDBOX_HOT_WALLET_KEY = "0x" + "00" * 31 + "01"
TOKEN_ARTIFACT = Path(__file__).parent / "data" / "TestToken.json"


def _hash(tx_hash: bytes) -> str:
    return "0x" + bytes(tx_hash).hex()


class ChainPart(Protocol):
    """The engine's chain collaborator, as far as the sandbox needs it."""

    @property
    def transaction_lookup(self) -> TransactionLookup | None:
        """The lookup over the engine's chain clients, None without chains."""
        ...


class WithChains(Protocol):
    """An engine, as far as the sandbox needs it: its chain collaborator."""

    @property
    def chain(self) -> ChainPart:
        """What asks the chain (``engine.chain``)."""
        ...


class Sandbox:
    """Real transactions on web3's in-process chain (EthereumTesterProvider)."""

    chain_id = ETH_TESTER_CHAIN_ID

    def __init__(self, web3: Web3) -> None:
        self.web3 = web3
        self.accounts: list[str] = list(web3.eth.accounts)
        self._token_artifact: dict[str, Any] = json.loads(
            TOKEN_ARTIFACT.read_text(encoding="utf-8")
        )
        self._tokens: dict[str, Any] = {}

    @classmethod
    def of(cls, engine: WithChains) -> Sandbox:
        """The in-process chain an engine opened with ``chains={chain_id: "eth-tester://"}``.

        Raises ChainNotConfigured when the engine has no in-process chain.
        """
        lookup = engine.chain.transaction_lookup
        if not isinstance(lookup, Web3TransactionLookup):
            raise ChainNotConfigured("the engine has no chains: open it with chains=...")
        return cls(lookup.client(cls.chain_id).web3)

    def send(self, sender: str, to: str, wei: int, gas: int = 0) -> str:
        """Send native coin, with a gas limit when given; returns the transaction hash."""
        tx: dict[str, Any] = {"from": sender, "to": to, "value": Wei(wei)}
        if gas:
            tx["gas"] = gas
        return _hash(self.web3.eth.send_transaction(tx))  # type: ignore[arg-type]

    def token(self, symbol: str, decimals: int) -> str:
        """Deploy (once) a token held by the first account; returns its address."""
        if symbol not in self._tokens:
            contract = self.web3.eth.contract(
                abi=self._token_artifact["abi"], bytecode=self._token_artifact["bytecode"]
            )
            tx = contract.constructor(f"Demo {symbol}", symbol, decimals, 10**30).transact(
                {"from": self.accounts[0]}
            )
            address = self.web3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
            self._tokens[symbol] = self.web3.eth.contract(
                address=address, abi=self._token_artifact["abi"]
            )
        return str(self._tokens[symbol].address)

    def transfer(self, symbol: str, sender: str, to: str, units: int, gas: int = 0) -> str:
        """Transfer tokens; with ``gas`` the call is sent even if it will revert."""
        options: dict[str, Any] = {"from": sender}
        if gas:
            options["gas"] = gas
        return _hash(self._tokens[symbol].functions.transfer(to, units).transact(options))

    def balance(self, symbol: str, owner: str) -> int:
        """A token balance in base units."""
        return int(self._tokens[symbol].functions.balanceOf(owner).call())
