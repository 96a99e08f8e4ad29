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

from dispute_engine.domain.quality import GROUPINGS, QualityRow, quality_report


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="disputes in the report")
    args = parser.parse_args()
    data = rows(args.count)
    for by in (None, *GROUPINGS):
        started = time.perf_counter()
        report = quality_report(data, by=by)
        elapsed = time.perf_counter() - started
        print(f"by {by or 'nothing'}: {len(data)} disputes, {len(report)} groups, {elapsed:.3f} s")


if __name__ == "__main__":
    main()
