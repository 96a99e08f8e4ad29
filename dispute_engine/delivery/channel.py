"""What every channel adapter takes and how it fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dispute_engine.domain.errors import DisputeEngineError


class DeliveryFailed(DisputeEngineError, ConnectionError):
    """Raised when a channel could not hand a message over.

    ``retriable`` is False when trying again cannot help (the receiver refused the message or
    the address for good); the outbox then gives up on the message at once.
    """

    def __init__(self, message: str, *, retriable: bool = True) -> None:
        super().__init__(message)
        self.retriable = retriable


@dataclass(frozen=True)
class OutgoingMessage:
    """One notice on its way to one claimant.

    ``message_id`` is the same for every attempt: receivers see it as ``webhook-id`` or
    ``Message-ID`` and drop a repeat, so a send that is retried after a crash arrives once.
    """

    message_id: UUID
    dispute_id: UUID
    position: int  # of the ClaimantNotified event in the dispute's history
    channel: str
    recipient: str
    language: str
    template: str
    subject: str
    body: str
    created_at: datetime


class Channel(Protocol):
    """Hands messages to one kind of receiver (a mail server, a chat gateway, ...)."""

    def deliver(self, message: OutgoingMessage) -> None:
        """Deliver one message. Raises DeliveryFailed."""
        ...

    def close(self) -> None:
        """Release connections; the channel may be used again afterwards."""
        ...
