"""EngineCore: the engine's storage, clock, loading and saving, shared by its parts."""

from __future__ import annotations

import functools
import inspect
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    MapperDeserialisationError,
    Notification,
    StoredEvent,
)
from pydantic import ValidationError

from dispute_engine.database import Database, StorageUrl, storage_errors
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    CorruptHistory,
    DisputeNotFound,
    EngineShutDown,
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
C = TypeVar("C", bound=type)
DisputeId = UUID | str


def dispute_key(value: object) -> UUID:
    """A dispute id given as a UUID or its text. Raises InvalidInput for anything else."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value.strip())
        except ValueError:
            pass
    raise InvalidInput.of("dispute_id", f"not a dispute id: {value!r}")


def guarded(cls: C) -> C:
    """Wrap every public method so that storage faults surface as the engine's errors.

    A database that cannot be written (full disk, read-only file, damaged file, missing
    rights) raises StorageUnavailable; an engine used after ``shutdown()`` raises
    EngineShutDown. Nothing is written in either case: each write is one transaction.
    """
    for name in dir(cls):
        if name.startswith("_") or name in ("shutdown", "close"):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        if not owner.__module__.startswith(("dispute_engine", "projections")):
            continue  # the library's own methods keep the library's errors
        attribute = inspect.getattr_static(cls, name)
        if inspect.isfunction(attribute) and not hasattr(attribute, "__guarded__"):
            setattr(cls, name, _guard(attribute))
    return cls


# Set while a guarded call runs: calls it makes among the engine's parts see the library's
# errors untranslated, as the code around them expects.
_inside = ContextVar("_inside", default=False)


def _guard(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def guard(self: Any, *args: Any, **kwargs: Any) -> T:
        if _inside.get():
            return method(self, *args, **kwargs)
        core = cast(EngineCore, getattr(self, "engine", self))
        if core.is_shut_down:
            raise EngineShutDown("the engine was shut down; open a new one")
        token = _inside.set(True)
        try:
            with storage_errors(core.storage):
                return method(self, *args, **kwargs)
        finally:
            _inside.reset(token)

    guard.__guarded__ = True  # type: ignore[attr-defined]
    return guard


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
        create: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.storage = storage
        self.clock: Clock = clock or system_clock
        self.transaction_lookup = transaction_lookup
        self.assets = assets
        self._projections: ProjectionRunner | None = None
        self._projections_lock = threading.Lock()
        self.is_shut_down = False
        self.creates = create
        if not create:
            storage.require_existing()
        env = {**storage.env, "CREATE_TABLE": "y" if create else "n"}
        if self.settings.snapshot_interval:
            env["IS_SNAPSHOTTING_ENABLED"] = "y"
        if self.settings.event_cipher_key is not None:
            # Claims carry personal data: the library's AES cipher encrypts every stored event.
            env["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"
            env["CIPHER_KEY"] = self.settings.event_cipher_key.get_secret_value()
        with storage_errors(storage), storage.creation_lock(create=create):
            super().__init__(env=env)
            self.db = Database(cast(Any, self.factory).datastore, storage, creates=create)
            if not create:  # the events table must be there already: reading creates none
                self.db.fetchall(f"SELECT 1 FROM {self.events_table} LIMIT 1")
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

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper, reporting an unreadable stored event as CorruptHistory."""
        mapper = super().construct_mapper()
        decode = mapper.to_domain_event

        def to_domain_event(stored: StoredEvent) -> Any:
            try:
                return decode(stored)
            except Exception:
                dispute_id = dispute_key(str(stored.originator_id))
                raise CorruptHistory(
                    f"dispute {dispute_id} has an unreadable stored event at version "
                    f"{stored.originator_version}",
                    dispute_id=dispute_id,
                    version=stored.originator_version,
                ) from None

        mapper.to_domain_event = to_domain_event  # type: ignore[method-assign,assignment]
        return mapper

    def shutdown(self) -> None:
        """Release the database connections; the engine cannot be used afterwards."""
        if not self.is_shut_down:
            self.is_shut_down = True
            Application.close(self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Leaving ``with DisputeEngine.open(...) as engine:`` shuts the engine down."""
        self.shutdown()

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

    def _get(self, dispute_id: DisputeId, version: int | None = None) -> Dispute:
        dispute_id = dispute_key(dispute_id)
        try:
            try:
                dispute: object = self.repository.get(dispute_id, version=version)
            except (ValidationError, MapperDeserialisationError, CorruptHistory):
                # A snapshot that does not read back (damaged or edited in the store) is only
                # a shortcut: the events are the record, so replay all of them instead.
                dispute = Repository(self.events).get(dispute_id, version=version)
        except AggregateNotFoundError:
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id) from None
        except OriginatorVersionError as exc:
            raise self._gap(dispute_id, int(exc.args[1])) from None
        except AssertionError:  # the first stored event is not a filing
            raise self._gap(dispute_id, 1) from None
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

    @staticmethod
    def _gap(dispute_id: UUID, version: int) -> CorruptHistory:
        return CorruptHistory(
            f"dispute {dispute_id} is missing its stored event at version {version}",
            dispute_id=dispute_id,
            version=version,
        )

    def _command(
        self, dispute_id: DisputeId, apply: Callable[[Dispute], T], *, retry: bool = False
    ) -> T:
        """Load, apply the command, save; optionally retry on a conflict.

        Retrying is for commands whose precondition still holds on the fresh state (adding
        evidence or a note), so concurrent investigators both succeed.
        """
        dispute_id = dispute_key(dispute_id)
        attempts = 1 + (self.settings.conflict_retries if retry else 0)
        with ExitStack() as turn:
            for attempt in range(attempts):
                started = time.monotonic()
                dispute = self._get(dispute_id)
                result = apply(dispute)
                try:
                    self._save(dispute)
                except ConcurrencyConflict:
                    if attempt + 1 == attempts:
                        raise
                    if attempt == 0:
                        # Writers that lost a race retry in turns, so each lands after a
                        # bounded wait however many collide.
                        turn.enter_context(self.storage.writer_turn(str(dispute_id)))
                    else:
                        time.sleep(self._backoff(attempt, time.monotonic() - started))
                    continue
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _backoff(attempt: int, took: float) -> float:
        """How long to wait before retrying a write that lost a race.

        Full jitter over a window that doubles each time, counted in attempts of the size
        just seen (a long history takes longer to load and save): writers that collided
        spread out instead of colliding again in step. Capped at a second.
        """
        return random.uniform(0, min(1.0, max(took, 0.002) * 2**attempt))

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
            before = disputes.get(dispute_id)
            expected = 1 if before is None else before.version + 1
            if event.originator_version != expected:
                raise self._gap(dispute_id, expected)
            disputes[dispute_id] = event.mutate(before)
        return [disputes[i] for i in ids if i in disputes]

    def _all_ids(self) -> list[UUID]:
        """The id of every dispute in the event store."""
        rows = self.db.fetchall(f"SELECT DISTINCT originator_id FROM {self.events_table}")
        return [UUID(str(r["originator_id"])) for r in rows]

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

        if self.is_shut_down:
            raise EngineShutDown("the engine was shut down; open a new one")
        with self._projections_lock, storage_errors(self.storage):
            if self._projections is None:
                self._projections = ProjectionRunner(self)
            return self._projections
