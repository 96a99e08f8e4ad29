"""Runs the views over the event stream: catch up in batches, follow, rebuild.

Each batch of events is applied to a view and its position is recorded with the library's
tracking recorder in the same transaction, so every event is applied exactly once per view.
Runners of the same view take turns (an advisory lock on PostgreSQL, the write lock on
SQLite), so several processes may run them at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    Tracking,
    TrackingRecorder,
)

from dispute_engine.database import Cursor
from dispute_engine.domain.actor import Role
from dispute_engine.domain.dispute import Dispute, SlaCopy
from dispute_engine.domain.errors import InvalidInput, StorageUnavailable
from dispute_engine.domain.quality import Grouping, QualityFigures
from dispute_engine.error_mapping import storage_errors
from dispute_engine.gc_pause import paused_gc
from dispute_engine.ports import EventSource
from dispute_engine.reports import DirectoryEntry, ReportRow
from dispute_engine.seals import key_ring
from dispute_engine.settings import Settings
from dispute_engine.witness import WitnessWriter
from projections.audit_log import AuditLog
from projections.feed_view import FeedView
from projections.linked_claims import LinkedClaimsView
from projections.notice_outbox import NoticeOutbox
from projections.quality import QualityView
from projections.sla import SlaView
from projections.staff_directory import StaffDirectory
from projections.view import View, upsert
from projections.work_queue import WorkQueue
from projections.work_routing import next_disputes

BATCH_SIZE = 1000  # events per batch for a view that names no size of its own


def all_views(settings: Settings | None = None) -> dict[str, View]:
    """Every view, by name; the feed only where the settings name its broker.

    Raises InvalidInput for a sealing key that does not read.
    """
    settings = settings or Settings()
    key = settings.sealing_key
    witness = None
    if settings.witness_dir is not None:
        witness = WitnessWriter(settings.witness_dir, url=settings.witness_url)
    audit_log = AuditLog(
        key_ring(None if key is None else key.get_secret_value(), settings.retired_sealing_keys),
        clock=lambda: datetime.now(UTC),
        checkpoint_every=settings.checkpoint_every_events,
        checkpoint_interval=timedelta(seconds=settings.checkpoint_every_seconds),
        witness=witness,
    )
    views: list[View] = [
        WorkQueue(),
        SlaView(),
        audit_log,
        QualityView(),
        NoticeOutbox(),
        LinkedClaimsView(),
        StaffDirectory(),
    ]
    if settings.feed_url is not None:
        views.append(
            FeedView(
                settings.feed_url,
                stream=settings.feed_stream,
                subject_prefix=settings.feed_subject_prefix,
            )
        )
    return {view.name: view for view in views}


class ProjectionRunner:
    """Keeps the views of one database up to date with its events; the engine's ReadModels.

    Every public method reports a database that cannot be used as StorageUnavailable.
    """

    def __init__(
        self,
        source: EventSource,
        *,
        batch_size: int | None = None,
        views: Mapping[str, View] | None = None,
    ) -> None:
        self.source = source
        self.db = source.db
        self.views = dict(views) if views is not None else all_views()
        # Events per batch for every view; None lets each view name its own (the audit log
        # takes large ones), else BATCH_SIZE.
        self.batch_size = batch_size
        with storage_errors(source.storage), source.storage.creation_lock(create=source.creates):
            self.tracking: TrackingRecorder = source.tracking_recorder()
            if source.creates:
                self._prepare()
        self.built = source.creates

    def _prepare(self) -> None:
        """Create the views' tables; rebuild a view whose shape changed."""
        versions = self.db.table("projection_versions")
        self.db.create(
            f"CREATE TABLE IF NOT EXISTS {versions} "
            "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        built = {r["name"]: r["version"] for r in self.db.fetchall(f"SELECT * FROM {versions}")}
        for view in self.views.values():
            if built.get(view.name) not in (None, view.version):
                if not getattr(view, "append_only", False):
                    self._discard(view)  # a view of another shape: build it afresh
                elif built[view.name] in getattr(view, "migrates_from", ()):
                    # Checked first, then the old version's tables stay and the new ones
                    # start from the first event.
                    cast(Any, view).migrate(self.db, built[view.name], self.source.recorder)
                    with self.db.transaction() as cursor:
                        self._forget_position(cursor, view)
                else:
                    # Never dropped: a version this release cannot migrate from (set by hand,
                    # or by a newer release) stays as it is, and the audit names it.
                    continue
            view.create(self.db)
            with self.db.transaction() as cursor:
                upsert(
                    self.db,
                    cursor,
                    "projection_versions",
                    ["name"],
                    [{"name": view.name, "version": view.version}],
                )

    def _require_built(self) -> None:
        """An engine that creates nothing reads the views as a writer built them.

        Raises StorageUnavailable when no writer has built them yet.
        """
        if self.built:
            return
        try:
            self.db.fetchall(f"SELECT version FROM {self.db.table('projection_versions')}")
        except Exception:
            raise StorageUnavailable(
                f"the views of {self.source.storage.display} are not built yet: "
                "run `dispute-engine projections run` once"
            ) from None
        self.built = True

    def view(self, name: str) -> View:
        """A view by name. Raises InvalidInput for an unknown one."""
        try:
            return self.views[name]
        except KeyError:
            known = ", ".join(sorted(self.views))
            raise InvalidInput.of("name", f"no view {name!r}; views: {known}") from None

    def position(self, name: str) -> int:
        """The last event position applied to the view."""
        with storage_errors(self.source.storage):
            return self._applied(name)

    def _applied(self, name: str) -> int:
        return self.tracking.max_tracking_id(name) or 0

    def catch_up(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Apply every event not yet applied, batch by batch; returns events applied per view."""
        with storage_errors(self.source.storage):
            self._require_built()
            return {name: self._catch_up(self.view(name)) for name in (names or self.views)}

    @paused_gc()
    def _catch_up(self, view: View) -> int:
        applied = 0
        mapper = self.source.mapper
        start = self._applied(view.name) + 1
        size = int(
            getattr(view, "batch_size", BATCH_SIZE) if self.batch_size is None else self.batch_size
        )
        while True:
            # Read before taking the write turn: a connection pool writer must not wait
            # for a reader (SQLite's pool queues them fairly, and would deadlock).
            notifications = self.source.recorder.select_notifications(start, size)
            if not notifications:
                return applied
            batch = [(n, cast(Dispute.Event, mapper.to_domain_event(n))) for n in notifications]
            with self.db.transaction() as cursor:
                self._take_turn(cursor, view.name)
                position = self._position(cursor, view.name)
                if position + 1 == start:
                    view.apply(self.db, cursor, batch)
                    # The library's single-row tracking refuses a position that does not
                    # move forward, so a batch can never be applied twice.
                    recorder = cast(Any, self.tracking)
                    recorder._insert_tracking(cursor, Tracking(view.name, notifications[-1].id))
            if position + 1 != start:
                start = position + 1  # another runner applied these meanwhile: read again
                continue
            applied += len(batch)
            if len(notifications) < size:
                return applied  # the last of the events there were when read
            start = notifications[-1].id + 1

    def _take_turn(self, cursor: Cursor, name: str) -> None:
        """Runners of one view take turns, each applying batches the others have not."""
        if self.db.kind == "postgres":
            self.db.execute(cursor, "SELECT pg_advisory_xact_lock(hashtext(?))", [name])
        else:  # a write, however empty, takes SQLite's database write lock at once
            self.db.execute(
                cursor,
                f"UPDATE {self._tracking_table} SET notification_id = notification_id "
                "WHERE application_name = ?",
                [name],
            )

    def _position(self, cursor: Cursor, name: str) -> int:
        self.db.execute(
            cursor,
            f"SELECT notification_id FROM {self._tracking_table} WHERE application_name = ?",
            [name],
        )
        row = cursor.fetchone()
        return 0 if row is None else int(row["notification_id"])

    def rebuild(self, name: str) -> int:
        """Throw the view away and build it again from every event; returns events applied.

        Raises InvalidInput for an unknown view and for the audit log, which is append-only.
        """
        view = self.view(name)
        if getattr(view, "append_only", False):
            raise InvalidInput.of(
                "name",
                f"{name} is append-only and is never rebuilt from the store; "
                "`dispute-engine audit verify` checks it against the store",
            )
        with storage_errors(self.source.storage):
            self._require_built()
            self._discard(view)
            view.create(self.db)
            return self._catch_up(view)

    def _discard(self, view: View) -> None:
        with self.db.transaction() as cursor:
            for table in view.tables:
                self.db.execute(cursor, f"DROP TABLE IF EXISTS {self.db.table(table)}")
            self._forget_position(cursor, view)

    def _forget_position(self, cursor: Cursor, view: View) -> None:
        self.db.execute(
            cursor, f"DELETE FROM {self._tracking_table} WHERE application_name = ?", [view.name]
        )

    @property
    def _tracking_table(self) -> str:
        name = getattr(self.tracking, "tracking_table_name", "tracking")
        return self.db.table(str(name))

    def follow(self, stop: threading.Event, *, interval: float = 0.5) -> None:
        """Keep the views current until ``stop`` is set.

        On PostgreSQL new events wake the runner at once (LISTEN/NOTIFY through the library's
        subscription); on SQLite, which has none, it polls every ``interval`` seconds.
        """
        wake = threading.Event()
        subscription = None
        if self.source.storage.kind == "postgres":
            with storage_errors(self.source.storage):
                subscription = self.source.recorder.subscribe(gt=None)
                subscription.__enter__()

            def listen() -> None:
                for _ in subscription:
                    wake.set()

            threading.Thread(target=listen, daemon=True, name="projection-listener").start()
        try:
            while not stop.is_set():
                self.catch_up()
                wake.wait(interval)
                wake.clear()
        finally:
            if subscription is not None:
                subscription.stop()

    # -- the queries the engine asks of its read models -------------------------------

    def work_queue_ids(
        self, *, status: str | None, assignee: str | None, queue: str | None = None
    ) -> list[str]:
        """Dispute ids, most urgent and oldest first, optionally by status, assignee, queue."""
        with storage_errors(self.source.storage):
            self._require_built()
            return WorkQueue.ids(self.db, status=status, assignee=assignee, queue=queue)

    def staff_members(self, *, include_revoked: bool) -> list[DirectoryEntry]:
        """The staff directory's members by staff id; revoked ones unless told otherwise."""
        with storage_errors(self.source.storage):
            self._require_built()
            return StaffDirectory.members(self.db, include_revoked=include_revoked)

    def next_disputes(
        self, *, staff_id: str, roles: Iterable[Role], languages: Iterable[str], limit: int
    ) -> list[str]:
        """Dispute ids for a member to take next: soonest SLA due time, then priority."""
        with storage_errors(self.source.storage):
            self._require_built()
            return next_disputes(
                self.db, staff_id=staff_id, roles=roles, languages=languages, limit=limit
            )

    def needing_recheck(self) -> list[str]:
        """Open disputes whose latest chain facts are not final yet."""
        with storage_errors(self.source.storage):
            self._require_built()
            return WorkQueue.needing_recheck(self.db)

    def sla_due(self, now: datetime) -> list[SlaCopy]:
        """The SLA view's copies of disputes with a warning or breach due by ``now``."""
        with storage_errors(self.source.storage):
            self._require_built()
            return SlaView.due(self.db, now)

    def sla_report(self, since: datetime, until: datetime) -> list[ReportRow]:
        """Met, breached, open and stopped clocks per metric and priority, started then."""
        with storage_errors(self.source.storage):
            self._require_built()
            return SlaView.report(self.db, since, until)

    def quality_report(self, by: Grouping | None) -> dict[str, QualityFigures]:
        """The quality figures overall or per group, from the quality view as it stands.

        Raises InvalidInput for an unknown grouping.
        """
        with storage_errors(self.source.storage):
            self._require_built()
            return QualityView.report(self.db, by=by)

    def claimant_disputes(self, claimant: str) -> list[UUID]:
        """The disputes a claimant filed (ids compared canonically), oldest first."""
        with storage_errors(self.source.storage):
            self._require_built()
            return WorkQueue.claimant_disputes(self.db, claimant)
