"""Write throughput: the engine against a bare eventsourcing application, same database.

Files and assigns N disputes (two events each, each saved after loading, as investigators
do), then saves the same number of events through a bare Aggregate/Application that loads
and saves the same way. Prints events/s for both and the ratio, per backend.

    .venv/bin/python bench/write_throughput.py --count 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from dispute_engine import Actor, DisputeEngine, FileDispute, Role
from dispute_engine.database import StorageUrl

PG = "postgresql://postgres@127.0.0.1:5432/test"
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})


class Bare(Aggregate):
    """The smallest aggregate that records the same number of events."""

    @event("Created")
    def __init__(self, key: str) -> None:
        self.key = key
        self.assignee = ""

    @event("Assigned")
    def assign(self, investigator: str) -> None:
        self.assignee = investigator


def filing(n: int) -> FileDispute:
    return FileDispute.model_validate(
        {
            "claimant_id": f"user-{n}",
            "channel": "app",
            "reason": "not_received",
            "transaction": {
                "chain_id": 1,
                "tx_hash": f"0x{n:064x}",
                "asset": "ETH",
                "amount": "0.5",
                "sender": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "recipient": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                "occurred_at": "2026-11-20T08:15:00Z",
            },
            "description": "never arrived",
            "idempotency_key": f"bench-{uuid.uuid4()}",
        }
    )


def engine_run(url: str, count: int) -> float:
    engine = DisputeEngine.open(url)
    filings = [filing(n) for n in range(count)]  # input built outside the timing
    started = time.perf_counter()
    for command in filings:
        dispute_id = engine.file_dispute(command, by=ALICE)
        engine.assign(dispute_id, investigator="alice", by=ALICE)
    elapsed = time.perf_counter() - started
    engine.shutdown()
    return 2 * count / elapsed


def bare_run(url: str, count: int) -> float:
    storage = StorageUrl.parse(url)
    with storage.creation_lock():
        app: Application[uuid.UUID] = Application(env={**storage.env, "CREATE_TABLE": "y"})
    started = time.perf_counter()
    for n in range(count):
        aggregate = Bare(key=str(n))
        app.save(aggregate)
        loaded = app.repository.get(aggregate.id)
        loaded.assign("alice")
        app.save(loaded)
    elapsed = time.perf_counter() - started
    app.close()
    return 2 * count / elapsed


def backends(tmp: Path) -> dict[str, Callable[[str], str]]:
    def sqlite(name: str) -> str:
        return f"sqlite:///{tmp / name}.db"

    def postgres(name: str) -> str:
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        return f"{PG}?schema={schema}"

    return {"sqlite": sqlite, "postgres": postgres}


def drop_bench_schemas() -> None:
    with psycopg.connect(PG, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'"
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="disputes per run")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, url_for in backends(Path(tmp)).items():
            if args.backend not in ("all", name):
                continue
            bare = bare_run(url_for("bare"), args.count)
            ours = engine_run(url_for("engine"), args.count)
            print(
                f"{name:9} events={2 * args.count:6}  bare {bare:8.0f} events/s  "
                f"engine {ours:8.0f} events/s  ratio {ours / bare:.2f}"
            )
    if args.backend in ("all", "postgres"):
        drop_bench_schemas()


if __name__ == "__main__":
    main()
