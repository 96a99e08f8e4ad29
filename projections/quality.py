"""The quality view: one row per dispute with what the quality report groups and measures.

Channel, language and reason come from the filing; the investigator is the latest assignee.
The first response is the first investigator action (the events that meet the SLA's
first-response clock); the resolution is the latest entry into ``resolved`` (a reopened
dispute is unresolved again and counts a reopen); breaches are the SLA breaches recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispute_engine.database import Cursor, Database
from dispute_engine.domain.event_names import EventName
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.quality import Grouping, QualityFigures, QualityRow, quality_report
from dispute_engine.domain.sla_policy import FIRST_ACTIONS
from projections.view import Batch, timestamp, upsert

_COLUMNS = (
    "dispute_id",
    "status",
    "channel",
    "language",
    "investigator",
    "reason",
    "filed_at",
    "first_response_at",
    "resolved_at",
    "rating",
    "breaches",
    "reopens",
)


class QualityView:
    """Quality rows kept current by each dispute's events."""

    name: str = "quality"
    version: int = 1  # bump when the table changes: the view is rebuilt
    tables: tuple[str, ...] = ("quality_rows",)

    def create(self, db: Database) -> None:
        """Create the quality table."""
        db.create(
            f"CREATE TABLE IF NOT EXISTS {db.table('quality_rows')} ("
            "dispute_id TEXT PRIMARY KEY, status TEXT NOT NULL, channel TEXT NOT NULL, "
            "language TEXT NOT NULL, investigator TEXT, reason TEXT NOT NULL, "
            "filed_at TEXT NOT NULL, first_response_at TEXT, resolved_at TEXT, "
            "rating INTEGER, breaches INTEGER NOT NULL, reopens INTEGER NOT NULL)"
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Fold the batch into the rows of the disputes it touches, then write those rows."""
        rows = self._load(db, cursor, {str(e.originator_id) for _, e in batch})
        for _, event in batch:
            dispute_id = str(event.originator_id)
            name = type(event).__name__
            at = timestamp(event.timestamp)
            if name == EventName.FILED:
                claim: dict[str, Any] = event.claim  # type: ignore[attr-defined]
                rows[dispute_id] = {
                    "dispute_id": dispute_id,
                    "status": event.status,
                    "channel": claim["channel"],
                    "language": claim["language"],
                    "investigator": None,
                    "reason": claim["reason"],
                    "filed_at": at,
                    "first_response_at": None,
                    "resolved_at": None,
                    "rating": None,
                    "breaches": 0,
                    "reopens": 0,
                }
                continue
            row = rows[dispute_id]
            if name == EventName.ASSIGNED:
                row["investigator"] = event.investigator  # type: ignore[attr-defined]
            if name in FIRST_ACTIONS and row["first_response_at"] is None:
                row["first_response_at"] = at
            if name == EventName.SLA_BREACHED:
                row["breaches"] += 1
            if name == EventName.REOPENED:
                row["reopens"] += 1
                row["resolved_at"] = None
            elif event.status == Status.RESOLVED and row["status"] != Status.RESOLVED:
                row["resolved_at"] = at
            row["status"] = event.status
        upsert(db, cursor, "quality_rows", ["dispute_id"], list(rows.values()))

    @staticmethod
    def _load(db: Database, cursor: Cursor, dispute_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The saved rows of the disputes, a thousand per query."""
        found: dict[str, dict[str, Any]] = {}
        ids = sorted(dispute_ids)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            db.execute(
                cursor,
                f"SELECT {', '.join(_COLUMNS)} FROM {db.table('quality_rows')} "
                f"WHERE dispute_id IN ({', '.join('?' for _ in chunk)})",
                chunk,
            )
            for row in cursor.fetchall():
                found[str(row["dispute_id"])] = {c: row[c] for c in _COLUMNS}
        return found

    @staticmethod
    def rows(db: Database) -> list[QualityRow]:
        """Every dispute's quality row."""
        return [
            QualityRow(
                channel=r["channel"],
                language=r["language"],
                investigator=r["investigator"],
                reason=r["reason"],
                filed_at=datetime.fromisoformat(r["filed_at"]),
                first_response_at=_moment(r["first_response_at"]),
                resolved_at=_moment(r["resolved_at"]),
                rating=r["rating"],
                breaches=int(r["breaches"]),
                reopens=int(r["reopens"]),
            )
            for r in db.fetchall(
                "SELECT channel, language, investigator, reason, filed_at, first_response_at, "
                f"resolved_at, rating, breaches, reopens FROM {db.table('quality_rows')}"
            )
        ]

    @classmethod
    def report(cls, db: Database, by: Grouping | None = None) -> dict[str, QualityFigures]:
        """The quality report over every dispute, overall or by a grouping.

        Raises InvalidInput for an unknown grouping (before reading anything).
        """
        quality_report((), by=by)
        return quality_report(cls.rows(db), by=by)


def _moment(text: str | None) -> datetime | None:
    # The view's fixed-width UTC text; fromisoformat reads its "Z" and is fast enough for
    # a report over a hundred thousand rows.
    return None if text is None else datetime.fromisoformat(text)
