"""What the application needs from the outside world, as Protocols.

Adapters (``chain/``, the storage adapters) implement these; the domain never sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dispute_engine.domain.chain_facts import ChainFacts
from dispute_engine.domain.errors import DisputeEngineError


class Clock(Protocol):
    """The engine's "now": an aware datetime."""

    def __call__(self) -> datetime: ...


class TransactionLookup(Protocol):
    """What the chain says happened to transactions."""

    def look_up(self, chain_id: int, tx_hash: str) -> ChainFacts:
        """The facts of one transaction; an unknown hash is a fact (``not_found``).

        Raises ChainUnavailable when the node cannot answer in time.
        """
        ...

    def look_up_many(
        self, requests: Sequence[tuple[int, str]]
    ) -> list[ChainFacts | DisputeEngineError]:
        """Facts for many (chain id, hash) pairs; a failure fails only its own entries."""
        ...


class AssetRegistry(Protocol):
    """The assets known on each chain, and their decimals."""

    def decimals(self, chain_id: int, asset: str, token_address: str | None) -> int | None:
        """The decimals of the token at ``token_address`` (or, without one, of the chain's
        native asset or well-known token named ``asset``); None when the chain does not know it.
        """
        ...


class TokenDecimals(Protocol):
    """What a token contract says its decimals are."""

    def __call__(self, chain_id: int, token_address: str) -> int | None:
        """The contract's ``decimals()``, None when it has none.

        Raises ChainUnavailable when the node cannot answer.
        """
        ...


class EvidenceStore(Protocol):
    """Content-addressed storage of evidence bytes."""

    def put(self, content: bytes) -> str:
        """Store the bytes (once, however often called) and return their sha256 hex."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes with that digest. Raises KeyError when unknown."""
        ...


@dataclass(frozen=True)
class PayoutInstruction:
    """One payment the engine asks the payout rail to make, keyed for exactly-once."""

    key: str
    dispute_id: UUID
    decision_number: int
    outcome: str
    claimant_id: str
    chain_id: int
    asset: str
    token_address: str | None
    decimals: int
    units: int
    to_address: str


@dataclass(frozen=True)
class PayoutReceipt:
    """What the payout rail did with an instruction."""

    key: str
    reference: str
    created: bool  # False when the rail had already seen the key: nothing was paid again


class PayoutGateway(Protocol):
    """Moves money to the claimant, at most once per instruction key."""

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        """Pay, or return the receipt of the earlier payment with the same key.

        Raises PayoutFailed when the rail refuses, ChainUnavailable when it cannot be reached.
        """
        ...
