"""What the application needs from the outside world, as Protocols.

Adapters (``chain/``, the storage adapters) implement these; the domain never sees them.
"""

from __future__ import annotations

import threading
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from dispute_engine.domain.chain_facts import ChainFacts
from dispute_engine.domain.errors import DisputeEngineError
from dispute_engine.domain.quality import Grouping, QualityFigures

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder, Mapper, TrackingRecorder

    from dispute_engine.database import Database, StorageUrl
    from dispute_engine.domain.actor import Role
    from dispute_engine.domain.dispute import SlaCopy
    from dispute_engine.reports import DirectoryEntry, ReportRow


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

    def put_sealed(self, claimant_id: str, sha256: str, size: int, sealed: bytes) -> None:
        """Keep a claimant's sealed bytes under the sha256 of the plain bytes (once)."""
        ...

    def sealed(self, sha256: str) -> list[tuple[str, bytes]]:
        """Every claimant's sealed bytes kept under the digest, as (claimant id, sealed)."""
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


class EventSource(Protocol):
    """What read models need of the event store: nothing of the engine beyond it."""

    @property
    def db(self) -> Database:
        """The database the events and the views share."""
        ...

    @property
    def storage(self) -> StorageUrl:
        """Where that database is: its kind, its display name, its creation lock."""
        ...

    @property
    def creates(self) -> bool:
        """False when opened for reading only: views are read as a writer built them."""
        ...

    @property
    def recorder(self) -> ApplicationRecorder:
        """The event store's recorder: notifications in global order."""
        ...

    @property
    def mapper(self) -> Mapper[UUID]:
        """Turns stored events back into domain events."""
        ...

    def tracking_recorder(self) -> TrackingRecorder:
        """A new recorder of the positions the views have reached."""
        ...


class ReadModels(Protocol):
    """The views the engine reads (work queue, SLA clocks, audit log), over its events.

    Raises StorageUnavailable when the views cannot be built or read.
    """

    def catch_up(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Apply every event not yet applied; returns events applied per view."""
        ...

    def rebuild(self, name: str) -> int:
        """Throw a view away and build it again; returns events applied."""
        ...

    def follow(self, stop: threading.Event, *, interval: float = 0.5) -> None:
        """Keep the views current until ``stop`` is set."""
        ...

    def position(self, name: str) -> int:
        """The last event position applied to a view."""
        ...

    def work_queue_ids(
        self, *, status: str | None, assignee: str | None, queue: str | None = None
    ) -> list[str]:
        """Dispute ids, most urgent and oldest first, optionally by status, assignee, queue."""
        ...

    def staff_members(self, *, include_revoked: bool) -> list[DirectoryEntry]:
        """The staff directory's members by staff id; revoked ones unless told otherwise."""
        ...

    def next_disputes(
        self, *, staff_id: str, roles: Iterable[Role], languages: Iterable[str], limit: int
    ) -> list[str]:
        """Dispute ids for a member to take next: soonest SLA due time, then priority, in the
        languages they serve."""
        ...

    def needing_recheck(self) -> list[str]:
        """Open disputes whose latest chain facts are not final yet."""
        ...

    def sla_due(self, now: datetime) -> list[SlaCopy]:
        """The view's copies of disputes with an SLA warning or breach due by ``now``."""
        ...

    def sla_report(self, since: datetime, until: datetime) -> list[ReportRow]:
        """Met, breached, open and stopped clocks per metric and priority, started then."""
        ...

    def quality_report(self, by: Grouping | None) -> dict[str, QualityFigures]:
        """The quality figures overall or per group. Raises InvalidInput for a grouping."""
        ...

    def claimant_disputes(self, claimant: str) -> list[UUID]:
        """The disputes filed by a claimant (``claimant`` in canonical form), oldest first."""
        ...


class ReadModelsFactory(Protocol):
    """Builds the read models over an event source (wired in ``bootstrap``)."""

    def __call__(self, source: EventSource) -> ReadModels: ...


class WalletSignatures(Protocol):
    """Checks a claimant's signature over a wallet challenge (EIP-191, EIP-1271)."""

    def verify(
        self,
        message: str,
        signature: str,
        *,
        address: str,
        chain_id: int,
        now: datetime,
        issued: Container[str],
        used: Container[str],
    ) -> str:
        """How the wallet proved control. Raises MalformedSignature, SignatureRefused (and
        its ChallengeExpired, ChallengeReused), ChainUnavailable."""
        ...
