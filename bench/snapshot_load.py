"""Loading a long dispute: from its latest snapshot against replaying every event.

Files one dispute and adds ``--notes`` notes through the engine (snapshots on, every
``--interval`` events), then loads it ``--loads`` times with snapshots on and with them off
(the same database, opened with ``snapshot_interval=0``). Prints the mean time of each, per
backend: loading the aggregate, and ``get`` (loading plus building the public view).

    .venv/bin/python bench/snapshot_load.py --notes 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from uuid import UUID

import psycopg
from write_throughput import filing  # the same filings, from beside this script

from dispute_engine import Actor, DisputeEngine, Role, Settings

PG = "postgresql://postgres@127.0.0.1:5432/test"
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})


def mean_load(url: str, dispute_id: UUID, interval: int, loads: int) -> tuple[float, float]:
    """Mean seconds to load the dispute, and to ``get`` its view, on a fresh engine."""
    engine = DisputeEngine.open(url, settings=Settings(snapshot_interval=interval))
    try:
        engine.get(dispute_id)  # warm the connection and the code paths
        started = time.perf_counter()
        for _ in range(loads):
            engine._core.load(dispute_id)
        load = (time.perf_counter() - started) / loads
        started = time.perf_counter()
        for _ in range(loads):
            engine.get(dispute_id)
        return load, (time.perf_counter() - started) / loads
    finally:
        engine.shutdown()


def run(name: str, url: str, args: argparse.Namespace) -> None:
    engine = DisputeEngine.open(url, settings=Settings(snapshot_interval=args.interval))
    try:
        dispute_id = engine.file_dispute(filing(0), by=ALICE)
        for n in range(args.notes):
            engine.add_note(dispute_id, f"note {n}", by=ALICE)
        events = engine.get(dispute_id).version
    finally:
        engine.shutdown()
    replay, replay_get = mean_load(url, dispute_id, 0, args.loads)
    snapshot, snapshot_get = mean_load(url, dispute_id, args.interval, args.loads)
    print(
        f"{name:8}  events={events:5}  load: replay {replay * 1000:6.1f} ms, "
        f"from snapshot {snapshot * 1000:5.1f} ms, ratio {replay / snapshot:5.1f}x  "
        f"get: {replay_get * 1000:6.1f} ms, {snapshot_get * 1000:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=100, help="events between snapshots")
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    schema = f"bench_snap_{uuid.uuid4().hex[:8]}"
    try:
        run("postgres", f"{PG}?schema={schema}", args)
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
