"""What the chain says happened to a transaction, and where it contradicts the claim."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field

from dispute_engine.domain.claim import Address, ClaimedTransaction, TxHash, UtcDatetime
from dispute_engine.domain.money import Money
from dispute_engine.domain.value_object import ValueObject

ChainStatus = Literal["success", "failed", "pending", "not_found"]
ModelT = TypeVar("ModelT", bound=BaseModel)


def with_addresses(facts: ModelT, swap: Callable[[str | None], str | None]) -> ModelT:
    """A copy of chain facts (or a view of them) with each address they name (sender,
    recipient, each transfer's token, sender and recipient) passed through ``swap``."""
    named: Any = facts
    transfers = [
        t.model_copy(
            update={
                "token_address": swap(t.token_address),
                "sender": swap(t.sender),
                "recipient": swap(t.recipient),
            }
        )
        for t in named.token_transfers
    ]
    return facts.model_copy(
        update={
            "sender": swap(named.sender),
            "recipient": swap(named.recipient),
            "token_transfers": type(named.token_transfers)(transfers),
        }
    )


Mismatch = Literal["status", "sender", "recipient", "asset", "decimals", "amount", "time"]
MISMATCH_ORDER: tuple[Mismatch, ...] = (
    "status",
    "sender",
    "recipient",
    "asset",
    "decimals",
    "amount",
    "time",
)
Units = Annotated[int, Field(ge=0, lt=2**256)]


class TokenTransfer(ValueObject):
    """One ERC-20 ``Transfer`` log of the transaction."""

    token_address: Address
    sender: Address
    recipient: Address
    units: Units
    decimals: int | None = None
    symbol: str | None = None
    log_index: int


class ChainFacts(ValueObject):
    """One observation of a transaction on its chain, at ``observed_at``."""

    chain_id: int
    tx_hash: TxHash
    status: ChainStatus
    block_number: int | None = None
    block_hash: str | None = None
    block_time: UtcDatetime | None = None
    confirmations: int = 0
    finalized: bool = False
    sender: Address | None = None
    recipient: Address | None = None
    native_units: Units = 0
    native_asset: str
    native_decimals: int
    token_transfers: tuple[TokenTransfer, ...] = ()
    observed_at: UtcDatetime

    @property
    def addresses(self) -> frozenset[str]:
        """Every address the facts name: sender, recipient, and each transfer's token,
        sender and recipient."""
        found = {self.sender, self.recipient}
        for t in self.token_transfers:
            found.update((t.token_address, t.sender, t.recipient))
        return frozenset(a for a in found if a is not None)

    def pseudonymized(self, real: str, pseudonym: str) -> ChainFacts:
        """The facts with every occurrence of the claimant's ``real`` address replaced by the
        ``pseudonym`` their dispute records, so they compare with its claim as before; every
        other address stays as the chain gave it."""

        def swap(address: str | None) -> str | None:
            same = address is not None and address.lower() == real.lower()
            return pseudonym if same else address

        return with_addresses(self, swap)

    def same_outcome(self, other: ChainFacts) -> bool:
        """Whether two observations agree on what happened (ignoring depth and time)."""
        keep = {"confirmations", "finalized", "observed_at"}
        return self.model_dump(exclude=keep) == other.model_dump(exclude=keep)


class Comparison(ValueObject):
    """The claim held against the facts: what the chain contradicts, and what it moved."""

    mismatches: tuple[Mismatch, ...]
    moved: Units | None  # base units of the claimed asset the chain shows moving, if any


def compare(
    claim: ClaimedTransaction, facts: ChainFacts, *, time_tolerance: timedelta
) -> Comparison:
    """Compare a claim with the chain: amounts exactly in base units; for tokens the
    matching ``Transfer`` log, not the transaction's native value."""
    if facts.status == "not_found":
        return Comparison(mismatches=("status",), moved=None)
    found: set[Mismatch] = set()
    if facts.status != "success":
        found.add("status")
    claimed = claim.money
    if claim.token_address is None:
        moved = _native(claim, claimed, facts, found)
    else:
        moved = _token(claim, claimed, facts, found)
    if facts.block_time is not None and abs(facts.block_time - claim.occurred_at) > time_tolerance:
        found.add("time")
    return Comparison(mismatches=tuple(m for m in MISMATCH_ORDER if m in found), moved=moved)


def _native(
    claim: ClaimedTransaction, claimed: Money, facts: ChainFacts, found: set[Mismatch]
) -> int | None:
    if facts.sender != claim.sender:
        found.add("sender")
    if facts.recipient != claim.recipient:
        found.add("recipient")
    if claimed.asset != facts.native_asset.upper() or (
        facts.native_units == 0 and facts.token_transfers
    ):
        found.add("asset")
        return None
    if claimed.decimals != facts.native_decimals:
        found.add("decimals")
        return None  # base units of two scales are not comparable
    if facts.native_units != claimed.units:
        found.add("amount")
    return facts.native_units


def _token(
    claim: ClaimedTransaction, claimed: Money, facts: ChainFacts, found: set[Mismatch]
) -> int | None:
    same_token = [t for t in facts.token_transfers if t.token_address == claim.token_address]
    if not same_token:
        if facts.sender != claim.sender:
            found.add("sender")
        # A reverted call to the claimed token leaves no logs: the asset is not contradicted.
        if not (facts.status == "failed" and facts.recipient == claim.token_address):
            found.add("asset")
        return None
    # The log that best fits the claim: same parties first, then the same recipient.
    best = max(
        same_token,
        key=lambda t: (
            t.sender == claim.sender,
            t.recipient == claim.recipient,
            t.units == claimed.units,
        ),
    )
    if best.sender != claim.sender:
        found.add("sender")
    if best.recipient != claim.recipient:
        found.add("recipient")
    if best.decimals is not None and best.decimals != claimed.decimals:
        # The token's own decimals() says the claim counts in another scale: its units are
        # not comparable with the claim's, so the chain vouches for no amount.
        found.update(("decimals", "amount"))
        return None
    if best.units != claimed.units:
        found.add("amount")
    return best.units


# The facts a money-moving decision must name in its overrides when the chain contradicts them.
Override = Literal["status", "recipient", "asset", "decimals", "amount", "no_lookup"]
OVERRIDABLE: tuple[Override, ...] = ("status", "recipient", "asset", "decimals", "amount")


def required_overrides(latest: Comparison | None) -> tuple[Override, ...]:
    """What a money-moving decision must override: ``no_lookup`` without facts, else each
    contradicted fact among status, recipient, asset, decimals and amount."""
    if latest is None:
        return ("no_lookup",)
    return tuple(m for m in OVERRIDABLE if m in latest.mismatches)


def verified_units(latest: Comparison | None) -> int:
    """The base units of the claimed asset the chain vouches for having moved: none without
    facts, and none for a transaction that did not succeed (a reverted call moves nothing)."""
    if latest is None or latest.moved is None or "status" in latest.mismatches:
        return 0
    return latest.moved


def finality(
    block_number: int | None,
    *,
    latest: int,
    finalized_block: int | None,
    required_confirmations: int,
) -> tuple[int, bool]:
    """Confirmations of a block and whether it is final: by the node's ``finalized`` tag
    where the node has one, else by the chain's confirmation depth."""
    if block_number is None:
        return 0, False
    confirmations = max(0, latest - block_number + 1)
    if finalized_block is not None:
        return confirmations, block_number <= finalized_block
    return confirmations, confirmations >= required_confirmations
