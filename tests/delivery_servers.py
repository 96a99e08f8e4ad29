"""Real receivers on loopback for the delivery tests: a webhook gateway and a mail server."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Received:
    """What a receiver got, in arrival order."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        with self.lock:
            return [headers["webhook-id"] for headers, _ in self.requests]


class Gateway(ThreadingHTTPServer):
    """A webhook gateway: records each request and answers the next scripted status (200)."""

    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.received = Received()
        self.statuses: list[int] = []
        self.silent = False
        self.close_connections = False
        self.delay = 0.0  # seconds before each answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/notices"

    def next_status(self) -> int:
        with self.received.lock:
            return self.statuses.pop(0) if self.statuses else 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real gateway
    server: Gateway

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.server.silent:
            threading.Event().wait(30)
            return
        with self.server.received.lock:
            self.server.received.requests.append(
                ({k.lower(): v for k, v in self.headers.items()}, body)
            )
        if self.server.delay:
            threading.Event().wait(self.server.delay)
        status = self.server.next_status()
        self.send_response(status)
        self.send_header("content-length", "0")
        if self.server.close_connections:
            self.send_header("connection", "close")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what arrived, not the log."""


@contextmanager
def gateway() -> Iterator[Gateway]:
    """A webhook gateway on 127.0.0.1, stopped afterwards."""
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    """An aiosmtpd handler keeping every mail; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mail_server(
    tls: ssl.SSLContext | None = None, *, require_starttls: bool = False
) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 (offering STARTTLS with a TLS context) and its port."""
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls,
        require_starttls=require_starttls,
    )
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])
