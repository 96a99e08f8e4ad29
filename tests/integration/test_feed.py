"""The event feed on the real local JetStream: every event once, in order per dispute."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import nats
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats.js.api import DiscardPolicy

from dispute_engine.errors import FeedUnavailable, InvalidInput
from projections.feed import DEFAULT_URL, EventFeed, FeedEvent

MARKER = "Zebra-Quokka-7731"
STATUSES = ["filed", "investigating", "pending_approval", "approved", "resolved", "closed"]
EVENTS = ["Filed", "Assigned", "DecisionProposed", "DecisionApproved", "DecisionExecuted", "Closed"]


def require_nats() -> None:
    """Skip without NATS, except in CI, where its absence is a failure."""
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=2).close()
    except OSError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("NATS with JetStream is required in CI at 127.0.0.1:4222")
        pytest.skip("NATS is not reachable at 127.0.0.1:4222")


@pytest.fixture
def feed() -> Iterator[EventFeed]:
    """A feed on its own new stream and subjects, deleted afterwards."""
    require_nats()
    name = f"test_{uuid.uuid4().hex[:12]}"
    feed = EventFeed(stream=name, subject_prefix=name)
    feed.connect()
    yield feed
    feed.delete_stream()
    feed.close()


def history(disputes: int, events_each: int, start: int = 1) -> list[FeedEvent]:
    """Events of several disputes interleaved, as the event store's positions order them."""
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"dispute-{n}") for n in range(disputes)]
    batch = []
    for version in range(1, events_each + 1):
        for dispute_id in ids:
            step = (version - 1) % len(EVENTS)
            batch.append(
                FeedEvent(
                    position=start + len(batch),
                    dispute_id=dispute_id,
                    version=version,
                    status=STATUSES[step],
                    event=EVENTS[step],
                    payload={"amount": "125.50", "outcome": "refund"},
                )
            )
    return batch


def stored(feed: EventFeed) -> list[dict[str, Any]]:
    """Every message in the feed's stream, in stream order, with its subject and message id."""

    async def read() -> list[dict[str, Any]]:
        nc = await nats.connect(DEFAULT_URL)
        js = nc.jetstream()
        info = await js.stream_info(feed.stream)
        messages = []
        last = info.state.last_seq if info.state.messages else info.state.first_seq - 1
        for seq in range(info.state.first_seq, last + 1):
            msg = await js.get_msg(feed.stream, seq)
            messages.append(
                {
                    "subject": msg.subject,
                    "id": (msg.headers or {}).get("Nats-Msg-Id"),
                    **json.loads(msg.data or b"{}"),
                }
            )
        await nc.close()
        return messages

    return asyncio.run(read())


def test_every_event_is_stored_once_in_order_per_dispute(feed: EventFeed):
    batch = history(disputes=5, events_each=6)
    assert feed.publish(batch) == batch[-1].position
    messages = stored(feed)
    assert [m["position"] for m in messages] == [e.position for e in batch]
    for dispute_id in {e.dispute_id for e in batch}:
        versions = [m["version"] for m in messages if m["dispute_id"] == str(dispute_id)]
        assert versions == [1, 2, 3, 4, 5, 6]


def test_republishing_a_batch_stores_nothing_twice(feed: EventFeed):
    batch = history(disputes=3, events_each=4)
    feed.publish(batch)
    assert feed.publish(batch) == batch[-1].position
    assert feed.publish(batch[5:]) == batch[-1].position
    messages = stored(feed)
    assert len(messages) == len(batch)
    assert len({m["id"] for m in messages}) == len(batch)


def test_a_restart_resumes_after_the_last_acknowledged_position(feed: EventFeed):
    batch = history(disputes=4, events_each=5)
    last = feed.publish(batch[:7])
    assert last == batch[6].position
    restarted = EventFeed(stream=feed.stream, subject_prefix=feed.subject_prefix)
    try:
        # The tracked position may lag the last publish: a crash before it was recorded.
        resumed = [e for e in batch if e.position > batch[3].position]
        assert restarted.publish(resumed) == batch[-1].position
    finally:
        restarted.close()
    assert [m["position"] for m in stored(feed)] == [e.position for e in batch]


def test_events_go_to_subjects_named_by_status_and_event(feed: EventFeed):
    batch = history(disputes=1, events_each=2)
    feed.publish(batch)
    prefix = feed.subject_prefix
    assert [m["subject"] for m in stored(feed)] == [
        f"{prefix}.filed.Filed",
        f"{prefix}.investigating.Assigned",
    ]
    assert [m["id"] for m in stored(feed)] == [f"{e.dispute_id}:{e.version}" for e in batch]


def test_payloads_reach_integrators_without_personal_data(feed: EventFeed):
    event = FeedEvent(
        position=1,
        dispute_id=uuid.uuid4(),
        version=1,
        status="filed",
        event="Filed",
        payload={
            "claimant_id": f"user-{MARKER}",
            "description": f"I am {MARKER}",
            "sealed_contact": "pd1.AAAAAQ" + MARKER,
            "transaction": {"amount": "125.50", "note": MARKER, "hashes": ["0xab", "pd1.x"]},
            "channel": "chat",
        },
    )
    feed.publish([event])
    (message,) = stored(feed)
    assert message["data"] == {
        "channel": "chat",
        "transaction": {"amount": "125.50", "hashes": ["0xab"]},
    }
    assert MARKER not in json.dumps(message)


def test_an_empty_batch_publishes_nothing(feed: EventFeed):
    assert feed.publish([]) is None
    assert stored(feed) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "filed.closed"),
        ("status", "*"),
        ("event", ">"),
        ("event", ""),
        ("event", "Filed With Space"),
        ("position", -1),
        ("version", True),
        ("dispute_id", "not-a-uuid"),
    ],
)
def test_an_event_that_cannot_be_a_subject_is_invalid_input(field: str, value: Any):
    fields: dict[str, Any] = {
        "position": 1,
        "dispute_id": uuid.uuid4(),
        "version": 1,
        "status": "filed",
        "event": "Filed",
        field: value,
    }
    with pytest.raises(InvalidInput) as caught:
        FeedEvent(**fields)
    assert caught.value.fields == [field]


def test_a_batch_with_a_stranger_publishes_nothing(feed: EventFeed):
    batch: list[Any] = [*history(disputes=1, events_each=2), {"position": 3}]
    with pytest.raises(InvalidInput):
        feed.publish(batch)
    assert stored(feed) == []


def test_a_feed_with_no_server_is_unavailable():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    feed = EventFeed(f"nats://127.0.0.1:{port}", timeout=1.0)
    try:
        with pytest.raises(FeedUnavailable) as caught:
            feed.publish(history(disputes=1, events_each=1))
        assert caught.value.last_position is None
    finally:
        feed.close()


def test_bad_feed_settings_are_invalid_input():
    for kwargs in (
        {"stream": "has.dot"},
        {"subject_prefix": "a.>"},
        {"subject_prefix": ""},
        {"max_in_flight": 0},
    ):
        with pytest.raises(InvalidInput):
            EventFeed(**kwargs)


def test_message_ids_are_the_same_for_the_same_event():
    dispute_id = UUID(int=7)
    one = FeedEvent(position=1, dispute_id=dispute_id, version=3, status="filed", event="Filed")
    again = FeedEvent(position=9, dispute_id=dispute_id, version=3, status="filed", event="Filed")
    assert one.message_id == again.message_id == f"{dispute_id}:3"


def limit_stream(feed: EventFeed, max_msgs: int) -> None:
    """Make the stream refuse messages past ``max_msgs``, as a full or failing server would."""

    async def limit() -> None:
        nc = await nats.connect(DEFAULT_URL)
        js = nc.jetstream()
        config = (await js.stream_info(feed.stream)).config
        await js.update_stream(config.evolve(max_msgs=max_msgs, discard=DiscardPolicy.NEW))
        await nc.close()

    asyncio.run(limit())


def test_a_partly_acknowledged_batch_reports_where_to_resume(feed: EventFeed):
    batch = history(disputes=1, events_each=5)
    limit_stream(feed, max_msgs=3)
    with pytest.raises(FeedUnavailable) as caught:
        feed.publish(batch)
    assert caught.value.last_position == batch[2].position
    restarted = EventFeed(stream=feed.stream, subject_prefix=feed.subject_prefix)
    try:
        # Connecting puts the stream back to the feed's own settings (no message limit).
        resumed = [e for e in batch if e.position > caught.value.last_position]
        assert restarted.publish(resumed) == batch[-1].position
    finally:
        restarted.close()
    assert [m["version"] for m in stored(feed)] == [1, 2, 3, 4, 5]


def test_a_deleted_stream_acknowledges_nothing(feed: EventFeed):
    feed.delete_stream()
    with pytest.raises(FeedUnavailable) as caught:
        feed.publish(history(disputes=1, events_each=2))
    assert caught.value.last_position is None


@given(status=st.text(max_size=80), event=st.text(max_size=80))
def test_any_status_and_event_text_makes_a_subject_of_one_token_or_is_refused(
    status: str, event: str
):
    valid = all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", t) for t in (status, event))
    if not valid:
        with pytest.raises(InvalidInput) as refused:
            FeedEvent(position=1, dispute_id=UUID(int=1), version=1, status=status, event=event)
        assert refused.value.fields[0] in ("status", "event")
        return
    made = FeedEvent(position=1, dispute_id=UUID(int=1), version=1, status=status, event=event)
    assert made.subject().split(".") == ["disputes", status, event]
