"""Feed publishing: dispute events per second to the local JetStream, with bounded in-flight acks.

Publishes N events (in batches, as a tracking projection would) to a new stream, then the same
events again (all deduplicated), and deletes the stream. Prints events/s for both passes.

    .venv/bin/python bench/feed.py --count 50000 --batch 1000
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from projections.feed import EventFeed, FeedEvent

STEPS = [("filed", "Filed"), ("investigating", "Assigned"), ("pending_approval", "Proposed")]


def events(count: int) -> list[FeedEvent]:
    """Events of count/3 disputes with three events each, in store order."""
    ids = [uuid.uuid4() for _ in range(count // len(STEPS) + 1)]
    return [
        FeedEvent(
            position=n + 1,
            dispute_id=ids[n // len(STEPS)],
            version=n % len(STEPS) + 1,
            status=STEPS[n % len(STEPS)][0],
            event=STEPS[n % len(STEPS)][1],
            payload={"amount": "125.50", "asset": "USDT", "chain_id": 1},
        )
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000, help="events to publish")
    parser.add_argument("--batch", type=int, default=1000, help="events per publish call")
    parser.add_argument("--in-flight", type=int, default=2000, help="unacknowledged at most")
    args = parser.parse_args()
    name = f"bench_{uuid.uuid4().hex[:12]}"
    feed = EventFeed(stream=name, subject_prefix=name, max_in_flight=args.in_flight)
    batch = events(args.count)
    try:
        feed.connect()
        for label in ("first publish", "republish (deduplicated)"):
            started = time.perf_counter()
            for n in range(0, len(batch), args.batch):
                feed.publish(batch[n : n + args.batch])
            elapsed = time.perf_counter() - started
            print(
                f"{label}: {len(batch)} events in {elapsed:.2f} s = {len(batch) / elapsed:,.0f}/s"
            )
    finally:
        feed.delete_stream()
        feed.close()


if __name__ == "__main__":
    main()
