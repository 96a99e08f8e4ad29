"""Notices through a gateway (chat, app, social, phone) as Standard Webhooks.

Each request carries ``webhook-id`` (the outbox message id, the same on every retry),
``webhook-timestamp`` and ``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(secret,
"id.timestamp.body")), as https://www.standardwebhooks.com specifies, so a gateway can check the
sender and drop repeats.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from dispute_engine.delivery.channel import DeliveryFailed, OutgoingMessage
from dispute_engine.domain.errors import InvalidInput

SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of the format, not a secret
# Worth another try: a timeout, a conflict, too early, too many requests; every 5xx.
RETRIABLE_STATUS = frozenset({408, 409, 425, 429})


class WebhookChannel:
    """Posts each message as one signed JSON request to one gateway URL.

    Keeps one HTTP/1.1 connection per thread open between deliveries.
    Raises InvalidInput for a URL that is not http(s) or a secret that is not ``whsec_`` base64.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput.of("url", f"a webhook needs an http(s) URL, not {url!r}")
        self.url = url
        self.key = _key(secret)
        self.timeout = timeout
        self.clock = clock
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()
        self._open: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def sign(self, message_id: str, timestamp: int, body: bytes) -> str:
        """The ``webhook-signature`` header of one request."""
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = hmac.new(self.key, signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()

    def payload(self, message: OutgoingMessage) -> bytes:
        """The JSON body a message becomes."""
        return json.dumps(
            {
                "type": f"notice.{message.template}",
                "timestamp": message.created_at.isoformat(),
                "data": {
                    "message_id": str(message.message_id),
                    "dispute_id": str(message.dispute_id),
                    "channel": message.channel,
                    "recipient": message.recipient,
                    "language": message.language,
                    "subject": message.subject,
                    "body": message.body,
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    def deliver(self, message: OutgoingMessage) -> None:
        """Post one message. Raises DeliveryFailed (not retriable for a refusing 4xx)."""
        body = self.payload(message)
        message_id = str(message.message_id)
        timestamp = int(self.clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.sign(message_id, timestamp, body),
        }
        try:
            status, reason = self._post(body, headers)
        except (OSError, http.client.HTTPException) as exc:
            connection = getattr(self._local, "connection", None)
            if connection is not None:
                self._drop(connection)
            raise DeliveryFailed(
                f"cannot reach the gateway at {self.url}: {exc or type(exc).__name__}"
            ) from None
        if 200 <= status < 300:
            return
        raise DeliveryFailed(
            f"the gateway at {self.url} answered {status} {reason}",
            retriable=status >= 500 or status in RETRIABLE_STATUS,
        )

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
        try:
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # A kept-alive connection the server closed meanwhile: one fresh attempt.
            self._drop(connection)
            connection = self._connect()
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
        response.read()
        if response.will_close:
            self._drop(connection)
        return response.status, response.reason

    def _connect(self) -> http.client.HTTPConnection:
        kind = (
            http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(self._host, self._port, timeout=self.timeout)
        self._local.connection = connection
        with self._lock:
            self._open.append(connection)
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None
        with self._lock:
            if connection in self._open:
                self._open.remove(connection)

    def close(self) -> None:
        """Close every kept-alive connection; each thread reconnects on its next delivery."""
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            connection.close()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if not secret.startswith(SECRET_PREFIX) or len(key) < 16:
        raise InvalidInput.of(
            "secret", "a webhook secret is 'whsec_' and at least 16 bytes in base64"
        )
    return key
