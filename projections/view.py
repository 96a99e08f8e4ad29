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
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def moment(text: str | None) -> datetime | None:
    """The time a :func:`timestamp` text stands for."""
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class View(Protocol):
    """A read model: its tables, and how a batch of events changes them."""

    name: str
    tables: tuple[str, ...]

    def create(self, db: Database) -> None:
        """Create the view's tables and indexes if missing."""
        ...

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Apply a batch of events, in order, inside the runner's transaction."""
        ...


def upsert(
    db: Database, cursor: Cursor, table: str, key: Sequence[str], row: dict[str, Any]
) -> None:
    """Insert the row, or update it where its key already stands."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in key)
    db.execute(
        cursor,
        f"INSERT INTO {db.table(table)} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        list(row.values()),
    )
