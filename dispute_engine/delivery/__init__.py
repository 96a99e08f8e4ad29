"""Getting notices to claimants: channel adapters (SMTP, Standard Webhooks) and the outbox."""

from dispute_engine.delivery.channel import Channel, DeliveryFailed, OutgoingMessage
from dispute_engine.delivery.email import SmtpChannel
from dispute_engine.delivery.outbox import (
    Backoff,
    Claimed,
    Outbox,
    OutboxEntry,
    SendReport,
    message_id,
    notice_message,
)
from dispute_engine.delivery.webhook import WebhookChannel

__all__ = [
    "Backoff",
    "Channel",
    "Claimed",
    "DeliveryFailed",
    "Outbox",
    "OutboxEntry",
    "OutgoingMessage",
    "SendReport",
    "SmtpChannel",
    "WebhookChannel",
    "message_id",
    "notice_message",
]
