"""Notices by email, over SMTP with the standard library (STARTTLS when asked)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from dispute_engine.delivery.channel import DeliveryFailed, OutgoingMessage


class SmtpChannel:
    """Sends each message as one email through one SMTP server.

    The Message-ID is derived from the outbox message id, so a mail resent after a crash carries
    the same Message-ID and mail clients show it once.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.domain = sender.rpartition("@")[2] or "localhost"

    def email(self, message: OutgoingMessage) -> EmailMessage:
        """The email a message becomes."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.created_at)
        mail["Message-ID"] = f"<{message.message_id}@{self.domain}>"
        mail.set_content(message.body)
        # After set_content, which drops every Content-* header set before it.
        mail["Content-Language"] = message.language.replace("_", "-")
        return mail

    def deliver(self, message: OutgoingMessage) -> None:
        """Send one email. Raises DeliveryFailed (not retriable when the server refuses it)."""
        try:
            mail = self.email(message)
        except (ValueError, TypeError) as exc:
            # e.g. a line break in the address or subject: no retry can make it a valid mail.
            raise DeliveryFailed(f"cannot write the mail: {exc}", retriable=False) from None
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(
                f"the mail server refused {message.recipient}: {codes}",
                retriable=all(code < 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"the mail server answered {exc.smtp_code}: {_text(exc.smtp_error)}",
                retriable=exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(
                f"cannot send mail through {self.host}:{self.port}: {exc or type(exc).__name__}"
            ) from None

    def close(self) -> None:
        """Nothing to release: each delivery opens and closes its own SMTP session."""


def _text(error: bytes | str) -> str:
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else error
