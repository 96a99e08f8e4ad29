"""The feed projection: every dispute event published to JetStream, from its tracked position.

The runner records the position of a batch only after the feed acknowledged every event of
it; a batch that fails is published again from its first event, and JetStream drops the
events it already stored (same ``Nats-Msg-Id``). Each batch opens and closes its own
connection, so an engine holds no connection to the broker between batches.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dispute_engine.database import Cursor, Database
from dispute_engine.domain.events import DisputeEvent
from projections.feed import DEFAULT_PREFIX, DEFAULT_STREAM, DEFAULT_URL, EventFeed, FeedEvent
from projections.view import Batch

# Fields that place an event rather than describe it: the feed message carries them itself.
_PLACING = frozenset({"originator_id", "originator_version", "timestamp", "status"})


class FeedView:
    """Publishes each batch of events to the feed; keeps no table, only its position."""

    name: str = "feed"
    version: int = 1
    tables: tuple[str, ...] = ()

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        stream: str = DEFAULT_STREAM,
        subject_prefix: str = DEFAULT_PREFIX,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.timeout = timeout

    def feed(self) -> EventFeed:
        """A new, unconnected feed with this view's settings. Raises InvalidInput."""
        return EventFeed(
            self.url,
            stream=self.stream,
            subject_prefix=self.subject_prefix,
            duplicate_window=timedelta(hours=1),
            timeout=self.timeout,
        )

    def create(self, db: Database) -> None:
        """Nothing to create: the stream is made on the first publish."""

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Publish the batch in order. Raises FeedUnavailable: the position then stays."""
        # The feed carries disputes' events; the staff directory's share the store.
        batch = [(n, e) for n, e in batch if isinstance(e, DisputeEvent)]
        events = [
            FeedEvent(
                position=notification.id,
                dispute_id=event.originator_id,
                version=event.originator_version,
                status=event.status,
                event=type(event).__name__,
                payload=payload(vars(event)),
            )
            for notification, event in batch
        ]
        feed = self.feed()
        try:
            feed.publish(events)
        finally:
            feed.close()


def payload(fields: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields, with the time as ISO 8601 (personal data is dropped later)."""
    data = {k: v for k, v in fields.items() if k not in _PLACING}
    data["at"] = fields["timestamp"].isoformat()
    return data
