"""Runs the views over the event stream: catch up in batches, follow, rebuild.

Each batch of events is applied to a view and its position is recorded with the library's
tracking recorder in the same transaction, so every event is applied exactly once per view.
Runners of the same view take turns (an advisory lock on PostgreSQL, the write lock on
SQLite), so several processes may run them at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, cast

from eventsourcing.persistence import Tracking, TrackingRecorder

from dispute_engine.database import Cursor, storage_errors
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import InvalidInput, StorageUnavailable
from dispute_engine.engine_core import EngineCore, guarded
from projections.audit_log import AuditLog
from projections.linked_claims import LinkedClaimsView
from projections.sla import SlaView
from projections.view import View, upsert
from projections.work_queue import WorkQueue


def all_views() -> dict[str, View]:
    """Every view, by name."""
    return {
        view.name: view for view in (WorkQueue(), SlaView(), AuditLog(), LinkedClaimsView())
    }


@guarded
class ProjectionRunner:
    """Keeps the views of one engine's database up to date with its events."""

    def __init__(self, engine: EngineCore, *, batch_size: int = 1000) -> None:
        self.engine = engine
        self.db = engine.db
        self.views = all_views()
        self.batch_size = batch_size
        with engine.storage.creation_lock(create=engine.creates):
            self.tracking: TrackingRecorder = engine.factory.tracking_recorder()
            if engine.creates:
                self._prepare()
            else:
                self._require_built()

    def _prepare(self) -> None:
        """Create the views' tables; rebuild a view whose shape changed."""
        versions = self.db.table("projection_versions")
        self.db.create(
            f"CREATE TABLE IF NOT EXISTS {versions} "
            "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        built = {r["name"]: r["version"] for r in self.db.fetchall(f"SELECT * FROM {versions}")}
        for view in self.views.values():
            if built.get(view.name) != view.version:
                self._discard(view)  # a view of another shape: build it afresh
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
        try:
            with storage_errors(self.engine.storage):
                self.db.fetchall(f"SELECT version FROM {self.db.table('projection_versions')}")
        except StorageUnavailable:
            raise StorageUnavailable(
                f"the views of {self.engine.storage.display} are not built yet: "
                "run `dispute-engine projections run` once"
            ) from None

    def view(self, name: str) -> View:
        """A view by name. Raises InvalidInput for an unknown one."""
        try:
            return self.views[name]
        except KeyError:
            known = ", ".join(sorted(self.views))
            raise InvalidInput.of("name", f"no view {name!r}; views: {known}") from None

    def position(self, name: str) -> int:
        """The last event position applied to the view."""
        return self.tracking.max_tracking_id(name) or 0

    def catch_up(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Apply every event not yet applied, batch by batch; returns events applied per view."""
        return {name: self._catch_up(self.view(name)) for name in (names or self.views)}

    def _catch_up(self, view: View) -> int:
        applied = 0
        mapper = self.engine.mapper
        while True:
            # Read before taking the write turn: a connection pool writer must not wait
            # for a reader (SQLite's pool queues them fairly, and would deadlock).
            start = self.position(view.name) + 1
            notifications = self.engine.recorder.select_notifications(start, self.batch_size)
            if not notifications:
                return applied
            batch = [(n, cast(Dispute.Event, mapper.to_domain_event(n))) for n in notifications]
            with self.db.transaction() as cursor:
                self._take_turn(cursor, view.name)
                if self._position(cursor, view.name) + 1 != start:
                    continue  # another runner applied these meanwhile: read again
                view.apply(self.db, cursor, batch)
                # The library's single-row tracking refuses a position that does not move
                # forward, so a batch can never be applied twice.
                recorder = cast(Any, self.tracking)
                recorder._insert_tracking(cursor, Tracking(view.name, notifications[-1].id))
            applied += len(batch)

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
        """Throw the view away and build it again from every event; returns events applied."""
        view = self.view(name)
        self._discard(view)
        view.create(self.db)
        return self._catch_up(view)

    def _discard(self, view: View) -> None:
        with self.db.transaction() as cursor:
            for table in view.tables:
                self.db.execute(cursor, f"DROP TABLE IF EXISTS {self.db.table(table)}")
            self.db.execute(
                cursor,
                f"DELETE FROM {self._tracking_table} WHERE application_name = ?",
                [view.name],
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
        if self.engine.storage.kind == "postgres":
            subscription = self.engine.recorder.subscribe(gt=None)
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
