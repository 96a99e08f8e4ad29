"""The quality report's computation over many disputes, overall and by each grouping.

.venv/bin/python bench/quality.py --count 100000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from dispute_engine.database import Database, timestamp
from dispute_engine.delivery.storage import open_database
from dispute_engine.domain.quality import GROUPINGS, QualityRow, quality_report
from projections.quality import QualityView


def rows(count: int) -> list[QualityRow]:
    """Rows like a busy desk's: most answered and resolved, some rated, breached or reopened."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    for _ in range(count):
        filed = start + timedelta(seconds=rng.randrange(300 * 86_400))
        made.append(
            QualityRow(
                channel=rng.choice(["app", "chat", "email", "social", "phone"]),
                language=rng.choice(["en", "zh", "es"]),
                investigator=rng.choice([None, "alice", "bob", "carol", "dan"]),
                reason=rng.choice(["not_received", "wrong_amount", "duplicate", "other"]),
                filed_at=filed,
                first_response_at=filed + timedelta(minutes=rng.randrange(1, 600)),
                resolved_at=filed + timedelta(hours=rng.randrange(1, 400))
                if rng.random() < 0.8
                else None,
                rating=rng.randint(1, 5) if rng.random() < 0.4 else None,
                breaches=int(rng.random() < 0.1),
                reopens=int(rng.random() < 0.05),
            )
        )
    return made


def micros(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else (end - start) // timedelta(microseconds=1)


def fill(db: Database, data: list[QualityRow]) -> None:
    """Write the rows into the quality view's table, as its projection would have."""
    view = QualityView()
    view.create(db)
    with db.transaction() as cursor:
        db.executemany(
            cursor,
            f"INSERT INTO {db.table('quality_rows')} (dispute_id, status, channel, language, "
            "investigator, reason, filed_at, first_response_at, resolved_at, rating, breaches, "
            "reopens, first_response_us, resolution_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f"{n:032x}",
                    "resolved" if r.resolved_at else "investigating",
                    r.channel,
                    r.language,
                    r.investigator,
                    r.reason,
                    timestamp(r.filed_at),
                    timestamp(r.first_response_at),
                    timestamp(r.resolved_at),
                    r.rating,
                    r.breaches,
                    r.reopens,
                    micros(r.filed_at, r.first_response_at),
                    micros(r.filed_at, r.resolved_at),
                )
                for n, r in enumerate(data)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="disputes in the report")
    parser.add_argument("--db", help="a new database to hold the view (else: rows in memory)")
    args = parser.parse_args()
    data = rows(args.count)
    db = None
    if args.db:
        db, factory = open_database(args.db)
        fill(db, data)
    for by in (None, *GROUPINGS):
        started = time.perf_counter()
        report = quality_report(data, by=by) if db is None else QualityView.report(db, by=by)
        elapsed = time.perf_counter() - started
        where = "from the view" if db else "in memory"
        print(
            f"by {by or 'nothing'}: {args.count} disputes {where}, {len(report)} groups, "
            f"{elapsed:.3f} s"
        )
    if args.db:
        factory.close()


if __name__ == "__main__":
    main()
