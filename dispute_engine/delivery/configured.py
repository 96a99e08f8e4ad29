"""The channels the settings configure: a webhook gateway per channel, SMTP for ``email``."""

from __future__ import annotations

from dispute_engine.delivery.channel import Channel
from dispute_engine.delivery.email import SmtpChannel
from dispute_engine.delivery.webhook import WebhookChannel
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.settings import Settings

EMAIL = "email"


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """Each configured notice channel by name (a webhook for ``email`` wins over SMTP).

    Raises InvalidInput when none is configured, or a webhook secret is malformed.
    """
    channels: dict[str, Channel] = {}
    if settings.smtp is not None:
        smtp = settings.smtp
        channels[EMAIL] = SmtpChannel(
            smtp.host,
            smtp.port,
            sender=smtp.sender,
            starttls=smtp.starttls,
            username=smtp.username,
            password=None if smtp.password is None else smtp.password.get_secret_value(),
        )
    for name, target in settings.notice_webhooks.items():
        channels[name] = WebhookChannel(target.url, secret=target.secret.get_secret_value())
    if not channels:
        raise InvalidInput.of(
            "notice_webhooks",
            "no notice channel is configured: set DISPUTE_ENGINE_NOTICE_WEBHOOKS "
            """(e.g. '{"chat": {"url": "https://gw.example/hook", "secret": "whsec_..."}}') """
            "or DISPUTE_ENGINE_SMTP",
        )
    return channels
