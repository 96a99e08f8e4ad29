"""The engine's auditing part: history, past states, the audit log, its proofs and the audit."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import cast
from uuid import UUID

from pydantic_core import to_jsonable_python

from dispute_engine.checkpoints import Checkpoint
from dispute_engine.decision_signatures import SignatureFinding
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    DisputeNotFound,
    InvalidInput,
)
from dispute_engine.engine_core import DisputeId, EngineCore
from dispute_engine.event_store import dispute_key
from dispute_engine.log_store import LeafFilter, LogLeaf, LogStore
from dispute_engine.log_verifier import AuditReport, LogVerifier, Progress
from dispute_engine.merkle import consistency_proof, inclusion_proof, root_at
from dispute_engine.proofs import ConsistencyProof, InclusionProof
from dispute_engine.seals import event_leaf_hash
from dispute_engine.views import DisputeView, HistoryEntry

_EVENT_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


EXPORT_COLUMNS = (
    "leaf_index",
    "position",
    "dispute_id",
    "version",
    "event",
    "actor",
    "at",
    "leaf_hash",
)


class Auditing:
    """Replays and verifies what happened to disputes; writes nothing but the log's catch-up."""

    def __init__(
        self, core: EngineCore, decision_signatures: Callable[[], list[SignatureFinding]]
    ) -> None:
        self._core = core
        self._decision_signatures = decision_signatures

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

    def export_audit_log(self, fmt: str) -> str:
        """The audit log, brought up to date, as ``csv`` or ``jsonl``: one row per leaf with
        its index, position, dispute, version, event, actor, time and leaf hash (hex); no
        event data. Raises InvalidInput for another format, StorageUnavailable.
        """
        if fmt not in ("csv", "jsonl"):
            raise InvalidInput.of("format", "must be csv or jsonl")
        self._core.projections.catch_up(["audit_log"])
        with self._core.storage_boundary():
            rows = [leaf.export() for leaf in self.log.all_leaves()]
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    def verify(
        self, *, witness: Path | None = None, progress: Progress | None = None
    ) -> AuditReport:
        """Check every seal, the log rebuilt from its leaves against its stored nodes, every
        checkpoint's root and signature, the witness (``witness``, else the settings' folder),
        every evidence blob and every decision signature.

        Sealed events not logged yet are appended first; with rights only to read they are
        reported instead. Nothing is deleted, rebuilt or rewritten. ``progress(done, total)``
        is called as events are checked. Raises StorageUnavailable.
        """
        folder = witness if witness is not None else self._core.settings.witness_dir
        verifier = LogVerifier(self._core, self._core.events.ring, self._decision_signatures)
        return verifier.run(folder, progress)

    def prove_inclusion(
        self, dispute_id: DisputeId, version: int, *, tree_size: int | None = None
    ) -> InclusionProof:
        """The proof that an event is in the log of ``tree_size`` leaves (by default the
        newest checkpoint's size if it covers the event, else the whole log).

        Raises InvalidInput for a bad id or size, DisputeNotFound when the event is not
        logged, StorageUnavailable.
        """
        dispute_id = dispute_key(dispute_id)
        with self._core.storage_boundary():
            leaf = self.log.leaf_of(dispute_id, version)
            if leaf is None:
                raise DisputeNotFound(
                    f"dispute {dispute_id} has no logged event at version {version}",
                    dispute_id=dispute_id,
                )
            size = self.log.size()
            if tree_size is None:
                covering = [
                    c.tree_size for c in self.log.checkpoints() if c.tree_size > leaf.leaf_index
                ]
                tree_size = covering[-1] if covering else size
            if not leaf.leaf_index < tree_size <= size:
                raise InvalidInput.of("tree_size", f"must be from {leaf.leaf_index + 1} to {size}")
            return InclusionProof(
                dispute_id,
                version,
                leaf.leaf_index,
                tree_size,
                leaf.leaf,
                tuple(inclusion_proof(self.log, leaf.leaf_index, tree_size)),
                root_at(self.log, tree_size),
            )

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """The proof that the log's first ``old_size`` leaves are a prefix of its first
        ``new_size`` (by default all of them).

        Raises InvalidInput unless ``0 < old_size <= new_size <= log size``, StorageUnavailable.
        """
        with self._core.storage_boundary():
            size = self.log.size()
            new_size = size if new_size is None else new_size
            if not 0 < old_size <= new_size <= size:
                raise InvalidInput.of(
                    "old_size", f"need 0 < old_size <= new_size <= {size} (the log's size)"
                )
            return ConsistencyProof(
                old_size,
                new_size,
                tuple(consistency_proof(self.log, old_size, new_size)),
                root_at(self.log, old_size),
                root_at(self.log, new_size),
            )

    def history(self, dispute_id: DisputeId) -> list[HistoryEntry]:
        """Every recorded event of the dispute, oldest first, with its leaf hash in the log.

        Raises DisputeNotFound, CorruptHistory (an event unreadable or missing).
        """
        dispute_id = dispute_key(dispute_id)
        with self._core.storage_boundary():
            stored = self._core.events.recorder.select_events(dispute_id)
            if not stored:
                raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id)
            positions = self._positions(dispute_id)
        entries = []
        for expected, record in enumerate(stored, start=1):
            if record.originator_version != expected:
                raise self._core.gap(dispute_id, expected)
            domain_event = cast(Dispute.Event, self._core.events.mapper.to_domain_event(record))
            data = {k: v for k, v in vars(domain_event).items() if k not in _EVENT_FIELDS}
            entries.append(
                HistoryEntry(
                    position=positions.get(record.originator_version, 0),
                    version=record.originator_version,
                    name=type(domain_event).__name__,
                    at=domain_event.timestamp,
                    actor=str(data.get("actor", "")),
                    data=to_jsonable_python(data),
                    hash=event_leaf_hash(
                        dispute_id, record.originator_version, record.topic, record.state
                    ).hex(),
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
