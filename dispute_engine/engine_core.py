"""EngineCore: the engine's storage, clock, loading and saving, shared by its parts."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import (
    MapperDeserialisationError,
    StoredEvent,
)
from eventsourcing.utils import get_topic
from pydantic import ValidationError

from dispute_engine.commitment_ledger import CommitmentLedger
from dispute_engine.database import Database, StorageUrl
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    CorruptHistory,
    DisputeNotFound,
    EngineShutDown,
    InvalidInput,
    PayoutRefused,
)
from dispute_engine.domain.events import DisputeEvent
from dispute_engine.error_mapping import save_conflicts, storage_errors
from dispute_engine.event_store import DisputeEvents, dispute_key
from dispute_engine.evidence_store import SqlEvidenceStore
from dispute_engine.payout_guard import PayoutGuard
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.personal_data import ClaimantKeys, PersonalData, master_keys
from dispute_engine.ports import (
    AssetRegistry,
    Clock,
    EvidenceStore,
    PayoutGateway,
    ReadModels,
    ReadModelsFactory,
    TokenDecimals,
    TransactionLookup,
    WalletSignatures,
)
from dispute_engine.saved_disputes import SavedDisputes
from dispute_engine.sealed_recorders import SEALS
from dispute_engine.seals import InvalidSeal, Seal
from dispute_engine.settings import Settings

T = TypeVar("T")
GatewayFactory = Callable[[Database], PayoutGateway]  # builds a gateway on the engine's database
DisputeId = UUID | str


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class EngineCore:
    """What every part of the engine stands on: storage, clock, load, save, retry.

    It holds the library's Application (``DisputeEvents``) rather than being one, so the
    library's ``save``, ``repository`` and ``close`` are not part of the engine.
    """

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
        wallet_signatures: WalletSignatures | None = None,
        read_models: ReadModelsFactory,
        create: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        if not create:
            storage.require_existing()
            storage = storage.for_reading()
        self.storage = storage
        self.clock: Clock = clock or system_clock
        self.transaction_lookup = transaction_lookup
        self.assets = assets
        self.wallet_signatures = wallet_signatures
        self._read_models_factory = read_models
        self._read_models: ReadModels | None = None
        self._projections_lock = threading.Lock()
        self.is_shut_down = False
        self.creates = create
        self.saved = SavedDisputes(self.settings.command_cache_size)
        with storage_errors(storage), storage.creation_lock(create=create):
            self.events = DisputeEvents(storage, self.settings, create=create)
            self.db = self.events.db
            self.evidence_store: EvidenceStore = SqlEvidenceStore(
                self.db, sealing=self.settings.master_key is not None
            )
            self.payout_guard = PayoutGuard(
                self.db,
                assets=assets,
                token_decimals=token_decimals,
                limits=self.settings.payout_limits,
                clock=self.now,
            )
            if payout_gateway is None:
                payout_gateway = PayoutLedger(self.db, self.payout_guard, self.personal_data())
            self.payout_gateway: PayoutGateway = (
                payout_gateway(self.db) if callable(payout_gateway) else payout_gateway
            )
            # Created with the other tables, under the creation lock: processes paying for
            # the first time at once must not race on creating it.
            self.commitments = CommitmentLedger(self.db)
        if create:  # the views' tables come with the events': a reader finds them built
            self._read_models = read_models(self.events)

    @contextmanager
    def storage_boundary(self) -> Iterator[None]:
        """Where the engine meets its stores: their faults become the engine's errors.

        Raises EngineShutDown after ``shutdown()``, StorageUnavailable when the database
        cannot be used, ConcurrencyConflict for a clash nobody else handled.
        """
        if self.is_shut_down:
            raise EngineShutDown("the engine was shut down; open a new one")
        with storage_errors(self.storage):
            yield

    def shutdown(self) -> None:
        """Release the database connections; the engine cannot be used afterwards."""
        if not self.is_shut_down:
            self.is_shut_down = True
            self.events.close()

    @property
    def events_table(self) -> str:
        """The event store's table, qualified for SQL."""
        return self.events.events_table

    def personal_data(self) -> PersonalData | None:
        """The claimants' data keys, when the settings hold a master key."""
        if self.settings.master_key is None:
            return None
        master, previous = master_keys(self.settings)
        return PersonalData(ClaimantKeys(self.db, master, previous, clock=self.now))

    def now(self) -> datetime:
        """The engine's "now", from its clock. Raises InvalidInput for a naive clock."""
        now = self.clock()
        if now.tzinfo is None:
            raise InvalidInput.of("clock", "the clock must return a timezone-aware datetime")
        return now.astimezone(UTC)

    # -- loading and saving -----------------------------------------------------

    def load(self, dispute_id: DisputeId, version: int | None = None) -> Dispute:
        dispute_id = dispute_key(dispute_id)
        with self.storage_boundary():
            return self._load(dispute_id, version)

    def _load(self, dispute_id: UUID, version: int | None) -> Dispute:
        try:
            try:
                dispute: object = (
                    self._latest(dispute_id)
                    if version is None
                    else self.events.repository.get(dispute_id, version=version)
                )
            except (ValidationError, MapperDeserialisationError, CorruptHistory):
                # A snapshot that does not read back (damaged or edited in the store) is only
                # a shortcut: the events are the record, so replay all of them instead.
                dispute = Repository(self.events.events).get(dispute_id, version=version)
        except AggregateNotFoundError:
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id) from None
        except OriginatorVersionError as exc:
            raise self.gap(dispute_id, int(exc.args[1])) from None
        except AssertionError:  # the first stored event is not a filing
            raise self.gap(dispute_id, 1) from None
        if not isinstance(dispute, Dispute):
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id)
        return dispute

    def _latest(self, dispute_id: UUID) -> object:
        """The dispute as it stands: its latest snapshot and the events after it, in one query.

        What the library's repository reads in two (the snapshot, then the events), so every
        command pays one round trip for its load. Raises AggregateNotFoundError when nothing
        is stored under the id.
        """
        snapshots = self.events.snapshots
        key = self.db.originator_key(dispute_id)
        if snapshots is None:
            stored = self.events.recorder.select_events(dispute_id)
        else:
            table = self.db.table(cast(Any, snapshots.recorder).events_table_name)
            latest = f"SELECT MAX(originator_version) FROM {table} WHERE originator_id = ?"
            rows = self.db.fetchall(
                f"SELECT 0 AS kind, originator_version, topic, state FROM {table} "
                f"WHERE originator_id = ? AND originator_version = ({latest}) UNION ALL "
                f"SELECT 1, originator_version, topic, state FROM {self.events_table} "
                f"WHERE originator_id = ? AND originator_version > COALESCE(({latest}), 0) "
                "ORDER BY 1, 2",
                [key, key, key, key],
            )
            stored = [
                StoredEvent(dispute_id, r["originator_version"], r["topic"], bytes(r["state"]))
                for r in rows
            ]
        aggregate: Any = None
        for event in stored:
            aggregate = cast(Any, self.events.mapper.to_domain_event(event)).mutate(aggregate)
        if aggregate is None:
            raise AggregateNotFoundError(dispute_id)
        return aggregate

    def save(self, dispute: Dispute) -> None:
        """Save the dispute's new events, snapshot it when due, and keep it for the next
        command on it. Raises ConcurrencyConflict when another write came first."""
        with self.storage_boundary():
            with save_conflicts(dispute.id):
                events = dispute.collect_events()
                self.events.store(events)
                saved = len(events)
            self._snapshot_every_interval(dispute, saved)
        self.saved.keep(dispute)

    def save_events(self, events: Sequence[DisputeEvent]) -> None:
        """Save events of several disputes in one transaction.

        Raises ConcurrencyConflict, all of it unsaved, when any of them is stale.
        """
        with self.storage_boundary():
            self.events.store(events)

    def _snapshot_every_interval(self, dispute: Dispute, saved: int) -> None:
        """Snapshot a dispute whose save crossed a multiple of the snapshot interval.

        Taken from the dispute in hand, which is exactly what was saved, so nothing is
        replayed; loading then replays only the events after the latest snapshot.
        """
        interval = self.settings.snapshot_interval
        snapshots = self.events.snapshots
        if snapshots is None or not interval:
            return
        if dispute.version // interval > (dispute.version - saved) // interval:
            snapshots.put([Dispute.Snapshot.take(dispute)])

    def require_sealed(self, dispute: Dispute) -> None:
        """Refuse to pay on a dispute any of whose stored events lacks a valid seal (written
        into the store without the engine's key). Sealing off (no keys): nothing to check.

        Raises PayoutRefused (``unsealed_event``) naming the first such version.
        """
        ring = self.events.ring
        if not ring.public_keys():
            return
        with self.storage_boundary():
            stored = self.sealed_events(dispute.id)
        for version, topic, state, seal in stored:
            try:
                if seal is None:
                    raise InvalidSeal("no seal")
                ring.verify_event(Seal.from_text(seal), dispute.id, version, topic, state)
            except InvalidSeal as error:
                raise PayoutRefused(
                    f"dispute {dispute.id} is not paid: its stored event at version {version} "
                    f"has no valid seal ({error}); run `dispute-engine audit verify`",
                    reason="unsealed_event",
                    dispute_id=dispute.id,
                ) from None

    def sealed_events(self, dispute_id: UUID) -> list[tuple[int, str, bytes, str | None]]:
        """The dispute's stored events in order: version, topic, state and seal text (None
        for an event stored without one). Call inside ``storage_boundary``."""
        rows = self.db.fetchall(
            f"SELECT e.originator_version, e.topic, e.state, s.seal "
            f"FROM {self.events_table} e LEFT JOIN {self.db.table(SEALS)} s "
            "ON s.originator_id = e.originator_id "
            "AND s.originator_version = e.originator_version "
            "WHERE e.originator_id = ? ORDER BY e.originator_version",
            [self.db.originator_key(dispute_id)],
        )
        return [
            (
                int(r["originator_version"]),
                str(r["topic"]),
                bytes(r["state"]),
                None if r["seal"] is None else str(r["seal"]),
            )
            for r in rows
        ]

    @staticmethod
    def gap(dispute_id: UUID, version: int) -> CorruptHistory:
        return CorruptHistory(
            f"dispute {dispute_id} is missing its stored event at version {version}",
            dispute_id=dispute_id,
            version=version,
        )

    def command(
        self,
        dispute_id: DisputeId,
        apply: Callable[[Dispute], T],
        *,
        retry: bool = False,
        fresh: bool = False,
    ) -> T:
        """Load, apply the command, save; optionally retry on a conflict.

        Retrying is for commands whose precondition still holds on the fresh state (adding
        evidence or a note), so concurrent investigators both succeed. A dispute this engine
        saved last is not loaded again (see :meth:`_on_saved`); ``fresh`` always loads, for
        commands that act outside the store (pay) before they save.
        """
        dispute_id = dispute_key(dispute_id)
        held = None if fresh else self.saved.take(dispute_id)
        if held is not None:
            landed = self._on_saved(held, apply)
            if landed:
                return landed[0]
        attempts = 1 + (self.settings.conflict_retries if retry else 0)
        with ExitStack() as turn:
            for attempt in range(attempts):
                started = time.monotonic()
                dispute = self.load(dispute_id)
                result = apply(dispute)
                try:
                    self.save(dispute)
                except ConcurrencyConflict:
                    if attempt + 1 == attempts:
                        raise
                    if attempt == 0:
                        # Writers that lost a race retry in turns, so each lands after a
                        # bounded wait however many collide.
                        with self.storage_boundary():
                            turn.enter_context(self.storage.writer_turn(str(dispute_id)))
                    else:
                        time.sleep(self._backoff(attempt, time.monotonic() - started))
                    continue
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _on_saved(self, dispute: Dispute, apply: Callable[[Dispute], T]) -> tuple[T] | None:
        """The command applied to the dispute as this engine last saved it, when that records
        events and they are saved; None (the copy dropped) for any other outcome.

        The copy may be stale, so it decides nothing: the store refuses a save after another
        write (a conflict), and a refusal, an error or a command that records nothing is
        redone on a fresh load, which gives the answer the current state gives.
        """
        try:
            result = apply(dispute)
        except Exception:  # redone on a fresh load, which raises it again if it holds
            return None
        if not dispute.pending_events:
            return None
        try:
            self.save(dispute)
        except ConcurrencyConflict:
            return None
        return (result,)

    @staticmethod
    def _backoff(attempt: int, took: float) -> float:
        """How long to wait before retrying a write that lost a race.

        Full jitter over a window that doubles each time, counted in attempts of the size
        just seen (a long history takes longer to load and save): writers that collided
        spread out instead of colliding again in step. Capped at a second.
        """
        return random.uniform(0, min(1.0, max(took, 0.002) * 2**attempt))

    def load_many(self, ids: Sequence[UUID]) -> list[Dispute]:
        """Several disputes, their events read in one query."""
        keys = [self.db.originator_key(i) for i in ids]
        with self.storage_boundary():
            return self._read_many(ids, keys)

    def _read_many(self, ids: Sequence[UUID], keys: Sequence[UUID | str]) -> list[Dispute]:
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
            event = cast(Dispute.Event, self.events.mapper.to_domain_event(stored))
            before = disputes.get(dispute_id)
            expected = 1 if before is None else before.version + 1
            if event.originator_version != expected:
                raise self.gap(dispute_id, expected)
            disputes[dispute_id] = event.mutate(before)
        return [disputes[i] for i in ids if i in disputes]

    def all_ids(self) -> list[UUID]:
        """The id of every dispute in the event store (the staff directory's aggregates share
        it: a dispute is what begins with a filing)."""
        with self.storage_boundary():
            rows = self.db.fetchall(
                f"SELECT originator_id FROM {self.events_table} "
                "WHERE originator_version = 1 AND topic = ?",
                [get_topic(Dispute.Filed)],
            )
        return [UUID(str(r["originator_id"])) for r in rows]

    @property
    def projections(self) -> ReadModels:
        """This engine's read models (work queue, SLA, audit log): catch_up, rebuild, follow.

        Raises EngineShutDown, StorageUnavailable.
        """
        with self._projections_lock, self.storage_boundary():
            if self._read_models is None:
                self._read_models = self._read_models_factory(self.events)
            return self._read_models
