"""The outbox on SQLite and PostgreSQL: each notice once, retried, never sent twice at once."""

from __future__ import annotations

import multiprocessing
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispute_engine.database import Database
from dispute_engine.delivery import Backoff, Outbox, WebhookChannel, message_id
from dispute_engine.delivery.storage import open_database
from dispute_engine.domain.errors import InvalidInput, StorageUnavailable
from tests.delivery_servers import SECRET, Gateway, gateway

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
NO_JITTER = Backoff(base=timedelta(seconds=10), cap=timedelta(minutes=5), max_attempts=3)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db, factory = open_database(db_url)
    yield db
    factory.close()


@pytest.fixture
def server() -> Iterator[Gateway]:
    with gateway() as running:
        yield running


def notice(position: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "template": "acknowledgement",
        "language": "es",
        "channel": "chat",
        "text": f"Hemos recibido su disputa ({position}).",
        "timestamp": NOW,
        **changes,
    }


def outbox(db: Database, server: Gateway, **options: Any) -> Outbox:
    box = Outbox(db, {"chat": WebhookChannel(server.url, secret=SECRET, timeout=2)}, **options)
    box.create()
    return box


def record(box: Outbox, dispute: uuid.UUID, positions: range, **changes: Any) -> None:
    with box.db.transaction() as cursor:
        for position in positions:
            box.record_notice(
                cursor,
                dispute_id=dispute,
                position=position,
                data=notice(position, **changes),
                recipient="claimant-7",
            )


def test_each_recorded_notice_is_sent_once(database: Database, server: Gateway):
    box = outbox(database, server)
    dispute = uuid.uuid4()
    record(box, dispute, range(1, 4))
    assert box.send_due(NOW).sent == 3
    assert box.send_due(NOW + timedelta(days=1)).sent == 0
    assert server.received.ids() == [str(message_id(dispute, p)) for p in (1, 2, 3)]
    assert box.counts() == {"pending": 0, "sent": 3, "failed": 0, "dead": 0}


def test_recording_the_same_notice_again_keeps_one_message(database: Database, server: Gateway):
    box = outbox(database, server)
    dispute = uuid.uuid4()
    record(box, dispute, range(1, 3))
    record(box, dispute, range(1, 3), text="a replay must not change what is sent")
    assert box.send_due(NOW).sent == 2
    record(box, dispute, range(1, 3))
    assert box.send_due(NOW).sent == 0
    assert len(server.received.requests) == 2
    assert all(b"replay" not in body for _, body in server.received.requests)


def test_the_message_id_follows_from_the_dispute_and_the_event_position():
    dispute = uuid.UUID("3f2a9c1e-0000-4000-8000-000000000000")
    assert message_id(dispute, 7) == message_id(dispute, 7)
    assert message_id(dispute, 7) != message_id(dispute, 8)
    assert message_id(dispute, 7) != message_id(uuid.uuid4(), 7)


def test_a_failed_message_is_retried_after_its_backoff(database: Database, server: Gateway):
    box = outbox(database, server, backoff=NO_JITTER)
    record(box, uuid.uuid4(), range(1, 2))
    server.statuses = [503]
    assert box.send_due(NOW).failed == 1
    [entry] = box.entries(["failed"])
    assert entry.attempts == 1
    assert "503" in (entry.last_error or "")
    assert NOW + timedelta(seconds=5) <= entry.due_at <= NOW + timedelta(seconds=10)
    assert box.send_due(NOW + timedelta(seconds=4)).sent == 0
    assert box.send_due(NOW + timedelta(seconds=10)).sent == 1
    [done] = box.entries(["sent"])
    assert (done.attempts, done.last_error, done.sent_at) == (2, None, NOW + timedelta(seconds=10))


def test_a_message_that_keeps_failing_ends_dead(database: Database, server: Gateway):
    box = outbox(database, server, backoff=NO_JITTER)
    record(box, uuid.uuid4(), range(1, 2))
    server.statuses = [500, 500, 500, 200]
    now = NOW
    reports = []
    for _ in range(4):
        reports.append(box.send_due(now))
        now += timedelta(minutes=10)
    assert [(r.sent, r.failed, r.dead) for r in reports] == [
        (0, 1, 0),
        (0, 1, 0),
        (0, 0, 1),
        (0, 0, 0),
    ]
    [dead] = box.entries(["dead"])
    assert dead.attempts == 3
    assert len(server.received.requests) == 3


def test_a_refusal_no_retry_can_fix_is_dead_at_once(database: Database, server: Gateway):
    box = outbox(database, server, backoff=NO_JITTER)
    record(box, uuid.uuid4(), range(1, 3))
    server.statuses = [400]
    report = box.send_due(NOW)
    assert (report.sent, report.failed, report.dead) == (1, 0, 1)
    assert [e.state for e in box.entries(["dead", "sent"])] == ["dead", "sent"]


def test_a_message_for_a_channel_without_an_adapter_waits(database: Database, server: Gateway):
    box = outbox(database, server)
    record(box, uuid.uuid4(), range(1, 2), channel="email")
    assert box.send_due(NOW).sent == 0
    assert box.counts()["pending"] == 1


def test_a_claimed_message_is_not_sent_by_another_sender_until_the_lease_ends(
    database: Database, server: Gateway
):
    # The first sender claims and dies before sending or marking.
    first = outbox(database, server, lease=timedelta(minutes=1))
    record(first, uuid.uuid4(), range(1, 3))
    held = first.claim(NOW)
    assert len(held) == 2
    second = outbox(database, server, lease=timedelta(minutes=1))
    assert second.send_due(NOW + timedelta(seconds=59)).sent == 0
    assert second.send_due(NOW + timedelta(minutes=1)).sent == 2
    assert server.received.ids() == [str(c.message.message_id) for c in held]


def test_a_crash_between_sending_and_marking_resends_under_the_same_id(
    database: Database, server: Gateway
):
    first = outbox(database, server, lease=timedelta(minutes=1))
    record(first, uuid.uuid4(), range(1, 2))
    [held] = first.claim(NOW)
    first.channels["chat"].deliver(held.message)  # sent, then the process died
    second = outbox(database, server, lease=timedelta(minutes=1))
    assert second.send_due(NOW + timedelta(minutes=2)).sent == 1
    ids = server.received.ids()
    assert ids == [str(held.message.message_id)] * 2  # the gateway drops the repeat by its id
    assert second.counts()["sent"] == 1


def test_a_sender_whose_lease_lapsed_does_not_overwrite_the_one_that_took_over(
    database: Database, server: Gateway
):
    first = outbox(database, server, lease=timedelta(minutes=1), backoff=NO_JITTER)
    record(first, uuid.uuid4(), range(1, 2))
    held = first.claim(NOW)
    second = outbox(database, server, lease=timedelta(minutes=1), backoff=NO_JITTER)
    taken = second.claim(NOW + timedelta(minutes=2))
    first.deliver(held, NOW + timedelta(minutes=2))
    assert second.counts()["pending"] == 1  # the late success was not recorded over the claim
    server.statuses = [500]
    assert second.deliver(taken, NOW + timedelta(minutes=2)).failed == 1
    [entry] = second.entries(["failed"])
    assert entry.attempts == 1


def test_senders_running_at_once_send_every_message_exactly_once(db_url: str, server: Gateway):
    dispute = uuid.uuid4()
    opened = [open_database(db_url) for _ in range(4)]
    try:
        boxes = [outbox(db, server, batch=7) for db, _ in opened]
        record(boxes[0], dispute, range(1, 201))
        reports = []
        errors: list[BaseException] = []

        def run(box: Outbox) -> None:
            try:
                reports.append(box.send_due(NOW))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(box,)) for box in boxes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for _, factory in opened:
            factory.close()
    assert errors == []
    ids = server.received.ids()
    assert len(ids) == len(set(ids)) == 200
    assert sum(r.sent for r in reports) == 200


@pytest.mark.parametrize(
    ("changes", "recipient", "fields"),
    [
        ({"template": ""}, "claimant-7", ["template"]),
        ({"text": None}, "claimant-7", ["text"]),
        ({"timestamp": datetime(2026, 11, 21)}, "claimant-7", ["timestamp"]),
        ({"timestamp": "yesterday"}, "claimant-7", ["timestamp"]),
        ({}, "   ", ["recipient"]),
        ({"text": "a\x00b"}, "claimant-7", ["text"]),
        ({"subject": "\ud800"}, "claimant-7", ["subject"]),
        ({"channel": "c" * 201}, "claimant-7", ["channel"]),
        ({"position": 0}, "claimant-7", ["position"]),
        ({"position": 2**31}, "claimant-7", ["position"]),
        ({"position": True}, "claimant-7", ["position"]),
    ],
)
def test_a_malformed_notice_is_refused_and_nothing_is_recorded(
    database: Database, server: Gateway, changes: dict[str, Any], recipient: str, fields: list[str]
):
    box = outbox(database, server)
    changes = dict(changes)  # the parameters are shared by both backends' runs
    position = changes.pop("position", 1)
    with pytest.raises(InvalidInput) as refused, box.db.transaction() as cursor:
        box.record_notice(
            cursor,
            dispute_id=uuid.uuid4(),
            position=position,
            data=notice(**changes),
            recipient=recipient,
        )
    assert refused.value.fields == fields
    assert box.counts() == {"pending": 0, "sent": 0, "failed": 0, "dead": 0}


def test_listing_needs_known_states_and_a_positive_limit(database: Database, server: Gateway):
    box = outbox(database, server)
    with pytest.raises(InvalidInput):
        box.entries(["lost"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput):
        box.entries(["failed"], limit=0)


def test_a_naive_time_is_refused(database: Database, server: Gateway):
    box = outbox(database, server)
    record(box, uuid.uuid4(), range(1, 2))
    with pytest.raises(InvalidInput):
        box.send_due(datetime(2026, 11, 21, 9, 0))


def test_a_missing_table_is_a_storage_error_not_a_database_traceback(
    database: Database, server: Gateway
):
    box = Outbox(database, {"chat": WebhookChannel(server.url, secret=SECRET)}, table="nowhere")
    with pytest.raises(StorageUnavailable) as failed:
        box.send_due(NOW)
    assert "outbox" in failed.value.message
    with pytest.raises(StorageUnavailable):
        box.counts()


def test_the_backoff_doubles_up_to_its_cap_and_drops_at_most_half():
    backoff = Backoff(base=timedelta(seconds=30), cap=timedelta(hours=1), rng=random.Random(7))
    for attempts in range(1, 40):
        full = min(timedelta(hours=1), timedelta(seconds=30) * 2 ** (attempts - 1))
        assert full / 2 <= backoff.delay(attempts) <= full


def test_a_backoff_that_cannot_work_is_refused():
    with pytest.raises(InvalidInput):
        Backoff(base=timedelta(0))
    with pytest.raises(InvalidInput):
        Backoff(base=timedelta(minutes=2), cap=timedelta(minutes=1))
    with pytest.raises(InvalidInput):
        Backoff(max_attempts=0)


def _send_from_a_new_process(db_url: str, gateway_url: str, start: Any, done: Any) -> None:
    db, factory = open_database(db_url)
    box = Outbox(db, {"chat": WebhookChannel(gateway_url, secret=SECRET)}, batch=5)
    start.wait()
    box.create()
    record(box, uuid.UUID(int=1), range(1, 101))
    report = box.send_due(NOW)
    done.put(report.sent)
    factory.close()


def test_four_processes_on_a_new_database_create_record_and_send_each_notice_once(
    db_url: str, server: Gateway
):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    done = context.Queue()
    processes = [
        context.Process(target=_send_from_a_new_process, args=(db_url, server.url, start, done))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    assert sum(done.get(timeout=5) for _ in processes) == 100
    ids = server.received.ids()
    assert len(ids) == len(set(ids)) == 100


def test_disputes_are_sent_side_by_side_and_each_disputes_notices_in_order(
    database: Database, server: Gateway
):
    box = outbox(database, server, concurrency=8, batch=30)
    disputes = [uuid.uuid4() for _ in range(20)]
    for dispute in disputes:
        record(box, dispute, range(1, 6))
    assert box.send_due(NOW).sent == 100
    ids = server.received.ids()
    for dispute in disputes:
        mine = [i for i in ids if i in {str(message_id(dispute, p)) for p in range(1, 6)}]
        assert mine == [str(message_id(dispute, p)) for p in range(1, 6)]


def test_an_outbox_needs_a_positive_batch_concurrency_and_lease(database: Database):
    with pytest.raises(InvalidInput):
        Outbox(database, batch=0)
    with pytest.raises(InvalidInput):
        Outbox(database, concurrency=0)
    with pytest.raises(InvalidInput):
        Outbox(database, lease=timedelta(0))


SENDER = """
import sys
from datetime import datetime
from dispute_engine.delivery import Outbox, WebhookChannel
from dispute_engine.delivery.storage import open_database
from tests.delivery_servers import SECRET
db, _ = open_database(sys.argv[1])
box = Outbox(db, {"chat": WebhookChannel(sys.argv[2], secret=SECRET)}, batch=10, concurrency=2)
box.send_due(datetime.fromisoformat(sys.argv[3]))
"""


def test_a_sender_killed_mid_send_loses_nothing_and_repeats_only_under_the_same_ids(
    db_url: str, database: Database, server: Gateway
):
    box = outbox(database, server, lease=timedelta(minutes=10))
    dispute = uuid.uuid4()
    record(box, dispute, range(1, 61))
    server.delay = 0.02
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, db_url, server.url, NOW.isoformat()],
        cwd=Path(__file__).parents[2],
    )
    deadline = time.monotonic() + 60
    while len(server.received.ids()) < 15 and time.monotonic() < deadline:
        time.sleep(0.01)
    sender.send_signal(signal.SIGKILL)
    sender.wait()
    time.sleep(0.3)  # requests already on the wire reach the gateway
    server.delay = 0
    delivered = set(server.received.ids())
    marked = {str(e.message.message_id) for e in box.entries(["sent"])}
    assert marked <= delivered
    assert len(delivered) < 60
    report = box.send_due(NOW + timedelta(minutes=10))
    ids = server.received.ids()
    assert set(ids) == {str(message_id(dispute, p)) for p in range(1, 61)}
    assert box.counts()["sent"] == 60
    assert report.sent == 60 - len(marked)
    # What the killed sender delivered but never marked arrives again, under the same id.
    repeated = {i for i in ids if ids.count(i) > 1}
    assert repeated == delivered - marked
    assert all(ids.count(i) <= 2 for i in ids)
