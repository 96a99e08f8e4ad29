"""Runs the views over the event stream: catch up in batches, follow, rebuild.

Each batch of events is applied to a view and its position is recorded with the library's
tracking recorder in the same transaction, so every event is applied exactly once per view:
a second runner that applied the same batch fails on the tracking row and rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, cast

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

from dispute_engine.application import DisputeEngine
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import InvalidInput
from projections.audit_log import AuditLog
from projections.sla import SlaView
from projections.view import View
from projections.work_queue import WorkQueue


def all_views() -> dict[str, View]:
    """Every view, by name."""
    return {view.name: view for view in (WorkQueue(), SlaView(), AuditLog())}


class ProjectionRunner:
    """Keeps the views of one engine's database up to date with its events."""

    def __init__(self, engine: DisputeEngine, *, batch_size: int = 1000) -> None:
        self.engine = engine
        self.db = engine.db
        self.views = all_views()
        self.batch_size = batch_size
        with engine.storage.creation_lock():
            self.tracking: TrackingRecorder = engine.factory.tracking_recorder()
            for view in self.views.values():
                view.create(self.db)

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
        while True:
            start = self.position(view.name) + 1
            notifications = self.engine.recorder.select_notifications(start, self.batch_size)
            if not notifications:
                return applied
            mapper = self.engine.mapper
            batch = [(n, cast(Dispute.Event, mapper.to_domain_event(n))) for n in notifications]
            try:
                with self.db.transaction() as cursor:
                    view.apply(self.db, cursor, batch)
                    # The library's single-row tracking refuses a position that does not move
                    # forward: a concurrent runner that got there first rolls this batch back.
                    recorder = cast(Any, self.tracking)
                    recorder._insert_tracking(cursor, Tracking(view.name, notifications[-1].id))
            except IntegrityError:
                continue  # another runner applied this batch: read the position again
            applied += len(batch)

    def rebuild(self, name: str) -> int:
        """Throw the view away and build it again from every event; returns events applied."""
        view = self.view(name)
        with self.db.transaction() as cursor:
            for table in view.tables:
                self.db.execute(cursor, f"DROP TABLE IF EXISTS {self.db.table(table)}")
            self.db.execute(
                cursor,
                f"DELETE FROM {self._tracking_table} WHERE application_name = ?",
                [name],
            )
        view.create(self.db)
        return self._catch_up(view)

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
