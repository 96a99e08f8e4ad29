"""The outbox: every recorded notice becomes exactly one outgoing message, sent until it arrives.

A message's id is derived from the dispute and the position of the ``ClaimantNotified`` event,
so recording the same notice twice (a replayed projection, two workers) keeps one row. Senders
claim due rows for a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the claiming
``UPDATE`` takes the database's single write lock), so two senders never send one message at
once. A sender that dies between sending and marking leaves the claim to expire; the message is
sent again with the same id, which the receiver sees (``webhook-id``, ``Message-ID``) and drops.

States: ``pending`` -> ``sent``; a failed attempt -> ``failed`` (tried again at ``due_at``, with
exponential backoff and jitter) -> ``dead`` after ``Backoff.max_attempts`` attempts or a refusal
that no retry can fix.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from dispute_engine.database import Cursor, Database
from dispute_engine.delivery.channel import Channel, DeliveryFailed, OutgoingMessage
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.error_mapping import storage_errors
from dispute_engine.notices.catalog import generic_subject

SHORT, LONG = 200, 100_000  # longest name / address, and longest subject or text
State = Literal["pending", "sent", "failed", "dead"]
STATES: tuple[State, ...] = ("pending", "sent", "failed", "dead")
# Fixed-width UTC text sorts as time does, on both databases.
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
MESSAGES = uuid.UUID("5b0f3d1e-7c2a-4e51-9a1f-0d6c8e4b2a90")
_COLUMNS = (
    "message_id",
    "dispute_id",
    "position",
    "channel",
    "recipient",
    "language",
    "template",
    "subject",
    "body",
    "created_at",
)


def message_id(dispute_id: UUID, position: int) -> UUID:
    """The id of the message for the notice recorded at ``position`` in a dispute's history."""
    return uuid.uuid5(MESSAGES, f"{dispute_id}:{position}")


@dataclass(frozen=True)
class Backoff:
    """When a failed message is tried again, and when it is given up.

    The n-th retry waits ``base * 2**(n-1)`` (at most ``cap``), of which a random half is
    dropped ("equal jitter") so messages that failed together do not all return together.
    """

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=6)
    max_attempts: int = 8
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base or self.max_attempts < 1:
            raise InvalidInput.of("backoff", "needs 0 < base <= cap and max_attempts >= 1")

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the given number of failed attempts (1 or more)."""
        full: timedelta = min(self.cap, self.base * 2 ** min(attempts - 1, 32))
        return full / 2 + full / 2 * self.rng.random()


@dataclass(frozen=True)
class SendReport:
    """What one pass of the sender did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0

    def __add__(self, other: SendReport) -> SendReport:
        return SendReport(
            self.sent + other.sent, self.failed + other.failed, self.dead + other.dead
        )


@dataclass(frozen=True)
class Claimed:
    """A message a sender holds for its lease, with the attempts made before."""

    message: OutgoingMessage
    attempts: int
    token: str


@dataclass(frozen=True)
class OutboxEntry:
    """One row of the outbox, for ``notices list``."""

    message: OutgoingMessage
    state: State
    attempts: int
    due_at: datetime
    last_error: str | None
    sent_at: datetime | None


class Outbox:
    """The outbox table, and the sender that empties it through the configured channels.

    The sender delivers up to ``concurrency`` disputes' messages at once (a channel must be
    safe to use from several threads). Raises InvalidInput for a batch or concurrency below 1
    or a lease that is not positive.
    """

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel] | None = None,
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=10),
        batch: int = 100,
        concurrency: int = 4,
        table: str = "notice_outbox",
    ) -> None:
        self.db = db
        self.channels = dict(channels or {})
        self.backoff = backoff or Backoff()
        self.lease = lease
        if batch < 1 or concurrency < 1 or lease <= timedelta(0):
            raise InvalidInput.of("outbox", "batch, concurrency and lease must be positive")
        self.batch = batch
        self.concurrency = concurrency
        self.name = table
        self.table = db.table(table)

    def create(self) -> None:
        """Create the table and the index senders claim by (idempotent, safe to run at once)."""
        statements = (
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "message_id TEXT PRIMARY KEY, dispute_id TEXT NOT NULL, "
            "position INTEGER NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, "
            "language TEXT NOT NULL, template TEXT NOT NULL, subject TEXT NOT NULL, "
            "body TEXT NOT NULL, created_at TEXT NOT NULL, state TEXT NOT NULL, "
            "attempts INTEGER NOT NULL, due_at TEXT NOT NULL, claimed_by TEXT, "
            "claimed_until TEXT, last_error TEXT, sent_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {self.name}_due ON {self.table} (state, due_at)",
        )
        with self._storage(), self.db.transaction() as cursor:
            if self.db.kind == "postgres":
                # Concurrent CREATE ... IF NOT EXISTS collide in PostgreSQL's catalog
                # ("duplicate key ... pg_type"): creators queue on a lock of their own.
                self.db.execute(
                    cursor,
                    "SELECT pg_advisory_xact_lock(hashtext(?))",
                    (f"dispute-engine:{self.db.schema}:{self.name}",),
                )
            for statement in statements:
                self.db.execute(cursor, statement)

    # -- recording ---------------------------------------------------------------

    def _record(self, cursor: Cursor, message: OutgoingMessage) -> None:
        # A message already there is kept as it is: the first recording wins.
        self.db.execute(
            cursor,
            f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}, state, attempts, due_at) "
            f"VALUES ({', '.join('?' * (len(_COLUMNS) + 3))}) "
            "ON CONFLICT (message_id) DO NOTHING",
            (*_row(message), "pending", 0, _text(message.created_at)),
        )

    def record_notice(
        self,
        cursor: Cursor,
        *,
        dispute_id: UUID,
        position: int,
        data: Mapping[str, Any],
        recipient: str,
    ) -> OutgoingMessage:
        """Turn one recorded ``ClaimantNotified`` event into its outgoing message, and add it
        in the caller's transaction (recording it again changes nothing).

        ``data`` holds the event's fields (template, language, channel, text, timestamp and,
        when recorded, subject); ``recipient`` is the claimant's address on that channel.
        Raises InvalidInput when a field is missing or malformed.
        """
        message = notice_message(dispute_id, position, data, recipient)
        self._record(cursor, message)
        return message

    def cancel(self, cursor: Cursor, dispute_id: UUID, reason: str) -> None:
        """Give up, in the caller's transaction, every message of a dispute not yet sent.

        Their state becomes ``dead`` with ``reason`` as the last error; a sender holding one
        at this moment cannot mark it afterwards (its claim is cleared).
        """
        self.db.execute(
            cursor,
            f"UPDATE {self.table} SET state = 'dead', last_error = ?, claimed_by = NULL, "
            "claimed_until = NULL WHERE dispute_id = ? AND state IN ('pending', 'failed')",
            (reason, str(dispute_id)),
        )

    # -- sending -----------------------------------------------------------------

    def send_due(self, now: datetime) -> SendReport:
        """Send every message due at ``now`` on a configured channel; counts what happened.

        Raises StorageUnavailable when the database cannot be reached; a channel's failure is
        recorded on its message, never raised.
        """
        _check_now(now, max(self.lease, self.backoff.cap))
        report = SendReport()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox") as pool:
            while claimed := self.claim(now):
                report += self.deliver(claimed, now, pool=pool)
                if len(claimed) < self.batch:
                    break
        for channel in self.channels.values():
            channel.close()
        return report

    def claim(self, now: datetime, limit: int | None = None) -> list[Claimed]:
        """Take up to ``limit`` due messages for the lease; no other sender gets them meanwhile."""
        _check_now(now, self.lease)
        if not self.channels:
            return []
        token = uuid.uuid4().hex
        at = _text(now)
        channels = sorted(self.channels)
        lock = " FOR UPDATE SKIP LOCKED" if self.db.kind == "postgres" else ""
        with self._storage(), self.db.transaction() as cursor:
            self.db.execute(
                cursor,
                f"UPDATE {self.table} SET claimed_by = ?, claimed_until = ? "
                f"WHERE message_id IN (SELECT message_id FROM {self.table} "
                "WHERE state IN ('pending', 'failed') AND due_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until <= ?) "
                f"AND channel IN ({', '.join('?' * len(channels))}) "
                f"ORDER BY due_at, created_at, position LIMIT ?{lock}) "
                f"RETURNING {', '.join(_COLUMNS)}, attempts",
                (token, _text(now + self.lease), at, at, *channels, limit or self.batch),
            )
            rows = cursor.fetchall()
        claimed = [Claimed(_message(r), int(r["attempts"]), token) for r in rows]
        return sorted(claimed, key=lambda c: (c.message.created_at, c.message.position))

    def deliver(
        self, claimed: Sequence[Claimed], now: datetime, *, pool: Executor | None = None
    ) -> SendReport:
        """Hand claimed messages to their channels and record each outcome.

        With a pool, disputes are delivered side by side, each dispute's messages in order.
        An outcome is recorded only while the claim is still this sender's: once its lease has
        lapsed and another sender took the message over, that sender's outcome stands.
        """
        _check_now(now, self.backoff.cap)
        by_dispute: dict[UUID, list[Claimed]] = {}
        for claim in claimed:
            by_dispute.setdefault(claim.message.dispute_id, []).append(claim)
        groups = list(by_dispute.values())
        outcomes = pool.map(self._attempt, groups) if pool else map(self._attempt, groups)
        sent: list[tuple[Any, ...]] = []
        failed: list[tuple[Any, ...]] = []
        dead: list[tuple[Any, ...]] = []
        for group, errors in zip(groups, outcomes, strict=True):
            for claim, error in zip(group, errors, strict=True):
                key = str(claim.message.message_id)
                tries = claim.attempts + 1
                if error is None:
                    sent.append((_text(now), key, claim.token))
                elif error.retriable and tries < self.backoff.max_attempts:
                    due = _text(now + self.backoff.delay(tries))
                    failed.append(("failed", tries, due, error.message[:1000], key, claim.token))
                else:
                    dead.append(("dead", tries, _text(now), error.message[:1000], key, claim.token))
        with self._storage(), self.db.transaction() as cursor:
            self.db.executemany(
                cursor,
                f"UPDATE {self.table} SET state = 'sent', attempts = attempts + 1, sent_at = ?, "
                "last_error = NULL, claimed_by = NULL, claimed_until = NULL "
                "WHERE message_id = ? AND claimed_by = ?",
                sent,
            )
            self.db.executemany(
                cursor,
                f"UPDATE {self.table} SET state = ?, attempts = ?, due_at = ?, last_error = ?, "
                "claimed_by = NULL, claimed_until = NULL WHERE message_id = ? AND claimed_by = ?",
                failed + dead,
            )
        return SendReport(len(sent), len(failed), len(dead))

    def _attempt(self, group: Sequence[Claimed]) -> list[DeliveryFailed | None]:
        errors: list[DeliveryFailed | None] = []
        for claim in group:
            try:
                self.channels[claim.message.channel].deliver(claim.message)
            except DeliveryFailed as exc:
                errors.append(exc)
            else:
                errors.append(None)
        return errors

    # -- reading -----------------------------------------------------------------

    def entries(self, states: Sequence[State] = STATES, *, limit: int = 100) -> list[OutboxEntry]:
        """Messages in the given states, oldest first (``notices list --failed``).

        Raises InvalidInput for an unknown state or a limit outside 1..100000.
        """
        unknown = sorted(set(states) - set(STATES))
        if unknown or not states:
            raise InvalidInput.of("state", f"states are {', '.join(STATES)}; got {unknown}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100_000:
            raise InvalidInput.of("limit", "must be a whole number from 1 to 100000")
        with self._storage():
            rows = self.db.fetchall(
                f"SELECT {', '.join(_COLUMNS)}, state, attempts, due_at, last_error, sent_at "
                f"FROM {self.table} WHERE state IN ({', '.join('?' * len(states))}) "
                "ORDER BY created_at, dispute_id, position LIMIT ?",
                (*states, limit),
            )
        return [
            OutboxEntry(
                message=_message(r),
                state=r["state"],
                attempts=int(r["attempts"]),
                due_at=_time(r["due_at"]),
                last_error=r["last_error"],
                sent_at=_time(r["sent_at"]) if r["sent_at"] else None,
            )
            for r in rows
        ]

    def counts(self) -> dict[State, int]:
        """How many messages are in each state."""
        with self._storage():
            rows = self.db.fetchall(f"SELECT state, COUNT(*) AS n FROM {self.table} GROUP BY state")
        found = {r["state"]: int(r["n"]) for r in rows}
        return {state: found.get(state, 0) for state in STATES}

    def _storage(self) -> AbstractContextManager[None]:
        return storage_errors("the outbox")


def notice_message(
    dispute_id: UUID, position: int, data: Mapping[str, Any], recipient: str
) -> OutgoingMessage:
    """The outgoing message for the notice recorded at ``position`` of a dispute.

    Raises InvalidInput when the event data lacks a field or holds a malformed one.
    """
    fields = {name: data.get(name) for name in ("template", "language", "channel", "text")}
    fields["recipient"] = recipient
    if data.get("subject") is not None:
        fields["subject"] = data["subject"]
    problems = [
        {"field": name, "message": problem}
        for name, value in fields.items()
        if (problem := _text_problem(value, LONG if name in ("text", "subject") else SHORT))
    ]
    timestamp = data.get("timestamp")
    try:
        if not isinstance(timestamp, datetime) or timestamp.tzinfo is None:
            raise ValueError
        timestamp = timestamp.astimezone(UTC)
    except (ValueError, OverflowError):
        problems.append({"field": "timestamp", "message": "must be a timezone-aware datetime"})
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position < 2**31:
        problems.append({"field": "position", "message": "must be a whole number from 1"})
    if problems:
        raise InvalidInput(problems, dispute_id=dispute_id)
    assert isinstance(timestamp, datetime)  # checked above
    subject = data.get("subject")
    if subject is None:
        subject = generic_subject(data["language"], ref=str(dispute_id)[:8])
    return OutgoingMessage(
        message_id=message_id(dispute_id, position),
        dispute_id=dispute_id,
        position=position,
        channel=data["channel"],
        recipient=recipient,
        language=data["language"],
        template=data["template"],
        subject=subject,
        body=data["text"],
        created_at=timestamp.astimezone(UTC),
    )


def _text_problem(value: object, limit: int) -> str | None:
    # PostgreSQL TEXT refuses NUL and both databases refuse unpaired surrogates: bad input,
    # to be refused as such before it reaches the database.
    if not isinstance(value, str) or not value.strip():
        return "missing or empty"
    if len(value) > limit:
        return f"longer than {limit} characters"
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _row(message: OutgoingMessage) -> tuple[Any, ...]:
    return (
        str(message.message_id),
        str(message.dispute_id),
        message.position,
        message.channel,
        message.recipient,
        message.language,
        message.template,
        message.subject,
        message.body,
        _text(message.created_at),
    )


def _message(row: Any) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=UUID(row["message_id"]),
        dispute_id=UUID(row["dispute_id"]),
        position=int(row["position"]),
        channel=row["channel"],
        recipient=row["recipient"],
        language=row["language"],
        template=row["template"],
        subject=row["subject"],
        body=row["body"],
        created_at=_time(row["created_at"]),
    )


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)


def _check_now(now: datetime, ahead: timedelta) -> None:
    """Raises InvalidInput for a naive time, or one too near the calendar's end to add to."""
    try:
        if now.tzinfo is None:
            raise ValueError
        now.astimezone(UTC) + ahead
    except (ValueError, OverflowError, AttributeError, TypeError):
        raise InvalidInput.of("now", "must be a timezone-aware datetime before 9999") from None


def _time(text: str) -> datetime:
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)
