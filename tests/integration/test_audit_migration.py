"""A store whose audit log is version 1 (a sha256 chain) migrates to the Merkle log only after
the chain is checked against the store, and never drops it; on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import UUID

import pytest

from dispute_engine import Actor, DisputeEngine
from dispute_engine.errors import StorageUnavailable
from projections.audit_log_v1 import chain_hash
from tests.conftest import FakeClock
from tests.factories import file_dispute, sealed_settings


def version_1_store(db_url: str, clock: FakeClock, alice: Actor) -> UUID:
    """Events written before sealing, logged by version 1's chain, as that release left them."""
    with DisputeEngine.open(db_url, clock=clock) as old:
        dispute_id = file_dispute(old, alice)
        old.assign(dispute_id, investigator="alice", by=alice)
        old.add_note(dispute_id, "called the exchange", by=alice)
        db = old._core.db
        rows = db.fetchall(
            f"SELECT originator_version, topic, state FROM {old._core.events_table} "
            "ORDER BY originator_version"
        )
        hashes, previous = [], ""
        for row in rows:
            previous = chain_hash(
                previous, str(row["topic"]), int(row["originator_version"]), bytes(row["state"])
            )
            hashes.append((str(dispute_id), int(row["originator_version"]), previous))
        versions = db.table("projection_versions")
        with db.transaction() as cursor:
            db.execute(
                cursor,
                f"CREATE TABLE {db.table('audit_log')} "
                "(dispute_id TEXT, version INTEGER, hash TEXT, PRIMARY KEY (dispute_id, version))",
            )
            db.executemany(cursor, f"INSERT INTO {db.table('audit_log')} VALUES (?, ?, ?)", hashes)
            db.execute(
                cursor,
                f"CREATE TABLE IF NOT EXISTS {versions} "
                "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
            )
            db.execute(cursor, f"DELETE FROM {versions} WHERE name = 'audit_log'")
            db.execute(cursor, f"INSERT INTO {versions} VALUES ('audit_log', 1)")
    return dispute_id


def test_a_matching_version_1_log_migrates_and_its_events_verify(
    db_url: str, clock: FakeClock, alice: Actor
):
    version_1_store(db_url, clock, alice)
    with DisputeEngine.open(db_url, clock=clock, settings=sealed_settings()) as engine:
        report = engine.audit.verify()
        assert report.ok, report.problems
        assert (report.events, report.logged) == (3, 3)
        kept = engine._core.db.fetchall(
            f"SELECT COUNT(*) AS n FROM {engine._core.db.table('audit_log')}"
        )
        assert kept[0]["n"] == 3  # version 1's table stays as it was


def test_a_version_1_log_that_disagrees_with_the_store_is_not_migrated(
    db_url: str, clock: FakeClock, alice: Actor
):
    dispute_id = version_1_store(db_url, clock, alice)
    with DisputeEngine.open(db_url, clock=clock, create=False) as reader:
        db = reader._core.db
        with db.transaction() as cursor:
            db.execute(
                cursor,
                f"UPDATE {reader._core.events_table} SET state = ? "
                "WHERE originator_id = ? AND originator_version = 3",
                [b"{}", db.originator_key(dispute_id)],
            )
    # A writer builds its views as it opens: the log's migration refuses the altered store.
    with pytest.raises(StorageUnavailable, match=f"dispute {dispute_id} v3 was altered"):
        DisputeEngine.open(db_url, clock=clock, settings=sealed_settings())
    with DisputeEngine.open(db_url, clock=clock, create=False) as reader:
        db = reader._core.db
        versions = db.fetchall(
            f"SELECT version FROM {db.table('projection_versions')} WHERE name = 'audit_log'"
        )
        assert versions[0]["version"] == 1
        assert db.fetchall(f"SELECT COUNT(*) AS n FROM {db.table('event_seals')}")[0]["n"] == 0
