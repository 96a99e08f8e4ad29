"""What every view offers the runner, and the helpers views share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import Notification

from dispute_engine.database import Cursor, Database, timestamp
from dispute_engine.domain.dispute import Dispute

Batch = Sequence[tuple[Notification, Dispute.Event]]


class Timestamps(dict[datetime | None, str | None]):
    """:func:`timestamp` of each moment asked, worked out once: the rows of a batch share
    many moments (a clock starts when its dispute's event happened, as do its siblings)."""

    def __missing__(self, moment: datetime | None) -> str | None:
        text = self[moment] = timestamp(moment)
        return text


class View(Protocol):
    """A read model: its tables, and how a batch of events changes them."""

    name: str
    version: int
    tables: tuple[str, ...]

    def create(self, db: Database) -> None:
        """Create the view's tables and indexes if missing."""
        ...

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Apply a batch of events, in order, inside the runner's transaction."""
        ...


def upsert(
    db: Database, cursor: Cursor, table: str, key: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert the rows (all with the same columns), or update them where their key stands."""
    if not rows:
        return
    columns = list(rows[0])
    marks = ", ".join("?" for _ in columns)
    db.executemany(
        cursor,
        f"INSERT INTO {db.table(table)} ({', '.join(columns)}) VALUES ({marks}) "
        + _on_conflict(columns, key),
        [[row[c] for c in columns] for row in rows],
    )


def upsert_all(
    db: Database, cursor: Cursor, table: str, key: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """As :func:`upsert`, in one statement on PostgreSQL (the rows sent as one JSON array and
    read as the table's rows), for thousands of rows at once. The rows' values are text,
    integers or None, and no two rows have the same key."""
    if db.kind != "postgres" or not rows:
        upsert(db, cursor, table, key, rows)
        return
    columns = ", ".join(rows[0])
    db.execute(
        cursor,
        f"INSERT INTO {db.table(table)} ({columns}) SELECT {columns} "
        f"FROM json_populate_recordset(NULL::{db.table(table)}, ?::json) "
        + _on_conflict(list(rows[0]), key),
        [json.dumps(rows)],
    )


def _on_conflict(columns: Sequence[str], key: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
