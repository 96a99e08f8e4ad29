"""The quality view: one row per dispute with what the quality report groups and measures.

Channel, language and reason come from the filing; the investigator is the latest assignee.
The first response is the first investigator action (the events that meet the SLA's
first-response clock); the resolution is the latest entry into ``resolved`` (a reopened
dispute is unresolved again and counts a reopen); breaches are the SLA breaches recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dispute_engine.database import Cursor, Database, timestamp
from dispute_engine.domain import events
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.quality import (
    ALL,
    GROUPINGS,
    SATISFIED,
    UNASSIGNED,
    Durations,
    Grouping,
    QualityFigures,
    QualityRow,
    SortedTimes,
    Tally,
    check_grouping,
    figures_of,
)
from dispute_engine.domain.sla_policy import FIRST_ACTIONS
from projections.view import Batch, upsert

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
    "first_response_us",
    "resolution_us",
)


class QualityView:
    """Quality rows kept current by each dispute's events."""

    name: str = "quality"
    version: int = 1  # bump when the table changes: the view is rebuilt
    tables: tuple[str, ...] = ("quality_rows",)

    def create(self, db: Database) -> None:
        """Create the quality table."""
        table = db.table("quality_rows")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "dispute_id TEXT PRIMARY KEY, status TEXT NOT NULL, channel TEXT NOT NULL, "
            "language TEXT NOT NULL, investigator TEXT, reason TEXT NOT NULL, "
            "filed_at TEXT NOT NULL, first_response_at TEXT, resolved_at TEXT, "
            "rating INTEGER, breaches INTEGER NOT NULL, reopens INTEGER NOT NULL, "
            # The times since filing, in whole microseconds: the report sorts and counts them
            # in the database instead of reading every row's times.
            "first_response_us BIGINT, resolution_us BIGINT)",
            # The report walks these to the median and the 90th percentile of each group.
            *(
                f"CREATE INDEX IF NOT EXISTS quality_{'_'.join(key)} ON {table} ({', '.join(key)})"
                for times in ("first_response_us", "resolution_us")
                for key in ((times,), *((g, times) for g in GROUPINGS))
            ),
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Fold the batch into the rows of the disputes it touches, then write those rows."""
        # The staff directory's events share the store: they touch no dispute.
        batch = [(n, e) for n, e in batch if isinstance(e, events.DisputeEvent)]
        rows = self._load(db, cursor, {str(e.originator_id) for _, e in batch})
        for _, event in batch:
            dispute_id = str(event.originator_id)
            at = timestamp(event.timestamp)
            if isinstance(event, events.Filed):
                claim: dict[str, Any] = event.claim
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
                    "first_response_us": None,
                    "resolution_us": None,
                }
                continue
            row = rows[dispute_id]
            if isinstance(event, events.Assigned):
                row["investigator"] = event.investigator
            if isinstance(event, events.FeedbackRecorded):
                row["rating"] = event.rating
            if isinstance(event, FIRST_ACTIONS) and row["first_response_at"] is None:
                row["first_response_at"] = at
                row["first_response_us"] = _since_filing(row, event.timestamp)
            if isinstance(event, events.SlaBreached):
                row["breaches"] += 1
            if isinstance(event, events.Reopened):
                row["reopens"] += 1
                row["resolved_at"] = row["resolution_us"] = None
            elif event.status == Status.RESOLVED and row["status"] != Status.RESOLVED:
                row["resolved_at"] = at
                row["resolution_us"] = _since_filing(row, event.timestamp)
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

    @staticmethod
    def report(db: Database, by: Grouping | None = None) -> dict[str, QualityFigures]:
        """The quality report over every dispute, overall or by a grouping, groups sorted.

        Counted and sorted in the database: it equals :func:`quality_report` over
        :meth:`rows`, without reading every row. Raises InvalidInput for an unknown grouping.
        """
        key = _GROUP_KEYS[check_grouping(by)]
        table = db.table("quality_rows")
        satisfied = ", ".join(str(r) for r in sorted(SATISFIED))
        tallies: dict[str, Tally] = {}
        timed: dict[str, dict[str, int]] = {}
        for r in db.fetchall(
            f"SELECT {key} AS grp, COUNT(*) AS disputes, COUNT(rating) AS rated, "
            "COUNT(first_response_us) AS responded, COUNT(resolution_us) AS resolved, "
            f"SUM(CASE WHEN rating IN ({satisfied}) THEN 1 ELSE 0 END) AS satisfied, "
            "SUM(breaches) AS breaches, "
            "SUM(CASE WHEN breaches > 0 THEN 1 ELSE 0 END) AS breached, "
            "SUM(CASE WHEN resolved_at IS NOT NULL OR reopens > 0 THEN 1 ELSE 0 END) "
            "AS ever_resolved, SUM(CASE WHEN reopens > 0 THEN 1 ELSE 0 END) AS reopened "
            f"FROM {table} GROUP BY 1"
        ):
            name = str(r["grp"])
            tallies[name] = Tally(
                disputes=int(r["disputes"]),
                rated=int(r["rated"]),
                satisfied=int(r["satisfied"]),
                breaches=int(r["breaches"]),
                breached_disputes=int(r["breached"]),
                ever_resolved=int(r["ever_resolved"]),
                reopened=int(r["reopened"]),
            )
            timed[name] = {
                "first_response_us": int(r["responded"]),
                "resolution_us": int(r["resolved"]),
            }

        def times(name: str, column: str) -> Durations:
            where, params = _group_filter(by, name)
            return Durations.of_sorted(
                SortedTimes(
                    timed[name][column],
                    lambda rank: _time_at(db, column, where, params, rank),
                )
            )

        return {
            name: figures_of(
                tallies[name],
                first_response=times(name, "first_response_us"),
                resolution=times(name, "resolution_us"),
            )
            for name in sorted(tallies)
        }


# Expressions, not bare columns: grouping by a bare column, SQLite walks the column's index
# and fetches every row from the table by it, several times slower than one plain scan.
_GROUP_KEYS: dict[Grouping | None, str] = {
    None: f"'{ALL}'",
    "channel": "channel || ''",
    "language": "language || ''",
    "reason": "reason || ''",
    "investigator": f"COALESCE(investigator, '{UNASSIGNED}')",
}


def _group_filter(by: Grouping | None, name: str) -> tuple[str, list[str]]:
    """The condition selecting one group's rows, written so the view's indexes serve it."""
    if by is None:
        return "", []
    if by == "investigator" and name == UNASSIGNED:
        return f"AND (investigator IS NULL OR investigator = '{UNASSIGNED}')", []
    return f"AND {by} = ?", [name]


def _time_at(db: Database, column: str, where: str, params: list[str], rank: int) -> int:
    """The time at a 0-based rank of a group's sorted times: a walk along an index."""
    rows = db.fetchall(
        f"SELECT {column} AS t FROM {db.table('quality_rows')} "
        f"WHERE {column} IS NOT NULL {where} ORDER BY {column} LIMIT 1 OFFSET ?",
        [*params, rank],
    )
    return int(rows[0]["t"])


def _since_filing(row: dict[str, Any], moment: datetime) -> int:
    return (moment - datetime.fromisoformat(row["filed_at"])) // timedelta(microseconds=1)


def _moment(text: str | None) -> datetime | None:
    # The view's fixed-width UTC text; fromisoformat reads its "Z" and is fast enough for
    # a report over a hundred thousand rows.
    return None if text is None else datetime.fromisoformat(text)
