"""EngineCore: the engine's storage, clock, loading and saving, shared by its parts."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import (
    IntegrityError,
    MapperDeserialisationError,
    Notification,
    StoredEvent,
)
from pydantic import ValidationError

from dispute_engine.database import Database, StorageUrl, storage_errors
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    DisputeNotFound,
    InvalidInput,
)
from dispute_engine.evidence_store import SqlEvidenceStore
from dispute_engine.payout_guard import PayoutGuard
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.ports import (
    AssetRegistry,
    Clock,
    EvidenceStore,
    PayoutGateway,
    TokenDecimals,
    TransactionLookup,
)
from dispute_engine.settings import Settings

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner


T = TypeVar("T")
GatewayFactory = Callable[[Database], PayoutGateway]  # builds a gateway on the engine's database


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class EngineCore(Application[UUID]):
    """What every part of the engine stands on: storage, clock, load, save, retry."""

    name = "disputes"

    def __init__(
        self,
        storage: StorageUrl,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        payout_gateway: PayoutGateway | GatewayFactory | None = None,
        transaction_lookup: TransactionLookup | None = None,
        assets: AssetRegistry | None = None,
        token_decimals: TokenDecimals | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.storage = storage
        self.clock: Clock = clock or system_clock
        self.transaction_lookup = transaction_lookup
        self.assets = assets
        self._projections: ProjectionRunner | None = None
        self._projections_lock = threading.Lock()
        env = {**storage.env, "CREATE_TABLE": "y"}
        if self.settings.snapshot_interval:
            env["IS_SNAPSHOTTING_ENABLED"] = "y"
        if self.settings.event_cipher_key is not None:
            # Claims carry personal data: the library's AES cipher encrypts every stored event.
            env["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"
            env["CIPHER_KEY"] = self.settings.event_cipher_key.get_secret_value()
        with storage_errors(storage), storage.creation_lock():
            super().__init__(env=env)
            self.db = Database(cast(Any, self.factory).datastore, storage)
            self.evidence_store: EvidenceStore = SqlEvidenceStore(self.db)
            self.payout_guard = PayoutGuard(
                self.db,
                assets=assets,
                token_decimals=token_decimals,
                limits=self.settings.payout_limits,
                clock=self.now,
            )
            if payout_gateway is None:
                payout_gateway = PayoutLedger(self.db, self.payout_guard)
            self.payout_gateway: PayoutGateway = (
                payout_gateway(self.db) if callable(payout_gateway) else payout_gateway
            )

    @property
    def events_table(self) -> str:
        """The event store's table, qualified for SQL."""
        return self.db.table(cast(Any, self.recorder).events_table_name)

    def now(self) -> datetime:
        """The engine's "now", from its clock. Raises InvalidInput for a naive clock."""
        now = self.clock()
        if now.tzinfo is None:
            raise InvalidInput.of("clock", "the clock must return a timezone-aware datetime")
        return now.astimezone(UTC)

    # -- loading and saving -----------------------------------------------------

    def _get(self, dispute_id: UUID, version: int | None = None) -> Dispute:
        try:
            try:
                dispute: object = self.repository.get(dispute_id, version=version)
            except (ValidationError, MapperDeserialisationError):
                # A snapshot that does not read back (damaged or edited in the store) is only
                # a shortcut: the events are the record, so replay all of them instead.
                dispute = Repository(self.events).get(dispute_id, version=version)
        except AggregateNotFoundError:
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id) from None
        if not isinstance(dispute, Dispute):
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id)
        return dispute

    def _save(self, dispute: Dispute) -> None:
        try:
            saved = len(self.save(dispute))
        except IntegrityError:
            raise ConcurrencyConflict(
                f"dispute {dispute.id} was changed by someone else; reload and retry",
                dispute_id=dispute.id,
            ) from None
        self._snapshot_every_interval(dispute, saved)

    def _snapshot_every_interval(self, dispute: Dispute, saved: int) -> None:
        """Snapshot a dispute whose save crossed a multiple of the snapshot interval.

        Taken from the dispute in hand, which is exactly what was saved, so nothing is
        replayed; loading then replays only the events after the latest snapshot.
        """
        interval = self.settings.snapshot_interval
        if self.snapshots is None or not interval:
            return
        if dispute.version // interval > (dispute.version - saved) // interval:
            self.snapshots.put([Dispute.Snapshot.take(dispute)])

    def _command(
        self, dispute_id: UUID, apply: Callable[[Dispute], T], *, retry: bool = False
    ) -> T:
        """Load, apply the command, save; optionally retry on a conflict.

        Retrying is for commands whose precondition still holds on the fresh state (adding
        evidence or a note), so concurrent investigators both succeed.
        """
        attempts = 1 + (self.settings.conflict_retries if retry else 0)
        for attempt in range(attempts):
            dispute = self._get(dispute_id)
            result = apply(dispute)
            try:
                self._save(dispute)
            except ConcurrencyConflict:
                if attempt + 1 == attempts:
                    raise
                # Jittered backoff, so writers that collided do not collide again in step.
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_many(self, ids: Sequence[UUID]) -> list[Dispute]:
        """Several disputes, their events read in one query."""
        keys = [self.db.originator_key(i) for i in ids]
        rows = self.db.fetchall(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events_table} "
            f"WHERE originator_id IN ({', '.join('?' for _ in keys)}) "
            "ORDER BY originator_id, originator_version",
            keys,
        )
        disputes: dict[UUID, Dispute] = {}
        for row in rows:
            dispute_id = UUID(str(row["originator_id"]))
            stored = StoredEvent(
                dispute_id, row["originator_version"], row["topic"], bytes(row["state"])
            )
            event = cast(Dispute.Event, self.mapper.to_domain_event(stored))
            disputes[dispute_id] = event.mutate(disputes.get(dispute_id))
        return [disputes[i] for i in ids if i in disputes]

    def _all_notifications(self, topics: Sequence[str] = ()) -> Iterator[Notification]:
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 1000, topics=topics)
            yield from page
            if len(page) < 1000:
                return
            start = page[-1].id + 1

    @property
    def projections(self) -> ProjectionRunner:
        """The runner of this engine's views (work queue, SLA, audit log)."""
        from projections.runner import ProjectionRunner  # noqa: PLC0415

        with self._projections_lock:
            if self._projections is None:
                self._projections = ProjectionRunner(self)
            return self._projections
