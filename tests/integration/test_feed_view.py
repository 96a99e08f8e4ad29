"""The feed projection on the real local JetStream: every stored event once, resuming after
a failure from the tracked position."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from dispute_engine import Actor, DisputeEngine, ProposeDecision
from dispute_engine.errors import FeedUnavailable
from dispute_engine.settings import Settings
from projections.feed import DEFAULT_URL, EventFeed
from tests.conftest import FakeClock
from tests.delivery_servers import free_port
from tests.factories import file_dispute
from tests.integration.test_feed import require_nats, stored

REJECT = ProposeDecision(
    outcome="reject", rationale="the transaction matches the claim", overrides=["checklist"]
)
MARKER = "Zebra-Quokka-7731"


@pytest.fixture
def stream() -> Iterator[str]:
    """A new stream name (and subject prefix) for one test, deleted afterwards."""
    require_nats()
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    feed = EventFeed(stream=name, subject_prefix=name)
    feed.delete_stream()
    feed.close()


def messages_in(stream: str) -> list[dict[str, object]]:
    feed = EventFeed(stream=stream, subject_prefix=stream)
    try:
        return stored(feed)
    finally:
        feed.close()


def fed_engine(db_url: str, clock: FakeClock, stream: str, url: str = DEFAULT_URL) -> DisputeEngine:
    settings = Settings(feed_url=url, feed_stream=stream, feed_subject_prefix=stream)
    return DisputeEngine.open(db_url, settings=settings, clock=clock)


EVENTS = 9  # closing the first records Closed and two notices (closed, satisfaction request)


def work(engine: DisputeEngine, alice: Actor) -> list[uuid.UUID]:
    """Two disputes whose events interleave in the store."""
    first = file_dispute(engine, alice, description=f"my card {MARKER}")
    second = file_dispute(engine, alice)
    for dispute in (first, second):
        engine.assign(dispute, investigator="alice", by=alice)
    engine.propose_decision(first, REJECT, by=alice)
    engine.close(first, by=alice)
    engine.add_note(second, text=f"claimant says {MARKER}", by=alice)
    return [first, second]


def test_every_dispute_event_is_published_once_in_order_per_dispute(
    db_url: str, clock: FakeClock, alice: Actor, stream: str
):
    engine = fed_engine(db_url, clock, stream)
    disputes = work(engine, alice)
    assert engine.projections.catch_up(["feed"]) == {"feed": EVENTS}
    assert engine.projections.catch_up(["feed"]) == {"feed": 0}
    messages = messages_in(stream)
    histories = {d: engine.history(d) for d in disputes}
    engine.shutdown()
    assert len(messages) == EVENTS
    for dispute, history in histories.items():
        mine = [m for m in messages if m["dispute_id"] == str(dispute)]
        assert [(m["version"], m["event"]) for m in mine] == [(e.version, e.name) for e in history]
        assert [m["id"] for m in mine] == [f"{dispute}:{e.version}" for e in history]
    assert {f"{stream}.closed.Closed", f"{stream}.closed.ClaimantNotified"} <= {
        m["subject"] for m in messages
    }
    assert MARKER not in str(messages)  # descriptions and notes are not published


def test_a_rebuilt_feed_publishes_again_and_the_stream_keeps_each_event_once(
    db_url: str, clock: FakeClock, alice: Actor, stream: str
):
    engine = fed_engine(db_url, clock, stream)
    work(engine, alice)
    engine.projections.catch_up(["feed"])
    assert engine.projections.rebuild("feed") == EVENTS  # the position goes back to the start
    engine.shutdown()
    assert len(messages_in(stream)) == EVENTS


def test_an_unreachable_broker_keeps_the_position_and_the_feed_resumes_from_it(
    db_url: str, clock: FakeClock, alice: Actor, stream: str
):
    down = fed_engine(db_url, clock, stream, url=f"nats://127.0.0.1:{free_port()}")
    work(down, alice)
    with pytest.raises(FeedUnavailable):
        down.projections.catch_up(["feed"])
    assert down.projections.position("feed") == 0
    down.shutdown()
    engine = fed_engine(db_url, clock, stream)
    assert engine.projections.catch_up(["feed"]) == {"feed": EVENTS}
    engine.shutdown()
    assert len(messages_in(stream)) == EVENTS
