"""The SLA view: a row per clock, indexed by when its next warning or breach falls due."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any
from uuid import UUID

from dispute_engine.database import Cursor, Database, timestamp
from dispute_engine.domain import events
from dispute_engine.domain.dispute import SlaCopy
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.sla_clock import SlaClock, SlaTracker, move_clocks
from dispute_engine.domain.sla_policy import Metric
from dispute_engine.reports import ReportRow
from projections.view import Batch, Timestamps, upsert_all

MICROSECOND = timedelta(microseconds=1)
# A clock's row and a tracker's row, column by column.
CLOCK_FIELDS = (
    "dispute_id",
    "clock_id",
    "metric",
    "cycle",
    "state",
    "priority",
    "started_at",
    "due_at",
    "ended_at",
    "next_alert_at",
    "next_threshold",
    "alerts",
    "policy_version",
    "target_us",
    "consumed_us",
    "resumed_at",
    "paused_at",
    "unit",
    "jurisdiction",
)
TRACKER_FIELDS = ("dispute_id", "status", "version", "tracker")
# What a clock's row keeps of it, besides its dispute and what is worked out from it
# (read back by _clock).
CLOCK_COLUMNS = ", ".join(
    f"c.{column}"
    for column in CLOCK_FIELDS
    if column not in ("dispute_id", "priority", "due_at", "next_alert_at", "next_threshold")
)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _clock(row: Any) -> SlaClock:
    """A clock as its row keeps it: the same value the tracker held."""
    started = _moment(row["started_at"])
    assert started is not None
    return SlaClock(
        metric=Metric(row["metric"]),
        cycle=int(row["cycle"]),
        state=row["state"],
        started_at=started,
        target=timedelta(microseconds=int(row["target_us"])),
        consumed=timedelta(microseconds=int(row["consumed_us"])),
        resumed_at=_moment(row["resumed_at"]),
        policy_version=row["policy_version"],
        unit=row["unit"],
        jurisdiction=row["jurisdiction"],
        alerts=tuple(int(a) for a in str(row["alerts"]).split(",") if a),
        ended_at=_moment(row["ended_at"]),
        paused_at=_moment(row["paused_at"]),
    )


@dataclass(frozen=True)
class _Tracked:
    """A dispute's status, version and clocks as the view last saved them."""

    status: Status
    version: int
    sla: SlaTracker


class SlaView:
    """SLA clocks computed by the same tracker the Dispute aggregate runs."""

    name: str = "sla"
    version: int = 4  # bump when the tables change: the view is rebuilt
    tables: tuple[str, ...] = ("sla_clocks", "sla_trackers")
    # Large batches, as the audit log's: fewer reads, commits and per-batch statements, and
    # more of a new dispute's events in the batch that files it (its rows inserted once).
    batch_size: int = 5000

    def create(self, db: Database) -> None:
        """Create the clock and tracker tables and the due index."""
        clocks = db.table("sla_clocks")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {clocks} ("
            "dispute_id TEXT NOT NULL, clock_id TEXT NOT NULL, metric TEXT NOT NULL, "
            "cycle INTEGER NOT NULL, state TEXT NOT NULL, priority TEXT NOT NULL, "
            "started_at TEXT NOT NULL, due_at TEXT, ended_at TEXT, next_alert_at TEXT, "
            "next_threshold INTEGER, alerts TEXT NOT NULL, policy_version TEXT NOT NULL, "
            "target_us BIGINT NOT NULL, consumed_us BIGINT NOT NULL, resumed_at TEXT, "
            "paused_at TEXT, unit TEXT NOT NULL, jurisdiction TEXT NOT NULL, "
            "PRIMARY KEY (dispute_id, clock_id))",
            f"CREATE INDEX IF NOT EXISTS sla_clocks_due ON {clocks} (next_alert_at) "
            "WHERE next_alert_at IS NOT NULL",
            f"CREATE INDEX IF NOT EXISTS sla_clocks_started ON {clocks} (started_at)",
            f"CREATE TABLE IF NOT EXISTS {db.table('sla_trackers')} ("
            "dispute_id TEXT PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL, "
            "tracker TEXT NOT NULL)",
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Move each dispute's clocks as the aggregate does, then write the touched rows:
        those of disputes filed in the batch are new (inserted, by COPY on PostgreSQL), the
        others' are updated in place."""
        # The staff directory's events share the store: they move no clock.
        batch = [(n, e) for n, e in batch if isinstance(e, events.DisputeEvent)]
        ids = [str(e.originator_id) for _, e in batch]
        # In the batch's order: a dispute filed in it has no rows yet.
        filed = dict.fromkeys(
            d for d, (_, e) in zip(ids, batch, strict=True) if isinstance(e, events.Filed)
        )
        copies = self._load(db, cursor, set(ids) - filed.keys())
        touched: dict[str, set[str]] = {}
        for dispute_id, (_, event) in zip(ids, batch, strict=True):
            previous: Status | None = None
            if isinstance(event, events.Filed):
                tracker = SlaTracker.for_claim(event.claim, event.policy_version)
            else:
                copy = copies[dispute_id]
                previous, tracker = copy.status, copy.sla
            if dispute_id in filed:  # every clock of a new dispute is written
                move_clocks(tracker, event.clock_move(previous))
            else:
                before = dict(tracker.clocks)
                move_clocks(tracker, event.clock_move(previous))
                # Clocks are immutable values: a clock the event moved is a new object.
                touched.setdefault(dispute_id, set()).update(
                    key for key, clock in tracker.clocks.items() if before.get(key) is not clock
                )
            copies[dispute_id] = _Tracked(Status(event.status), event.originator_version, tracker)
        texts = Timestamps()
        db.insert_rows(
            cursor,
            db.table("sla_trackers"),
            TRACKER_FIELDS,
            [self._tracker_row(d, copies[d]) for d in filed],
        )
        db.insert_rows(
            cursor,
            db.table("sla_clocks"),
            CLOCK_FIELDS,
            [
                row
                for d in filed
                for row in self._clock_rows(d, copies[d].sla, sorted(copies[d].sla.clocks), texts)
            ],
        )
        upsert_all(
            db,
            cursor,
            "sla_trackers",
            ["dispute_id"],
            [
                dict(zip(TRACKER_FIELDS, self._tracker_row(d, c), strict=True))
                for d, c in copies.items()
                if d not in filed
            ],
        )
        upsert_all(
            db,
            cursor,
            "sla_clocks",
            ["dispute_id", "clock_id"],
            [
                dict(zip(CLOCK_FIELDS, row, strict=True))
                for d, keys in touched.items()
                for row in self._clock_rows(d, copies[d].sla, sorted(keys), texts)
            ],
        )

    @staticmethod
    def _load(db: Database, cursor: Cursor, dispute_ids: set[str]) -> dict[str, _Tracked]:
        """The saved status, version and clocks of the disputes, a thousand per query."""
        found: dict[str, _Tracked] = {}
        ids = sorted(dispute_ids)
        trackers, clocks = db.table("sla_trackers"), db.table("sla_clocks")
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            db.execute(
                cursor,
                f"SELECT t.dispute_id, t.status, t.version, t.tracker, {CLOCK_COLUMNS} "
                f"FROM {trackers} t LEFT JOIN {clocks} c ON c.dispute_id = t.dispute_id "
                f"WHERE t.dispute_id IN ({', '.join('?' for _ in chunk)}) "
                "ORDER BY t.dispute_id, c.clock_id",
                chunk,
            )
            for dispute_id, group in groupby(cursor.fetchall(), key=lambda r: str(r["dispute_id"])):
                rows = list(group)
                tracker = SlaTracker.from_dict({**json.loads(rows[0]["tracker"]), "clocks": []})
                tracker.clocks.update(
                    (r["clock_id"], _clock(r)) for r in rows if r["clock_id"] is not None
                )
                found[dispute_id] = _Tracked(
                    Status(rows[0]["status"]), int(rows[0]["version"]), tracker
                )
        return found

    @staticmethod
    def _tracker_row(dispute_id: str, copy: _Tracked) -> tuple[Any, ...]:
        """A tracker's row, in the order of ``TRACKER_FIELDS``."""
        return (
            dispute_id,
            str(copy.status),
            copy.version,
            json.dumps(copy.sla.to_dict(clocks=False)),
        )

    @staticmethod
    def _clock_rows(
        dispute_id: str, tracker: SlaTracker, keys: list[str], texts: Timestamps
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of the tracker's clocks named, in the order of ``CLOCK_FIELDS``."""
        for key in keys:
            clock = tracker.clocks[key]
            upcoming = clock.next_alert()
            yield (
                dispute_id,
                key,  # a clock is kept under its id
                clock.metric.value,
                clock.cycle,
                clock.state,
                tracker.priority,
                texts[clock.started_at],
                texts[clock.due_at],
                texts[clock.ended_at],
                None if upcoming is None else texts[upcoming[1]],
                None if upcoming is None else upcoming[0],
                ",".join(str(a) for a in clock.alerts),
                clock.policy_version,
                clock.target // MICROSECOND,
                clock.consumed // MICROSECOND,
                texts[clock.resumed_at],
                texts[clock.paused_at],
                clock.unit,
                clock.jurisdiction,
            )

    @staticmethod
    def due_statement(db: Database) -> str:
        """The query for the clocks due by a time (``?``), with their disputes' status and
        version read in the same statement (so they agree): it reads the due index, and
        the trackers only of the clocks found there."""
        trackers = db.table("sla_trackers")
        return (
            f"SELECT c.dispute_id, {CLOCK_COLUMNS}, "
            f"(SELECT t.status FROM {trackers} t WHERE t.dispute_id = c.dispute_id) AS status, "
            f"(SELECT t.version FROM {trackers} t WHERE t.dispute_id = c.dispute_id) AS version "
            f"FROM {db.table('sla_clocks')} c "
            "WHERE c.next_alert_at IS NOT NULL AND c.next_alert_at <= ? "
            "ORDER BY c.dispute_id, c.clock_id"
        )

    @staticmethod
    def due(db: Database, now: datetime) -> list[SlaCopy]:
        """Disputes with a warning or breach due by ``now``, with only their clocks due: found
        by the due index, and those clocks alone read back."""
        rows = db.fetchall(SlaView.due_statement(db), [timestamp(now)])
        rows = [r for r in rows if r["status"] is not None]  # a clock always has its tracker
        copies: list[SlaCopy] = []
        for dispute_id, group in groupby(rows, key=lambda row: str(row["dispute_id"])):
            found = list(group)
            copies.append(
                SlaCopy(
                    dispute_id=UUID(dispute_id),
                    status=Status(found[0]["status"]),
                    version=int(found[0]["version"]),
                    clocks=tuple(_clock(r) for r in found),
                )
            )
        return copies

    @staticmethod
    def report(db: Database, since: datetime, until: datetime) -> list[ReportRow]:
        """Met, breached, open and stopped clocks per metric and priority, started in a period."""
        rows = db.fetchall(
            f"SELECT metric, priority, state, COUNT(*) AS n FROM {db.table('sla_clocks')} "
            "WHERE started_at >= ? AND started_at < ? GROUP BY metric, priority, state",
            [timestamp(since), timestamp(until)],
        )
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for r in rows:
            counts.setdefault((r["metric"], r["priority"]), {})[r["state"]] = int(r["n"])
        return [
            ReportRow(
                metric=metric,
                priority=priority,
                met=c.get("met", 0),
                breached=c.get("breached", 0),
                open=c.get("running", 0) + c.get("paused", 0),
                stopped=c.get("stopped", 0),
            )
            for (metric, priority), c in sorted(counts.items())
        ]
