"""The engine's auditing part: history, past states, the audit log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast
from uuid import UUID

from pydantic_core import to_jsonable_python

from dispute_engine.audit_reading import BundleExport, BundleWritten, leaf_filter
from dispute_engine.checkpoints import Checkpoint
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    DisputeNotFound,
    InvalidInput,
)
from dispute_engine.engine_core import DisputeId, EngineCore
from dispute_engine.event_store import dispute_key
from dispute_engine.hash_chain import chain_hash
from dispute_engine.log_store import LeafFilter, LogLeaf, LogStore
from dispute_engine.reports import Discrepancy
from dispute_engine.views import DisputeView, HistoryEntry

_EVENT_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class Auditing:
    """Replays and verifies what happened to disputes; reading only."""

    def __init__(self, core: EngineCore) -> None:
        self._core = core

    @property
    def log(self) -> LogStore:
        """The transparency log's tables."""
        return LogStore(self._core.db)

    def log_size(self) -> int:
        """How many events the transparency log holds. Raises StorageUnavailable."""
        with self._core.storage_boundary():
            return self.log.size()

    def leaves(
        self,
        *,
        dispute_id: DisputeId | None = None,
        actor: str | None = None,
        event: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LogLeaf]:
        """Logged events in log order, each with its leaf index, narrowed by the given fields.

        Served by the log's indexes; times are inclusive. Raises InvalidInput for a bad
        dispute id or a naive time, StorageUnavailable.
        """
        for name, moment in (("since", since), ("until", until)):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput.of(name, "must be timezone-aware")
        where = LeafFilter(
            None if dispute_id is None else dispute_key(dispute_id), actor, event, since, until
        )
        with self._core.storage_boundary():
            return self.log.leaves(where)

    def checkpoints(self) -> list[Checkpoint]:
        """The log's signed checkpoints, smallest tree first. Raises StorageUnavailable."""
        with self._core.storage_boundary():
            return self.log.checkpoints()

    def query(
        self,
        *,
        actor: str | None = None,
        dispute_id: DisputeId | None = None,
        event: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LogLeaf]:
        """Logged events matching every given field, in log order, each with its leaf index.

        ``actor`` is compared by canonical id (``"Alice "`` is ``alice``); times are
        inclusive. Served by the log's indexes; reads only. Raises InvalidInput (a bad id,
        an unknown event name, a naive time, ``since`` after ``until``), StorageUnavailable.
        """
        where = leaf_filter(
            dispute_id=None if dispute_id is None else dispute_key(dispute_id),
            actor=actor,
            event=event,
            since=since,
            until=until,
        )
        with self._core.storage_boundary():
            return self.log.leaves(where)

    def export_bundle(
        self,
        out: Path | str,
        *,
        dispute_id: DisputeId | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> BundleWritten:
        """Write an offline bundle of a dispute's events, or of a time range, to folder ``out``.

        The events under the newest checkpoint, their seals, the checkpoints, inclusion and
        consistency proofs, the public keys, and each dispute's state for a replay to match
        (see ``dispute_engine.bundle``). Reads only. Raises InvalidInput (nothing selected,
        nothing under a checkpoint yet, ``out`` holding a bundle), CorruptHistory (a logged
        event missing or unsealed in the store), StorageUnavailable.
        """
        if dispute_id is None and since is None and until is None:
            raise InvalidInput.of("dispute", "give a dispute, a time range, or both")
        where = leaf_filter(
            dispute_id=None if dispute_id is None else dispute_key(dispute_id),
            actor=None,
            event=None,
            since=since,
            until=until,
        )
        with self._core.storage_boundary():
            return BundleExport(self._core).write(Path(out), where)

    def export_audit_log(self, fmt: str) -> str:
        """The audit log, brought up to date, as ``csv`` or ``jsonl``. Raises InvalidInput."""
        if fmt not in ("csv", "jsonl"):
            raise InvalidInput.of("format", "must be csv or jsonl")
        read_models = self._core.projections
        read_models.catch_up(["audit_log"])
        return read_models.export_audit_log("csv" if fmt == "csv" else "jsonl")

    def verify_audit_log(self) -> tuple[int, list[Discrepancy]]:
        """Recompute the hash chain from the event store and compare it with the audit log.

        Returns how many logged events were checked and the discrepancies (altered, deleted,
        or not yet logged). The log is not brought up to date first, on purpose: it is the
        record to check the store against.
        """
        return self._core.projections.verify_audit_log()

    def history(self, dispute_id: DisputeId) -> list[HistoryEntry]:
        """Every recorded event of the dispute, oldest first, hash-chained.

        Raises DisputeNotFound, CorruptHistory (an event unreadable or missing).
        """
        dispute_id = dispute_key(dispute_id)
        with self._core.storage_boundary():
            stored = self._core.events.recorder.select_events(dispute_id)
            if not stored:
                raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id)
            positions = self._positions(dispute_id)
        entries = []
        previous = ""
        for expected, record in enumerate(stored, start=1):
            if record.originator_version != expected:
                raise self._core.gap(dispute_id, expected)
            domain_event = cast(Dispute.Event, self._core.events.mapper.to_domain_event(record))
            previous = chain_hash(previous, record.topic, record.originator_version, record.state)
            data = {k: v for k, v in vars(domain_event).items() if k not in _EVENT_FIELDS}
            entries.append(
                HistoryEntry(
                    position=positions.get(record.originator_version, 0),
                    version=record.originator_version,
                    name=type(domain_event).__name__,
                    at=domain_event.timestamp,
                    actor=str(data.get("actor", "")),
                    data=to_jsonable_python(data),
                    hash=previous,
                )
            )
        return entries

    def _positions(self, dispute_id: UUID) -> dict[int, int]:
        rows = self._core.db.fetchall(
            f"SELECT originator_version, {self._core.db.notification_id} AS notification_id "
            f"FROM {self._core.events_table} WHERE originator_id = ?",
            (self._core.db.originator_key(dispute_id),),
        )
        return {int(r["originator_version"]): int(r["notification_id"]) for r in rows}

    def state_at(
        self,
        dispute_id: DisputeId,
        *,
        at: datetime | None = None,
        version: int | None = None,
    ) -> DisputeView:
        """The dispute as it stood at a moment or after a version.

        Raises InvalidInput unless exactly one of ``at`` and ``version`` is given,
        DisputeNotFound when the dispute did not exist yet.
        """
        dispute_id = dispute_key(dispute_id)
        if (at is None) == (version is None):
            raise InvalidInput.of("at", "give exactly one of at= and version=")
        if at is not None:
            if at.tzinfo is None:
                raise InvalidInput.of("at", "must be timezone-aware")
            versions = [e.version for e in self.history(dispute_id) if e.at <= at]
            if not versions:
                raise DisputeNotFound(
                    f"dispute {dispute_id} was not filed yet at {at.isoformat()}",
                    dispute_id=dispute_id,
                )
            version = versions[-1]
        assert version is not None
        dispute = self._core.load(dispute_id, version=version)
        if not 1 <= version <= dispute.version:
            raise InvalidInput.of("version", f"must be between 1 and {dispute.version}")
        return DisputeView.of(dispute)
