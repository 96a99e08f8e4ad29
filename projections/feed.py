"""The event feed for integrators: every dispute event on NATS JetStream, once, in order.

Each event goes to ``disputes.<status>.<event>`` (status after the event) with a
``Nats-Msg-Id`` of ``<dispute id>:<version>``, so publishing it again within the stream's
duplicate window stores nothing new. :meth:`EventFeed.publish` returns the last position up to
which every event was acknowledged: a tracking projection records that position and, after a
restart, publishes again from the one after it.

Payloads carry no personal data in clear: free-text and contact fields, the claimant id and
any sealed value (``pd1.``) are dropped before publishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any, Final
from uuid import UUID

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from dispute_engine.domain.errors import FeedUnavailable, InvalidInput

DEFAULT_URL: Final = "nats://127.0.0.1:4222"
DEFAULT_STREAM: Final = "DISPUTES"
DEFAULT_PREFIX: Final = "disputes"
# Field names whose values may hold what a claimant wrote or how to reach them.
PERSONAL_FIELDS: Final = frozenset(
    {
        "address_line",
        "claimant_id",
        "comment",
        "contact",
        "content",
        "description",
        "email",
        "filename",
        "name",
        "note",
        "phone",
        "quote",
        "text",
        "what",
    }
)
SEALED_PREFIX: Final = "pd1."
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}")
_STREAM_NAME_IN_USE: Final = 10058


@dataclass(frozen=True)
class FeedEvent:
    """One stored dispute event as the feed publishes it.

    Raises InvalidInput when the status or event name cannot be a subject token.
    """

    position: int
    dispute_id: UUID
    version: int
    status: str
    event: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("status", "event"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _TOKEN.fullmatch(value):
                raise InvalidInput.of(name, "must be 1 to 64 letters, digits, '_' or '-'")
        for name in ("position", "version"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput.of(name, "must be a whole number >= 0")
        if not isinstance(self.dispute_id, UUID):
            raise InvalidInput.of("dispute_id", "must be a UUID")

    @property
    def message_id(self) -> str:
        """The id JetStream deduplicates on: the same event always gets the same one."""
        return f"{self.dispute_id}:{self.version}"

    def subject(self, prefix: str = DEFAULT_PREFIX) -> str:
        """``<prefix>.<status>.<event>``."""
        return f"{prefix}.{self.status}.{self.event}"

    def body(self) -> bytes:
        """The JSON message: the event's coordinates and its payload without personal data."""
        return json.dumps(
            {
                "position": self.position,
                "dispute_id": str(self.dispute_id),
                "version": self.version,
                "status": self.status,
                "event": self.event,
                "data": without_personal_data(self.payload),
            },
            separators=(",", ":"),
            sort_keys=True,
            default=str,
        ).encode()


def without_personal_data(value: Any) -> Any:
    """The value with personal fields and sealed values removed, at any depth."""
    if isinstance(value, Mapping):
        return {
            str(k): without_personal_data(v)
            for k, v in value.items()
            if str(k) not in PERSONAL_FIELDS and not _sealed(v)
        }
    if isinstance(value, list | tuple):
        return [without_personal_data(v) for v in value if not _sealed(v)]
    return value


async def _settle(tasks: set[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


async def _quiet(error: Exception) -> None:
    """Connection errors reach the caller as FeedUnavailable, not as log noise."""


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


class EventFeed:
    """Publishes batches of dispute events to a JetStream stream (sync; owns an event loop).

    Raises FeedUnavailable when the server cannot be reached or does not acknowledge.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        stream: str = DEFAULT_STREAM,
        subject_prefix: str = DEFAULT_PREFIX,
        duplicate_window: timedelta = timedelta(minutes=5),
        max_in_flight: int = 2000,
        timeout: float = 10.0,
    ) -> None:
        if not _TOKEN.fullmatch(stream):
            raise InvalidInput.of("stream", "must be 1 to 64 letters, digits, '_' or '-'")
        if not _PREFIX.fullmatch(subject_prefix):
            raise InvalidInput.of("subject_prefix", "must be 1 to 4 dot-separated tokens")
        if duplicate_window <= timedelta(0):
            raise InvalidInput.of("duplicate_window", "must be positive")
        if max_in_flight < 1 or timeout <= 0:
            raise InvalidInput.of("max_in_flight", "max_in_flight and timeout must be positive")
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.duplicate_window = duplicate_window
        self.max_in_flight = max_in_flight
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    def __enter__(self) -> EventFeed:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Connect and make sure the stream exists with this feed's subjects and window."""
        self._loop.run_until_complete(self._connect())

    def publish(self, batch: Sequence[FeedEvent]) -> int | None:
        """Publish the events in order; the last position (None for an empty batch).

        Every event is validated before the first is sent. Raises FeedUnavailable, with the
        last position up to which every event was acknowledged, when the server fails.
        """
        for event in batch:
            if not isinstance(event, FeedEvent):
                raise InvalidInput.of("batch", "must hold FeedEvent values")
        if not batch:
            return None
        return self._loop.run_until_complete(self._publish(batch))

    def delete_stream(self) -> None:
        """Delete the stream and everything in it, if it exists (tests and tear-down)."""
        self._loop.run_until_complete(self._delete_stream())

    def close(self) -> None:
        """Flush, disconnect and release the event loop; closing twice is harmless."""
        if self._loop.is_closed():
            return
        try:
            if self._nc is not None:
                self._loop.run_until_complete(self._nc.close())
        except (NatsError, OSError):
            pass  # already broken: nothing left to flush
        finally:
            self._nc = self._js = None
            # The client's reader and flusher tasks end with the loop, not after it.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(_settle(pending))
            self._loop.close()

    async def _connect(self) -> None:
        if self._js is not None:
            return
        try:
            self._nc = await nats.connect(
                self.url,
                connect_timeout=self.timeout,
                # 0 would mean "forever": try twice, then the feed is unavailable.
                max_reconnect_attempts=1,
                reconnect_time_wait=0.2,
                allow_reconnect=False,
                error_cb=_quiet,
            )
            self._js = self._nc.jetstream(timeout=self.timeout)
            config = StreamConfig(
                name=self.stream,
                subjects=[f"{self.subject_prefix}.>"],
                duplicate_window=self.duplicate_window.total_seconds(),
            )
            try:
                await self._js.add_stream(config)
            except BadRequestError as exc:
                if exc.err_code != _STREAM_NAME_IN_USE:
                    raise
                await self._js.update_stream(config)
        except (NatsError, OSError, TimeoutError) as exc:
            raise FeedUnavailable(
                f"cannot use the event feed at {self.url}: {exc or type(exc).__name__}",
                last_position=None,
            ) from None

    async def _delete_stream(self) -> None:
        await self._connect()
        assert self._js is not None
        with contextlib.suppress(NotFoundError):  # deleting is idempotent
            await self._js.delete_stream(self.stream)

    async def _publish(self, batch: Sequence[FeedEvent]) -> int:
        await self._connect()
        nc = self._nc
        assert nc is not None
        # Acks are matched by our own reply subjects: the client's publish_async leaves a
        # future unresolved when the stream refuses a message (an error ack), so a refusal
        # would only surface after the timeout.
        inbox = nc.new_inbox()
        acks: list[asyncio.Future[None]] = [self._loop.create_future() for _ in batch]
        in_flight = asyncio.Semaphore(self.max_in_flight)

        async def on_ack(msg: Msg) -> None:
            ack = acks[int(msg.subject.rsplit(".", 1)[1])]
            if not ack.done():
                refusal = _refusal(msg)
                ack.set_result(None) if refusal is None else ack.set_exception(refusal)

        subscription = await nc.subscribe(f"{inbox}.*", cb=on_ack)
        failure: BaseException | None = None
        try:
            # Sent one after another on one connection: the stream stores them in this order.
            for n, event in enumerate(batch):
                # Waiting only when full: every yield to the loop lets the client send
                # what is buffered, one small write per event instead of one per batch.
                if in_flight.locked():
                    await asyncio.wait_for(in_flight.acquire(), self.timeout)
                else:
                    await in_flight.acquire()
                acks[n].add_done_callback(lambda _: in_flight.release())
                await nc.publish(
                    event.subject(self.subject_prefix),
                    event.body(),
                    reply=f"{inbox}.{n}",
                    headers={"Nats-Msg-Id": event.message_id, "Nats-Expected-Stream": self.stream},
                )
            await asyncio.wait(acks, timeout=self.timeout)
        except (NatsError, OSError, TimeoutError) as exc:
            failure = exc
        finally:
            with contextlib.suppress(NatsError):
                await subscription.unsubscribe()
        acknowledged = 0
        for ack in acks:
            if not ack.done() or ack.exception() is not None:
                failure = failure or (ack.exception() if ack.done() else TimeoutError("no ack"))
                break
            acknowledged += 1
        for ack in acks:
            if not ack.done():
                ack.cancel()
        if acknowledged < len(batch):
            raise FeedUnavailable(
                f"the event feed acknowledged {acknowledged} of {len(batch)} events: {failure}",
                last_position=batch[acknowledged - 1].position if acknowledged else None,
            )
        return batch[-1].position


def _refusal(msg: Msg) -> Exception | None:
    """Why JetStream did not store a message, from its ack (None when it did)."""
    if msg.headers and msg.headers.get("Status") == "503":
        return ConnectionError("no stream takes this subject")
    try:
        answer = json.loads(msg.data)
    except ValueError:
        return ConnectionError("an unreadable acknowledgement")
    if not isinstance(answer, dict) or "error" in answer or "seq" not in answer:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        return ConnectionError(f"refused: {error.get('description', answer)}")
    return None
