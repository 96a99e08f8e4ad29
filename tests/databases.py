"""The engine's Database helper opened on its own, for tests of the tables beside the events,
and an engine whose PostgreSQL store saves without the database functions."""

from __future__ import annotations

from dataclasses import replace

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from dispute_engine import DisputeEngine, Settings
from dispute_engine.database import Database, StorageUrl
from dispute_engine.engine_core import EngineCore
from dispute_engine.ports import Clock
from projections.runner import ProjectionRunner, all_views


def open_database(url: str) -> Database:
    """A Database over the event store's datastore for ``url`` (SQLite or PostgreSQL)."""
    storage = StorageUrl.parse(url)
    with storage.creation_lock():
        factory = InfrastructureFactory.construct(Environment("disputes", storage.env))
    return Database(factory.datastore, storage)  # type: ignore[attr-defined]


def engine_without_db_functions(url: str, clock: Clock, settings: Settings) -> DisputeEngine:
    """An engine on PostgreSQL at ``url`` that saves without the database functions (the
    library's pipelined statements in a transaction), as a store may be configured."""
    parsed = StorageUrl.parse(url)
    storage = replace(parsed, env={**parsed.env, "POSTGRES_ENABLE_DB_FUNCTIONS": "n"})
    core = EngineCore(
        storage,
        settings=settings,
        clock=clock,
        read_models=lambda source: ProjectionRunner(source, views=all_views(settings)),
    )
    assert not core.events.recorder.datastore.enable_db_functions  # type: ignore[attr-defined]
    return DisputeEngine(core)
