"""Write throughput: the engine against a bare eventsourcing application, same database.

Files and assigns N disputes (two events each, each saved after loading, as investigators
do), and saves the same number of events through a bare Aggregate/Application that loads
and saves the same way; the two take turns in rounds, so both see the same machine. Prints
events/s for both, the ratio and the goal, per backend. With ``--floor``, a third side saves
the same two events per dispute through the engine's event store and does nothing else (no
load, no lookup, no check): the ratio the engine could reach if its saves were all it did.

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
from dispute_engine.domain.dispute import Dispute

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


class EngineSide:
    """Files and assigns disputes through the engine."""

    def __init__(self, url: str) -> None:
        self.engine = DisputeEngine.open(url)
        self.filed = 0

    def run(self, count: int) -> float:
        """Seconds to file and assign ``count`` disputes (input built outside the timing)."""
        filings = [filing(n) for n in range(self.filed, self.filed + count)]
        self.filed += count
        started = time.perf_counter()
        for command in filings:
            dispute_id = self.engine.file_dispute(command, by=ALICE)
            self.engine.assign(dispute_id, investigator="alice", by=ALICE)
        return time.perf_counter() - started

    def close(self) -> None:
        self.engine.shutdown()


class SavesSide(EngineSide):
    """The engine's two saves per dispute, and nothing else."""

    def run(self, count: int) -> float:
        """Seconds to store ``count`` filings and their assignments (disputes built outside
        the timing, each assignment made on the dispute in hand)."""
        now = self.engine._core.now()
        disputes = [
            Dispute.file(
                command.claim.model_copy(update={"jurisdiction": "US"}),
                idempotency_key=command.idempotency_key,
                by=ALICE,
                now=now,
            )
            for command in (filing(n) for n in range(self.filed, self.filed + count))
        ]
        self.filed += count
        store = self.engine._core.events.store
        started = time.perf_counter()
        for dispute in disputes:
            store(dispute.collect_events())
            dispute.assign("alice", by=ALICE, now=now)
            store(dispute.collect_events())
        return time.perf_counter() - started


class BareSide:
    """Saves, loads and saves again a bare aggregate through the library alone."""

    def __init__(self, url: str) -> None:
        storage = StorageUrl.parse(url)
        with storage.creation_lock():
            self.app: Application[uuid.UUID] = Application(env={**storage.env, "CREATE_TABLE": "y"})

    def run(self, count: int) -> float:
        """Seconds to create, load and change ``count`` aggregates."""
        started = time.perf_counter()
        for n in range(count):
            aggregate = Bare(key=str(n))
            self.app.save(aggregate)
            loaded = self.app.repository.get(aggregate.id)
            loaded.assign("alice")
            self.app.save(loaded)
        return time.perf_counter() - started

    def close(self) -> None:
        self.app.close()


def compare(urls: dict[str, str], count: int, rounds: int) -> dict[str, float]:
    """Events/s of each side (by name: its URL), taking turns in ``rounds`` rounds (the order
    reversed every other round), so a change in the machine's load falls on all of them."""
    kinds: dict[str, type[BareSide | EngineSide]] = {
        "bare": BareSide,
        "engine": EngineSide,
        "saves": SavesSide,
    }
    sides = {name: kinds[name](url) for name, url in urls.items()}
    took = dict.fromkeys(sides, 0.0)
    try:
        for turn in range(rounds):
            share = count // rounds + (1 if turn < count % rounds else 0)
            order = list(sides.items())
            for name, side in order if turn % 2 == 0 else reversed(order):
                took[name] += side.run(share)
    finally:
        for side in sides.values():
            side.close()
    return {name: 2 * count / seconds for name, seconds in took.items()}


def backends(tmp: Path, schemas: list[str]) -> dict[str, Callable[[str], str]]:
    """Database URLs by backend; the PostgreSQL schemas made are added to ``schemas``."""

    def sqlite(name: str) -> str:
        return f"sqlite:///{tmp / name}.db"

    def postgres(name: str) -> str:
        schemas.append(f"bench_{name}_{uuid.uuid4().hex[:8]}")
        return f"{PG}?schema={schemas[-1]}"

    return {"sqlite": sqlite, "postgres": postgres}


def drop_schemas(schemas: list[str]) -> None:
    """Drop this run's schemas only: other runs may be using theirs."""
    with psycopg.connect(PG, autocommit=True) as conn:
        for name in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


GOALS = {"sqlite": 1.0, "postgres": 1.5}  # engine events/s over the bare application's


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="disputes per side")
    parser.add_argument("--rounds", type=int, default=10, help="turns each side takes")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--floor", action="store_true", help="also time the saves alone")
    args = parser.parse_args()
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, url_for in backends(Path(tmp), schemas).items():
                if args.backend not in ("all", name):
                    continue
                names = ["bare", "engine", *(["saves"] if args.floor else [])]
                rates = compare({n: url_for(n) for n in names}, args.count, args.rounds)
                bare, ours = rates["bare"], rates["engine"]
                ratio = ours / bare
                met = "met" if ratio >= GOALS[name] else "not met"
                print(
                    f"{name:9} events={2 * args.count:6}  bare {bare:8.0f} events/s  "
                    f"engine {ours:8.0f} events/s  ratio {ratio:.2f}  "
                    f"(goal >= {GOALS[name]:.1f}: {met})"
                )
                if args.floor:
                    print(
                        f"{name:9} saves only {rates['saves']:8.0f} events/s  "
                        f"ratio {rates['saves'] / bare:.2f} (the most the engine could reach)"
                    )
        finally:
            drop_schemas(schemas)


if __name__ == "__main__":
    main()
