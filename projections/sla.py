"""The SLA view: a row per clock, indexed by when its next warning or breach falls due."""

from __future__ import annotations

import json
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
from projections.view import Batch, upsert_all

MICROSECOND = timedelta(microseconds=1)
# What a clock's row keeps of it, besides its dispute (read back by _clock).
CLOCK_COLUMNS = ", ".join(
    f"c.{column}"
    for column in (
        "clock_id",
        "metric",
        "cycle",
        "state",
        "started_at",
        "ended_at",
        "alerts",
        "policy_version",
        "target_us",
        "consumed_us",
        "resumed_at",
        "paused_at",
        "unit",
        "jurisdiction",
    )
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
        """Move each dispute's clocks as the aggregate does, then write the touched rows."""
        # The staff directory's events share the store: they move no clock.
        batch = [(n, e) for n, e in batch if isinstance(e, events.DisputeEvent)]
        copies = self._load(
            db,
            cursor,
            {str(e.originator_id) for _, e in batch if not isinstance(e, events.Filed)},
        )
        touched: dict[str, set[str]] = {}
        for _, event in batch:
            dispute_id = str(event.originator_id)
            previous: Status | None = None
            if isinstance(event, events.Filed):
                tracker = SlaTracker.for_claim(event.claim, event.policy_version)
            else:
                copy = copies[dispute_id]
                previous, tracker = copy.status, copy.sla
            before = dict(tracker.clocks)
            move_clocks(tracker, event.clock_move(previous))
            # Clocks are immutable values: a clock the event moved is a new object.
            touched.setdefault(dispute_id, set()).update(
                key for key, clock in tracker.clocks.items() if before.get(key) is not clock
            )
            copies[dispute_id] = _Tracked(Status(event.status), event.originator_version, tracker)
        upsert_all(
            db,
            cursor,
            "sla_trackers",
            ["dispute_id"],
            [
                {
                    "dispute_id": d,
                    "status": str(c.status),
                    "version": c.version,
                    "tracker": json.dumps(c.sla.to_dict(clocks=False)),
                }
                for d, c in copies.items()
            ],
        )
        upsert_all(
            db,
            cursor,
            "sla_clocks",
            ["dispute_id", "clock_id"],
            [
                self._clock_row(d, copies[d].sla, copies[d].sla.clocks[key])
                for d, keys in touched.items()
                for key in sorted(keys)
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
    def _clock_row(dispute_id: str, tracker: SlaTracker, clock: SlaClock) -> dict[str, Any]:
        upcoming = clock.next_alert()
        return {
            "dispute_id": dispute_id,
            "clock_id": clock.id,
            "metric": clock.metric.value,
            "cycle": clock.cycle,
            "state": clock.state,
            "priority": tracker.priority,
            "started_at": timestamp(clock.started_at),
            "due_at": timestamp(clock.due_at),
            "ended_at": timestamp(clock.ended_at),
            "next_alert_at": timestamp(upcoming[1]) if upcoming else None,
            "next_threshold": upcoming[0] if upcoming else None,
            "alerts": ",".join(str(a) for a in clock.alerts),
            "policy_version": clock.policy_version,
            "target_us": clock.target // MICROSECOND,
            "consumed_us": clock.consumed // MICROSECOND,
            "resumed_at": timestamp(clock.resumed_at),
            "paused_at": timestamp(clock.paused_at),
            "unit": clock.unit,
            "jurisdiction": clock.jurisdiction,
        }

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
