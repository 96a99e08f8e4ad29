"""What every view offers the runner, and the helpers views share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from eventsourcing.persistence import Notification

from dispute_engine.database import Cursor, Database
from dispute_engine.domain.dispute import Dispute

Batch = Sequence[tuple[Notification, Dispute.Event]]


def timestamp(moment: datetime | None) -> str | None:
    """A fixed-width UTC text that sorts like the time it stands for (on both databases)."""
    if moment is None:
        return None
    # The ISO form without its "+00:00" is the same text as strftime's, made faster.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


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
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    db.executemany(
        cursor,
        f"INSERT INTO {db.table(table)} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        [[row[c] for c in columns] for row in rows],
    )
