"""The audit log: every event flat and queryable, hash-chained, exportable."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, Literal

from pydantic_core import to_jsonable_python

from dispute_engine.database import Cursor, Database
from dispute_engine.hash_chain import chain_hash
from dispute_engine.log_store import LogStore
from dispute_engine.reports import Discrepancy
from projections.view import Batch, timestamp

COLUMNS = ("position", "dispute_id", "version", "event", "actor", "status", "at", "data", "hash")
_HIDDEN = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class AuditLog:
    """One row per event, with the hash chained over the stored event."""

    name: str = "audit_log"
    version: int = 1  # bump when the tables change: the view is rebuilt
    tables: tuple[str, ...] = ("audit_log",)

    def create(self, db: Database) -> None:
        """Create the log table and the indexes auditors query by."""
        table = db.table("audit_log")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "position BIGINT PRIMARY KEY, dispute_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "event TEXT NOT NULL, actor TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, "
            "data TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (dispute_id, version))",
            f"CREATE INDEX IF NOT EXISTS audit_log_actor ON {table} (actor, at)",
            f"CREATE INDEX IF NOT EXISTS audit_log_at ON {table} (at)",
        )
        LogStore(db).create()

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Append each event with its hash, chained to the dispute's previous event."""
        last: dict[str, str] = {}
        rows = []
        for notification, event in batch:
            dispute_id = str(event.originator_id)
            if dispute_id not in last:
                first = event.originator_version == 1
                last[dispute_id] = "" if first else self._previous_hash(db, cursor, dispute_id)
            digest = chain_hash(
                last[dispute_id],
                notification.topic,
                notification.originator_version,
                notification.state,
            )
            last[dispute_id] = digest
            data = {k: v for k, v in vars(event).items() if k not in _HIDDEN}
            rows.append(
                [
                    notification.id,
                    dispute_id,
                    event.originator_version,
                    type(event).__name__,
                    event.actor,
                    getattr(event, "status", ""),  # a staff member's change has no dispute status
                    timestamp(event.timestamp),
                    json.dumps(to_jsonable_python(data), sort_keys=True, ensure_ascii=False),
                    digest,
                ]
            )
        marks = ", ".join("?" for _ in COLUMNS)
        db.executemany(
            cursor,
            f"INSERT INTO {db.table('audit_log')} ({', '.join(COLUMNS)}) VALUES ({marks})",
            rows,
        )

    @staticmethod
    def _previous_hash(db: Database, cursor: Cursor, dispute_id: str) -> str:
        db.execute(
            cursor,
            f"SELECT hash FROM {db.table('audit_log')} WHERE dispute_id = ? "
            "ORDER BY version DESC LIMIT 1",
            [dispute_id],
        )
        row = cursor.fetchone()
        return "" if row is None else str(row["hash"])

    @staticmethod
    def rows(db: Database, *, dispute_id: str | None = None) -> Iterator[dict[str, Any]]:
        """The log in global order, optionally of one dispute."""
        where, params = ("WHERE dispute_id = ?", [dispute_id]) if dispute_id else ("", [])
        for row in db.fetchall(
            f"SELECT {', '.join(COLUMNS)} FROM {db.table('audit_log')} {where} ORDER BY position",
            params,
        ):
            yield {column: row[column] for column in COLUMNS}

    @classmethod
    def export(cls, db: Database, fmt: Literal["csv", "jsonl"]) -> str:
        """The whole log as CSV or JSON Lines."""
        rows = list(cls.rows(db))
        if fmt == "jsonl":
            return "".join(
                json.dumps({**r, "data": json.loads(r["data"])}, ensure_ascii=False) + "\n"
                for r in rows
            )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def verify(db: Database | None, stored: Iterator[Any]) -> tuple[int, list[Discrepancy]]:
    """Recompute the hash chain from the stored events and compare it with the log.

    ``stored`` yields the event store's notifications in order; ``db`` is None when no log
    was ever built. Returns how many logged events were checked and every discrepancy: an
    event altered, deleted, or not yet logged.
    """
    rows = AuditLog.rows(db) if db is not None else iter(())
    logged = {(r["dispute_id"], int(r["version"])): str(r["hash"]) for r in rows}
    found: list[Discrepancy] = []
    last: dict[str, str] = {}
    seen: set[tuple[str, int]] = set()
    for notification in stored:
        dispute_id = str(notification.originator_id)
        digest = chain_hash(
            last.get(dispute_id, ""),
            notification.topic,
            notification.originator_version,
            notification.state,
        )
        last[dispute_id] = digest
        key = (dispute_id, notification.originator_version)
        seen.add(key)
        if key not in logged:
            found.append(Discrepancy(dispute_id, key[1], "not in the audit log yet"))
        elif logged[key] != digest:
            found.append(Discrepancy(dispute_id, key[1], "altered since it was logged"))
    found += [Discrepancy(d, v, "deleted from the event store") for d, v in logged.keys() - seen]
    return len(logged), sorted(found, key=lambda d: (d.dispute_id, d.version))
