"""The SLA checker at scale on PostgreSQL, and projection catch-up speed.

Files N real disputes (each sends a first notice), bulk-loads synthetic open clocks with COPY
until the SLA view holds ``--clocks`` rows, with the real ones (1 % by default) due. Prints:
catch-up events/s of each view (rebuilt from all events), the due-index query time, one
checker tick (``record_sla_breaches``) that records a 50 % warning on every due clock, with
the goals, and the plan of the idle tick's query.

    .venv/bin/python bench/sla_check.py --clocks 1000000 --due 10000
"""

from __future__ import annotations

import argparse
import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from write_throughput import filing  # the same filings, from beside this script

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.database import timestamp
from projections.sla import SlaView

PG = "postgresql://postgres@127.0.0.1:5432/test"
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


TICK_GOAL = 0.5  # seconds for one tick recording --due alerts among --clocks open clocks
CATCH_UP_GOAL = 15_000  # events/s of the SLA view's catch-up


def verdict(met: bool) -> str:
    return "met" if met else "not met"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def load_synthetic_clocks(url_schema: str, rows: int) -> float:
    """COPY ``rows`` open clocks due next year into the SLA view; returns seconds taken."""
    far = timestamp(T0 + timedelta(days=365))
    year = timedelta(days=365) // timedelta(microseconds=1)
    started = time.perf_counter()
    with psycopg.connect(PG) as conn, conn.cursor() as cur:
        with cur.copy(
            f'COPY "{url_schema}".sla_clocks (dispute_id, clock_id, metric, cycle, state, '
            "priority, started_at, due_at, ended_at, next_alert_at, next_threshold, alerts, "
            "policy_version, target_us, consumed_us, resumed_at, paused_at, unit, jurisdiction) "
            "FROM STDIN"
        ) as copy:
            buffer = io.StringIO()
            for n in range(rows):
                buffer.write(
                    f"{uuid.UUID(int=n)}\tresolution:1\tresolution\t1\trunning\tnormal\t"
                    f"{timestamp(T0)}\t{far}\t\\N\t{far}\t50\t\t2026-11\t{year}\t0\t"
                    f"{timestamp(T0)}\t\\N\tcalendar_days\tUS\n"
                )
                if n % 100_000 == 99_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cur.execute(f'ANALYZE "{url_schema}".sla_clocks')
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=1_000_000, help="rows in the SLA view")
    parser.add_argument("--due", type=int, default=10_000, help="real disputes, all due")
    args = parser.parse_args()
    schema = f"bench_sla_{uuid.uuid4().hex[:8]}"
    clock = Clock()
    engine = DisputeEngine.open(f"{PG}?schema={schema}", clock=clock)
    try:
        started = time.perf_counter()
        for n in range(args.due):
            dispute_id = engine.file_dispute(filing(n), by=ALICE)
            engine.notify_claimant(dispute_id, by=ALICE)
        events = 2 * args.due
        print(f"wrote {events} events in {time.perf_counter() - started:.1f} s")

        for name in ("work_queue", "sla", "audit_log"):
            started = time.perf_counter()
            if name == "audit_log":  # append-only: logged once, never rebuilt
                engine.projections.catch_up([name])
            else:
                engine.projections.rebuild(name)
            rate = events / (time.perf_counter() - started)
            goal = f"  (goal >= {CATCH_UP_GOAL}: {verdict(rate >= CATCH_UP_GOAL)})"
            print(f"catch-up {name:10} {rate:8.0f} events/s{goal if name == 'sla' else ''}")

        synthetic = args.clocks - 3 * args.due
        seconds = load_synthetic_clocks(schema, synthetic)
        print(
            f"loaded {synthetic} clocks with COPY in {seconds:.1f} s; "
            f"the view holds {args.clocks} clocks, {args.due} due"
        )

        clock.now = T0 + timedelta(minutes=31)  # past half of the one-hour first response
        started = time.perf_counter()
        due = SlaView.due(engine._core.db, clock.now)
        print(f"due disputes read by index: {len(due)} in {time.perf_counter() - started:.3f} s")
        started = time.perf_counter()
        recorded = engine.record_sla_breaches()
        tick = time.perf_counter() - started
        print(
            f"checker tick: {len(recorded)} warnings recorded in {tick:.2f} s "
            f"({len(recorded) / tick:.0f} alerts/s)  "
            f"(goal <= {TICK_GOAL} s: {verdict(tick <= TICK_GOAL)})"
        )
        started = time.perf_counter()
        again = engine.record_sla_breaches()
        print(
            f"next tick (nothing new due): {len(again)} recorded in "
            f"{time.perf_counter() - started:.3f} s"
        )
        started = time.perf_counter()
        idle = engine.record_sla_breaches()
        print(
            f"idle tick (view up to date, nothing due): {len(idle)} recorded in "
            f"{time.perf_counter() - started:.3f} s"
        )
        print("the idle tick's query for due clocks, as PostgreSQL ran it:")
        with psycopg.connect(PG) as conn:
            statement = SlaView.due_statement(engine._core.db).replace("?", "%s")
            plan = conn.execute(f"EXPLAIN ANALYZE {statement}", [timestamp(clock.now)])
            for (line,) in plan:
                if "->" in line or line.startswith(("Sort", "Nested", "Hash", "Index")):
                    print(f"  {line}")
    finally:
        engine.shutdown()
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
