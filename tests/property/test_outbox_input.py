"""Whatever a notice's recorded data holds, the outbox records it whole or refuses it whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispute_engine.database import Database
from dispute_engine.delivery import Outbox, WebhookChannel
from dispute_engine.delivery.storage import open_database
from dispute_engine.domain.errors import InvalidInput
from tests.delivery_servers import SECRET

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.text(alphabet=st.characters(codec=None, exclude_categories=())),
    st.binary(max_size=20),
)
WHEN = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(
        timezones=st.builds(timezone, st.timedeltas(-timedelta(hours=23), timedelta(hours=23)))
    ),
    st.datetimes(),
    ANY,
)


@pytest.fixture
def box(db_url: str) -> Iterator[Outbox]:
    db, factory = open_database(db_url)
    outbox = Outbox(db, {"chat": WebhookChannel("http://127.0.0.1:9/", secret=SECRET)})
    outbox.create()
    yield outbox
    factory.close()


def rows(db: Database) -> list[Any]:
    return db.fetchall(f"SELECT message_id, body, subject FROM {db.table('notice_outbox')}")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "template": st.one_of(st.sampled_from(["acknowledgement", "closed"]), ANY),
            "language": st.one_of(st.sampled_from(["en", "zh-TW", "es-MX"]), ANY),
            "channel": st.one_of(st.just("chat"), ANY),
            "text": ANY,
            "subject": ANY,
            "timestamp": WHEN,
        },
    ),
    recipient=ANY,
    position=st.one_of(st.integers(), ANY),
)
def test_a_notice_is_recorded_whole_or_refused_with_nothing_written(
    box: Outbox, data: dict[str, Any], recipient: Any, position: Any
):
    before = rows(box.db)
    dispute = uuid.uuid4()
    refused: InvalidInput | None = None
    try:
        with box.db.transaction() as cursor:
            message = box.record_notice(
                cursor, dispute_id=dispute, position=position, data=data, recipient=recipient
            )
    except InvalidInput as exc:
        refused = exc
    if refused is not None:
        assert refused.errors
        assert rows(box.db) == before
        return
    after = rows(box.db)
    assert len(after) == len(before) + 1
    [stored] = [r for r in after if r["message_id"] == str(message.message_id)]
    assert stored["body"] == data["text"]
    assert stored["subject"] == message.subject


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(now=WHEN)
def test_any_time_given_to_the_sender_is_used_or_refused(box: Outbox, now: Any):
    refused: InvalidInput | None = None
    try:
        report = box.send_due(now)
    except InvalidInput as exc:
        refused = exc
    if refused is not None:
        assert refused.fields == ["now"]
    else:
        assert report.sent == 0
        assert isinstance(now, datetime)
