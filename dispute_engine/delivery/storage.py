"""The outbox's own way into the engine's database, for a sender that needs nothing else."""

from __future__ import annotations

from typing import Any, cast

from eventsourcing.persistence import InfrastructureFactory

from dispute_engine.database import Database, StorageUrl
from dispute_engine.error_mapping import storage_errors


def open_database(url: str, *, pool_size: int = 5) -> tuple[Database, InfrastructureFactory[Any]]:
    """The database at ``url`` and the factory holding its connections (close it when done).

    Raises InvalidInput for a malformed URL and StorageUnavailable when it cannot be opened.
    """
    storage = StorageUrl.parse(url, pool_size=pool_size)
    with storage_errors(storage), storage.creation_lock():
        factory = InfrastructureFactory.construct(env=storage.env)
        return Database(cast(Any, factory).datastore, storage), factory
