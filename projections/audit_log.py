"""The audit log: an RFC 6962 Merkle transparency log over every sealed event, append-only.

Each event whose seal verifies becomes the next leaf, in notification order with dense leaf
indices (notification ids may have gaps). An event without a valid seal is never logged:
the audit reports it. The log is never rebuilt from the store, and a signed checkpoint of its
size and root is stored every N events or T seconds and appended to the witness, outside the
database. It keeps hashes, positions, event names, actors and times, never event data.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from dispute_engine.checkpoints import Checkpoint
from dispute_engine.database import Cursor, Database
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.log_store import LOG_TABLES, LOG_VERSION, LogLeaf, LogStore
from dispute_engine.merkle import Frontier, Node, leaf_hash
from dispute_engine.sealed_recorders import SEALS
from dispute_engine.seals import InvalidSeal, KeyRing, Seal, event_message
from dispute_engine.witness import WitnessWriter
from projections import audit_log_v1
from projections.view import Batch

CHECKPOINT_STRIDE = 1000  # leaves appended between two looks at whether a checkpoint is due


class AuditLog:
    """Appends sealed events to the Merkle log and signs checkpoints of it."""

    name: str = "audit_log"
    version: int = LOG_VERSION
    tables: tuple[str, ...] = LOG_TABLES
    append_only: bool = True  # never dropped or rebuilt: a new version migrates it
    migrates_from: tuple[int, ...] = (1,)
    # Large batches: a catch-up's cost per batch (reads, frontier, commit) is paid rarely.
    # A checkpoint is still considered every CHECKPOINT_STRIDE leaves appended.
    batch_size: int = 5000

    def __init__(
        self,
        ring: KeyRing,
        *,
        clock: Callable[[], datetime],
        checkpoint_every: int = 1000,
        checkpoint_interval: timedelta = timedelta(minutes=5),
        witness: WitnessWriter | None = None,
    ) -> None:
        self.ring = ring
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval = checkpoint_interval
        self.witness = witness

    def create(self, db: Database) -> None:
        """Create the log's tables and indexes."""
        LogStore(db).create()

    def migrate(self, db: Database, from_version: int, recorder: ApplicationRecorder) -> None:
        """Take over the log of an earlier version, after checking it against the store.

        Version 1's sha256 chain (its table kept) must match the store; the events it vouches
        for are sealed, so the Merkle log, starting from the first event, logs them.
        ``from_version`` is one of ``migrates_from``. Raises StorageUnavailable, migrating
        nothing, when it does not match.
        """
        audit_log_v1.migrate(db, recorder, self.ring)

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Append each sealed event of the batch not logged yet; sign a checkpoint when due.

        The seals are checked while the rest of the batch is read and hashed.
        """
        store = LogStore(db)
        seals = self._seals(db, cursor, batch)
        candidates: list[tuple[tuple[UUID, int], Any, Any, bytes]] = []
        checks: list[tuple[str, bytes, bytes]] = []
        for notification, event in batch:
            key = (_uuid(notification.originator_id), notification.originator_version)
            seal = _seal(seals.get(key))
            if seal is None:
                continue  # forged: the audit names it
            message = event_message(*key, notification.topic, notification.state)
            candidates.append((key, notification, event, message))
            checks.append((seal.key_id, seal.signature, message))
        with ThreadPoolExecutor(1) as checker:
            checked = checker.submit(self.ring.verify_all, checks)
            logged = self._logged(db, cursor, batch)
            frontier = store.frontier(cursor)
            details = [
                (
                    key,
                    notification.id,
                    notification.topic,
                    leaf_hash(message),
                    type(event).__name__,
                    _actor(event),
                    event.timestamp,
                )
                for key, notification, event, message in candidates
            ]
            holds = checked.result()
        leaves: list[LogLeaf] = []
        for (key, position, topic, leaf, name, actor, at), sealed in zip(
            details, holds, strict=True
        ):
            if not sealed or key in logged:
                continue  # forged (the audit names it), or logged once already
            logged.add(key)
            index = frontier.size + len(leaves)
            leaves.append(LogLeaf(index, position, *key, topic, leaf, name, actor, at))
        # The tree is extended in memory, a checkpoint considered every stride; the leaves and
        # nodes are then written at once, and the checkpoints after them.
        nodes: list[Node] = []
        checkpoints: list[Checkpoint] = []
        last = None if self.ring.current is None else store.last_checkpoint(cursor)
        for start in range(0, max(len(leaves), 1), CHECKPOINT_STRIDE):
            nodes += store.extend(frontier, leaves[start : start + CHECKPOINT_STRIDE])
            checkpoint = self._due_checkpoint(frontier, last)
            if checkpoint is not None:
                checkpoints.append(checkpoint)
                last = (checkpoint.tree_size, checkpoint.time)
        store.insert(cursor, leaves, nodes)
        for checkpoint in checkpoints:
            store.add_checkpoint(cursor, checkpoint)
            if self.witness is not None:
                self.witness.append(checkpoint)  # WitnessUnavailable undoes the whole batch

    @staticmethod
    def _seals(db: Database, cursor: Cursor, batch: Batch) -> dict[tuple[UUID, int], str]:
        """The stored seals of the batch's events, by dispute id and version."""
        ids = sorted({_uuid(n.originator_id) for n, _ in batch})
        if not ids:
            return {}
        db.execute(
            cursor,
            f"SELECT originator_id, originator_version, seal FROM {db.table(SEALS)} "
            f"WHERE originator_id IN ({', '.join('?' for _ in ids)}) "
            "AND originator_version >= ?",
            [*(db.originator_key(i) for i in ids), _lowest(batch)],
        )
        return {
            (_uuid(r["originator_id"]), int(r["originator_version"])): str(r["seal"])
            for r in cursor.fetchall()
        }

    @staticmethod
    def _logged(db: Database, cursor: Cursor, batch: Batch) -> set[tuple[UUID, int]]:
        """Which of the batch's events the log already holds (a copy re-inserted by hand)."""
        ids = sorted({str(n.originator_id) for n, _ in batch})
        if not ids:
            return set()
        db.execute(
            cursor,
            f"SELECT originator_id, version FROM {db.table(LOG_TABLES[0])} "
            f"WHERE originator_id IN ({', '.join('?' for _ in ids)}) AND version >= ?",
            [*ids, _lowest(batch)],
        )
        return {(UUID(str(r["originator_id"])), int(r["version"])) for r in cursor.fetchall()}

    def _due_checkpoint(
        self, frontier: Frontier, last: tuple[int, datetime] | None
    ) -> Checkpoint | None:
        """A signed checkpoint of the tree as it stands, when N events or T seconds have
        passed since the ``last`` one (its size and time); None otherwise, or without a key."""
        if self.ring.current is None or frontier.size == 0:
            return None
        now = self.clock()
        if last is not None:
            size, at = last
            if size == frontier.size or (
                frontier.size - size < self.checkpoint_every and now - at < self.checkpoint_interval
            ):
                return None
        return Checkpoint.sign(self.ring, frontier.size, frontier.root(), now)


def _actor(event: Any) -> str:
    """Who the event names, by canonical id, so the log's actor index matches an auditor's
    question however the event spelled the id (events stored before ids were canonical)."""
    return _canonical_actor(str(getattr(event, "actor", "")))


@lru_cache(maxsize=4096)  # a desk's staff and services: few ids, each on many events
def _canonical_actor(actor: str) -> str:
    try:
        return canonical_id(actor, field="actor")
    except InvalidInput:
        return actor  # not anyone's id (empty, or invisible characters): kept as recorded


def _seal(text: str | None) -> Seal | None:
    """A stored seal, or None when there is none or it does not read."""
    if text is None:
        return None
    try:
        return Seal.from_text(text)
    except InvalidSeal:
        return None


def _uuid(value: object) -> UUID:
    """An originator id as the library or a driver gives it (a UUID, or hex text)."""
    return value if isinstance(value, UUID) else UUID(str(value))


def _lowest(batch: Batch) -> int:
    return min(int(n.originator_version) for n, _ in batch)
