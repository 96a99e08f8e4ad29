"""The audit's speed: sealing's cost on writes, the log's catch-up, and `audit verify`.

1. Writes: files and assigns N disputes (two events each, loaded and saved one by one, as
   investigators do) with sealing off and on, alternating rounds; prints the best events/s of
   each and sealing's share of the write time.
2. Catch-up: stores E events (disputes of 1,000 notes each, saved a dispute at a time), then
   times bringing the audit log up to date from empty: events/s.
3. Verify: times `engine.audit.verify()` over those E events (every seal, the tree, the
   checkpoints, the decision signatures).
4. Bundle: exports the offline bundle of the first dispute (1,000 events) and times
   `verify_bundle` on it (seals, checkpoints, consistency and inclusion proofs, the replay).

    .venv/bin/python bench/audit_verify.py --events 100000 --backend sqlite
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from pydantic import SecretStr
from write_throughput import filing  # the same filings, from beside this script

from dispute_engine import Actor, DisputeEngine, Role, Settings
from dispute_engine.bundle import verify_bundle
from dispute_engine.seals import KeyRing, SigningKey

PG = "postgresql://postgres@127.0.0.1:5432/test"
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
NOTES_PER_DISPUTE = 1000


def sealed() -> Settings:
    return Settings(sealing_key=SecretStr(SigningKey.generate().private_bytes().hex()))


def writes(url: str, count: int, settings: Settings) -> float:
    """Events/s filing and assigning ``count`` disputes."""
    engine = DisputeEngine.open(url, settings=settings)
    filings = [filing(n) for n in range(count)]
    started = time.perf_counter()
    for command in filings:
        dispute_id = engine.file_dispute(command, by=ALICE)
        engine.assign(dispute_id, investigator="alice", by=ALICE)
    elapsed = time.perf_counter() - started
    engine.shutdown()
    return 2 * count / elapsed


def store_events(engine: DisputeEngine, events: int) -> None:
    """About ``events`` sealed events: disputes of 1,000 notes, each saved in one go."""
    written = 0
    n = 0
    while written < events:
        dispute_id = engine.file_dispute(filing(n), by=ALICE)
        dispute = engine._core.load(dispute_id)
        now = engine.now()
        for i in range(min(NOTES_PER_DISPUTE, events - written) - 1):
            dispute.add_note(f"note {i}", by=ALICE, now=now)
        engine._core.save(dispute)
        written += NOTES_PER_DISPUTE
        n += 1


def verify_cost(count: int = 2000) -> float:
    """Microseconds per Ed25519 verification on this host now: the floor of both figures."""
    key = SigningKey.generate()
    ring = KeyRing(key)
    messages = [bytes([n % 256]) * 300 for n in range(count)]
    seals = [ring.sign(m) for m in messages]
    started = time.perf_counter()
    for message, (kid, signature) in zip(messages, seals, strict=True):
        ring.verify(kid, signature, message)
    return (time.perf_counter() - started) / count * 1e6


def run(name: str, url_for: dict[str, str], args: argparse.Namespace) -> None:
    plain, with_seals = 0.0, 0.0
    for round_ in range(args.rounds):
        plain = max(plain, writes(url_for[f"plain{round_}"], args.count, Settings()))
        with_seals = max(with_seals, writes(url_for[f"sealed{round_}"], args.count, sealed()))
    print(
        f"{name:9} writes: unsealed {plain:7.0f} events/s, sealed {with_seals:7.0f} events/s, "
        f"sealing costs {1 - with_seals / plain:+.1%}"
    )
    engine = DisputeEngine.open(url_for["log"], settings=sealed())
    store_events(engine, args.events)
    total = engine._core.events.recorder.max_notification_id()
    started = time.perf_counter()
    applied = engine.projections.catch_up(["audit_log"])["audit_log"]
    elapsed = time.perf_counter() - started
    print(
        f"{name:9} log catch-up: {applied} of {total} events in {elapsed:.1f} s, "
        f"{applied / elapsed:7.0f} events/s"
    )
    started = time.perf_counter()
    report = engine.audit.verify()
    elapsed = time.perf_counter() - started
    print(
        f"{name:9} audit verify: {report.events} events in {elapsed:.1f} s "
        f"({'OK' if report.ok else 'FAILED'}, {report.checkpoints} checkpoints)"
    )
    bundle(name, engine)
    engine.shutdown()


def bundle(name: str, engine: DisputeEngine) -> None:
    """Export the first dispute's bundle and time its offline verification (best of 3)."""
    first = engine.audit.query(event="Filed")[0].dispute_id
    with tempfile.TemporaryDirectory() as folder:
        written = engine.audit.export_bundle(Path(folder) / "bundle", dispute_id=first)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            report = verify_bundle(Path(folder) / "bundle")
            best = min(best, time.perf_counter() - started)
    print(
        f"{name:9} verify-bundle: {written.events} events, {written.checkpoints} checkpoints "
        f"in {best:.2f} s ({'OK' if report.ok else 'FAILED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="disputes per write round")
    parser.add_argument("--rounds", type=int, default=3, help="write rounds (best is kept)")
    parser.add_argument("--events", type=int, default=100_000, help="events to log and verify")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    args = parser.parse_args()
    print(f"one seal verification: {verify_cost():.0f} us")
    names = [f"plain{r}" for r in range(args.rounds)] + [f"sealed{r}" for r in range(args.rounds)]
    names.append("log")
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend in ("all", "sqlite"):
            run("sqlite", {n: f"sqlite:///{Path(tmp) / n}.db" for n in names}, args)
        if args.backend in ("all", "postgres"):
            schemas = {n: f"bench_audit_{n}_{uuid.uuid4().hex[:8]}" for n in names}
            try:
                run("postgres", {n: f"{PG}?schema={s}" for n, s in schemas.items()}, args)
            finally:
                with psycopg.connect(PG, autocommit=True) as conn:
                    for schema in schemas.values():
                        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
