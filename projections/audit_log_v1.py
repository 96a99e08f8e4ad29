"""The audit log's version 1, a sha256 chain per dispute in the table ``audit_log``, checked
against the store before the Merkle log replaces it; the table itself is kept.

Version 1 chained ``sha256(previous hash, topic, version, state)`` over each dispute's stored
events. Events were not sealed then: those the chain vouches for are sealed by the engine's
key when the log migrates, so they enter the Merkle log; events it never logged stay
unsealed, and the audit names them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

from dispute_engine.database import Database
from dispute_engine.domain.errors import StorageUnavailable
from dispute_engine.sealed_recorders import SEALS
from dispute_engine.seals import KeyRing

TABLE = "audit_log"


def chain_hash(previous: str, topic: str, version: int, state: bytes) -> str:
    """Version 1's hash of one stored event, chained to the dispute's previous one."""
    digest = hashlib.sha256()
    for part in (previous, topic, str(version)):
        digest.update(part.encode() + b"\0")
    digest.update(state)
    return digest.hexdigest()


def _stored(recorder: ApplicationRecorder) -> Iterator[Notification]:
    start = 1
    while True:
        page = recorder.select_notifications(start, 1000)
        yield from page
        if len(page) < 1000:
            return
        start = page[-1].id + 1


def migrate(db: Database, recorder: ApplicationRecorder, ring: KeyRing) -> int:
    """Check version 1's chain against the store's events, in order, then seal the events
    it vouches for; returns how many were sealed.

    Raises StorageUnavailable, changing nothing, when the chain and the store disagree (an
    event altered or deleted since version 1 logged it).
    """
    rows = db.fetchall(f"SELECT dispute_id, version, hash FROM {db.table(TABLE)}")
    logged = {(str(r["dispute_id"]), int(r["version"])): str(r["hash"]) for r in rows}
    last: dict[str, str] = {}
    vouched: list[Notification] = []
    for notification in _stored(recorder):
        dispute_id = str(notification.originator_id)
        digest = chain_hash(
            last.get(dispute_id, ""),
            notification.topic,
            notification.originator_version,
            notification.state,
        )
        last[dispute_id] = digest
        expected = logged.pop((dispute_id, notification.originator_version), None)
        if expected is None:
            continue
        if expected != digest:
            raise _refused(f"dispute {dispute_id} v{notification.originator_version} was altered")
        vouched.append(notification)
    if logged:
        dispute_id, version = min(logged)
        raise _refused(f"dispute {dispute_id} v{version} was deleted")
    if ring.current is None:
        return 0
    with db.transaction() as cursor:
        db.executemany(
            cursor,
            f"INSERT INTO {db.table(SEALS)} (originator_id, originator_version, seal) "
            "VALUES (?, ?, ?) ON CONFLICT (originator_id, originator_version) DO NOTHING",
            [
                (
                    db.originator_key(UUID(str(n.originator_id))),
                    n.originator_version,
                    ring.seal_event(
                        UUID(str(n.originator_id)), n.originator_version, n.topic, n.state
                    ).to_text(),
                )
                for n in vouched
            ],
        )
    return len(vouched)


def _refused(what: str) -> StorageUnavailable:
    return StorageUnavailable(
        f"the audit log (version 1) does not match the event store: {what} since it was "
        "logged; the log was not migrated and nothing was dropped"
    )
