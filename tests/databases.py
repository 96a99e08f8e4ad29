"""The engine's Database helper opened on its own, for tests of the tables beside the events."""

from __future__ import annotations

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from dispute_engine.database import Database, StorageUrl


def open_database(url: str) -> Database:
    """A Database over the event store's datastore for ``url`` (SQLite or PostgreSQL)."""
    storage = StorageUrl.parse(url)
    with storage.creation_lock():
        factory = InfrastructureFactory.construct(Environment("disputes", storage.env))
    return Database(factory.datastore, storage)  # type: ignore[attr-defined]
