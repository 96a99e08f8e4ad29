"""Outbox delivery to a local webhook gateway: messages/s from recorded to marked sent.

Records ``--count`` notices in the outbox, then one ``send_due`` pass delivers them, each as
one signed Standard Webhooks request over a kept-alive connection to a gateway on 127.0.0.1
(in its own process, as a real gateway would be), and marks them sent. Prints messages/s
for recording and for delivery.

    .venv/bin/python bench/outbox.py --count 5000
    .venv/bin/python bench/outbox.py --count 5000 --db postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parents[1]))

from dispute_engine.delivery import Outbox, WebhookChannel
from dispute_engine.delivery.storage import open_database
from tests.delivery_servers import SECRET, gateway

Queue = multiprocessing.Queue


def serve(ready: Queue, counts: Queue, stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[type-arg]
    """Run a gateway until told to stop; report its URL, then how many distinct ids arrived."""
    with gateway() as server:
        ready.put(server.url)
        stop.wait()
        counts.put(len(set(server.received.ids())))


NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--db", default="", help="PostgreSQL URL; else a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = f"{args.db}?schema={schema}" if args.db else f"sqlite:///{tmp}/outbox.db"
        try:
            run(url, args.count, args.batch)
        finally:
            if args.db:
                with psycopg.connect(args.db, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run(url: str, count: int, batch: int) -> None:
    db, factory = open_database(url)
    ready: Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    counts: Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    gateway_process = multiprocessing.Process(target=serve, args=(ready, counts, stop))
    gateway_process.start()
    try:
        gateway_url = ready.get(timeout=30)
        box = Outbox(db, {"chat": WebhookChannel(gateway_url, secret=SECRET)}, batch=batch)
        box.create()
        started = time.perf_counter()
        with db.transaction() as cursor:
            for position in range(1, count + 1):
                box.record_notice(
                    cursor,
                    dispute_id=uuid.UUID(int=position // 10 + 1),
                    position=position,
                    data={
                        "template": "acknowledgement",
                        "language": "es",
                        "channel": "chat",
                        "text": "Hemos recibido su disputa y la estamos revisando.",
                        "timestamp": NOW,
                    },
                    recipient=f"claimant-{position}",
                )
        recorded = time.perf_counter() - started
        started = time.perf_counter()
        report = box.send_due(NOW)
        sent = time.perf_counter() - started
        stop.set()
        arrived = counts.get(timeout=30)
        assert report.sent == count == arrived, (report, arrived)
    finally:
        stop.set()
        gateway_process.join(timeout=30)
        factory.close()
    kind = url.split(":", maxsplit=1)[0]
    print(f"{kind}: recorded {count} messages at {count / recorded:,.0f}/s")
    print(f"{kind}: delivered {count} webhooks at {count / sent:,.0f} messages/s (batch {batch})")


if __name__ == "__main__":
    main()
