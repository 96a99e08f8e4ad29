"""The library's Application over the dispute events, held by the engine (never public).

It is also the EventSource the read models follow: the database the events and the views
share, the recorder, the mapper and a tracking recorder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    ApplicationRecorder,
    Mapper,
    Notification,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.utils import get_topic

from dispute_engine.database import Database, StorageUrl, timestamp
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import CorruptHistory, InvalidInput
from dispute_engine.domain.events import Filed
from dispute_engine.sealed_recorders import (
    CLAIM_INSERT,
    CLAIMS,
    ClaimRow,
    SealedPostgresRecorder,
    SealedSQLiteRecorder,
    sealing,
)
from dispute_engine.seals import KeyRing, key_ring
from dispute_engine.settings import Settings


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


FILED_TOPIC = get_topic(Dispute.Filed)


@cache
def required_fields(event_class: type) -> frozenset[str]:
    """The fields a stored event of the class must hold (those without a default)."""
    if not is_dataclass(event_class):
        return frozenset()
    return frozenset(
        f.name for f in fields(event_class) if f.default is MISSING and f.default_factory is MISSING
    )


def claim_rows(events: Sequence[object]) -> list[ClaimRow]:
    """The claims index's row of each filing among the events."""
    return [
        (*e.claimed_transaction, str(e.originator_id), timestamp(e.timestamp) or "")
        for e in events
        if isinstance(e, Filed)
    ]


def all_notifications(
    recorder: ApplicationRecorder, topics: Sequence[str] = ()
) -> Iterator[Notification]:
    """Every stored event in the store's order, optionally only those of some topics."""
    start = 1
    while True:
        page = recorder.select_notifications(start, 1000, topics=topics)
        yield from page
        if len(page) < 1000:
            return
        start = page[-1].id + 1


class DisputeEvents(Application[UUID]):
    """Stores and loads Dispute events (and snapshots) with the library's recorders."""

    name = "disputes"

    def __init__(self, storage: StorageUrl, settings: Settings, *, create: bool) -> None:
        """Open (or with ``create``, create) the event store; callers map its errors."""
        self.storage = storage
        self.creates = create
        key = settings.sealing_key
        self.ring: KeyRing = key_ring(
            None if key is None else key.get_secret_value(), settings.retired_sealing_keys
        )
        recorder = SealedPostgresRecorder if storage.kind == "postgres" else SealedSQLiteRecorder
        env = {
            **storage.env,
            "CREATE_TABLE": "y" if create else "n",
            "APPLICATION_RECORDER_TOPIC": get_topic(recorder),
        }
        if settings.snapshot_interval:
            env["IS_SNAPSHOTTING_ENABLED"] = "y"
        if settings.event_cipher_key is not None:
            # Claims carry personal data: the library's AES cipher encrypts every stored event.
            env["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"
            env["CIPHER_KEY"] = settings.event_cipher_key.get_secret_value()
        super().__init__(env=env)
        sealing(self.recorder, self.ring)
        self.db = Database(cast(Any, self.factory).datastore, storage, creates=create)
        if not create:  # the events table must be there already: reading creates none
            self.db.fetchall(f"SELECT 1 FROM {self.events_table} LIMIT 1")
        else:
            self._index_earlier_filings()

    def store(self, events: Sequence[DomainEventProtocol[UUID]]) -> None:
        """Store events (of one dispute or several) in one transaction, with the claims
        index's rows of the filings among them. Raises the library's IntegrityError when
        any of them is stale, all of it unsaved."""
        # Straight to the event store: the application's save would first ask of each event
        # whether it is an event or an aggregate (a slow runtime protocol check).
        self.events.put(events, claims=claim_rows(events))

    def holds(self, originator_id: UUID) -> bool:
        """Whether anything is stored under the id: one indexed read of one row."""
        return bool(
            self.db.fetchall(
                f"SELECT 1 FROM {self.events_table} WHERE originator_id = ? LIMIT 1",
                [self.db.originator_key(originator_id)],
            )
        )

    def filed_on(self, chain_id: int, tx_hash: str) -> list[UUID]:
        """Every dispute filed on one transaction (hash in any case), oldest filing first."""
        rows = self.db.fetchall(
            f"SELECT dispute_id FROM {self.db.table(CLAIMS)} "
            "WHERE chain_id = ? AND tx_hash = ? ORDER BY filed_at, dispute_id",
            [chain_id, tx_hash.lower()],
        )
        return [UUID(str(r["dispute_id"])) for r in rows]

    def _index_earlier_filings(self) -> None:
        """Index the filings of a store whose claims index is empty although it holds
        filings: a store written by a release before the index. Runs as the engine opens
        (under the creation lock); an unreadable filing is left out (the audit reports it)."""
        if self.db.fetchall(f"SELECT 1 FROM {self.db.table(CLAIMS)} LIMIT 1"):
            return
        rows: list[ClaimRow] = []
        for stored in all_notifications(self.recorder, topics=[FILED_TOPIC]):
            try:
                rows += claim_rows([self.mapper.to_domain_event(stored)])
            except (CorruptHistory, KeyError, TypeError, ValueError):
                continue
            if len(rows) == 1000:
                self._index(rows)
                rows = []
        if rows:
            self._index(rows)

    def _index(self, rows: Sequence[ClaimRow]) -> None:
        with self.db.transaction() as cursor:
            self.db.executemany(
                cursor,
                f"INSERT INTO {self.db.table(CLAIMS)} {CLAIM_INSERT.format(marks='?, ?, ?, ?')}",
                rows,
            )

    @property
    def events_table(self) -> str:
        """The event store's table, qualified for SQL."""
        return self.db.table(cast(Any, self.recorder).events_table_name)

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper, reporting an unreadable stored event as CorruptHistory."""
        mapper = super().construct_mapper()
        decode = mapper.to_domain_event

        def to_domain_event(stored: StoredEvent) -> Any:
            try:
                event = decode(stored)
                # The library fills the event from the stored state as it is: a state edited
                # in place can lack a field every such event has, which nothing reads safely.
                if not required_fields(type(event)) <= event.__dict__.keys():
                    raise ValueError("a required field is missing")
                return event
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

    def tracking_recorder(self) -> TrackingRecorder:
        """A new recorder of the positions the read models have reached."""
        return self.factory.tracking_recorder()
