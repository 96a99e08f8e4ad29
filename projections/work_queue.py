"""The investigators' work queue: every dispute by status, assignee, priority and age."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dispute_engine.database import Cursor, Database, timestamp
from dispute_engine.domain import events
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.claim import PRIORITY_RANK
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.lifecycle import OPEN
from projections.view import Batch, upsert


class WorkQueue:
    """One row per dispute, kept current by its events."""

    name: str = "work_queue"
    version: int = 3  # bump when the tables change: the view is rebuilt
    tables: tuple[str, ...] = ("work_queue",)

    def create(self, db: Database) -> None:
        """Create the queue table and the indexes investigators filter by."""
        table = db.table("work_queue")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "dispute_id TEXT PRIMARY KEY, status TEXT NOT NULL, is_open INTEGER NOT NULL, "
            "assignee TEXT, priority TEXT NOT NULL, priority_rank INTEGER NOT NULL, "
            "reason TEXT NOT NULL, claimant_id TEXT NOT NULL, channel TEXT NOT NULL, "
            "language TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL, "
            "filed_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL, "
            "needs_recheck INTEGER NOT NULL, queue TEXT)",
            "CREATE INDEX IF NOT EXISTS work_queue_open ON "
            f"{table} (is_open, priority_rank, filed_at)",
            f"CREATE INDEX IF NOT EXISTS work_queue_assignee ON {table} (assignee, status)",
            f"CREATE INDEX IF NOT EXISTS work_queue_recheck ON {table} (needs_recheck) "
            "WHERE needs_recheck = 1",
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Fold the batch into the final row of each dispute it touches, then write those."""
        new: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}
        for _, event in batch:
            if not isinstance(event, events.DisputeEvent):
                continue  # the staff directory's events share the store
            dispute_id = str(event.originator_id)
            row = {
                "status": event.status,
                "is_open": int(event.status in OPEN),
                "updated_at": timestamp(event.timestamp),
                "version": event.originator_version,
            }
            if isinstance(event, events.Assigned):
                row["assignee"] = event.investigator
            if isinstance(event, events.Escalated):
                row["priority"] = event.priority
                row["priority_rank"] = PRIORITY_RANK[event.priority]
                row["queue"] = event.queue
            if isinstance(event, events.TransactionLookedUp):
                facts = event.facts
                row["needs_recheck"] = int(
                    not facts["finalized"] and facts["status"] != "not_found"
                )
            if isinstance(event, events.Filed):
                new[dispute_id] = {"dispute_id": dispute_id, **row, **self._filed(event)}
            elif dispute_id in new:
                new[dispute_id].update(row)
            else:
                changed.setdefault(dispute_id, {}).update(row)
        upsert(db, cursor, "work_queue", ["dispute_id"], list(new.values()))
        table = db.table("work_queue")
        for columns in {tuple(sorted(row)) for row in changed.values()}:
            sets = ", ".join(f"{column} = ?" for column in columns)
            db.executemany(
                cursor,
                f"UPDATE {table} SET {sets} WHERE dispute_id = ?",
                [
                    [*(row[c] for c in columns), d]
                    for d, row in changed.items()
                    if tuple(sorted(row)) == columns
                ],
            )

    @staticmethod
    def _filed(event: events.Filed) -> dict[str, Any]:
        claim = event.claim
        return {
            "assignee": None,
            "queue": None,
            "needs_recheck": 0,
            "priority": claim["priority"],
            "priority_rank": PRIORITY_RANK[claim["priority"]],
            "reason": claim["reason"],
            "claimant_id": claim["claimant_id"],
            "channel": claim["channel"],
            "language": claim["language"],
            "asset": claim["transaction"]["asset"],
            "amount": str(claim["transaction"]["amount"]),
            "filed_at": timestamp(event.timestamp),
        }

    @staticmethod
    def needing_recheck(db: Database) -> list[str]:
        """Open disputes whose latest chain facts are not final yet."""
        rows = db.fetchall(
            f"SELECT dispute_id FROM {db.table('work_queue')} "
            "WHERE needs_recheck = 1 AND is_open = 1 ORDER BY dispute_id"
        )
        return [str(r["dispute_id"]) for r in rows]

    @staticmethod
    def ids(
        db: Database, *, status: str | None, assignee: str | None, queue: str | None = None
    ) -> list[str]:
        """Dispute ids, most urgent and oldest first, optionally by status, assignee, queue."""
        where, params = [], []
        if queue is not None:
            where.append("queue = ?")
            params.append(queue)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if assignee is not None:
            where.append("assignee = ?")
            params.append(assignee)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = db.fetchall(
            f"SELECT dispute_id FROM {db.table('work_queue')} {clause} "
            "ORDER BY priority_rank, filed_at, dispute_id",
            params,
        )
        return [str(r["dispute_id"]) for r in rows]

    @staticmethod
    def claimant_disputes(db: Database, claimant: str) -> list[UUID]:
        """The disputes filed by a claimant, oldest first; ids are compared in canonical form,
        as filed under any spelling."""
        rows = db.fetchall(
            f"SELECT dispute_id, claimant_id FROM {db.table('work_queue')} "
            "ORDER BY filed_at, dispute_id"
        )
        return [
            UUID(str(r["dispute_id"])) for r in rows if _canonical(r["claimant_id"]) == claimant
        ]


def _canonical(claimant_id: str) -> str | None:
    try:
        return canonical_id(claimant_id, field="claimant_id")
    except InvalidInput:
        return None  # an id filed before canonical ids were required matches no canonical one
