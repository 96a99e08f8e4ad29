"""Channel adapters against real receivers on loopback: a mail server and a webhook gateway."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from datetime import UTC, datetime

import pytest
import trustme
from standardwebhooks import Webhook, WebhookVerificationError

from dispute_engine.delivery import DeliveryFailed, OutgoingMessage, SmtpChannel, WebhookChannel
from dispute_engine.domain.errors import InvalidInput
from tests.delivery_servers import SECRET, gateway, mail_server, silent_server


def message(
    channel: str = "chat", recipient: str = "claimant-7", body: str = "Hola"
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=uuid.uuid4(),
        dispute_id=uuid.uuid4(),
        position=3,
        channel=channel,
        recipient=recipient,
        language="zh_Hant",
        template="acknowledgement",
        subject="我們已收到您的爭議 3f2a9c1e",
        body=body,
        created_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    )


# -- email ------------------------------------------------------------------------------


def test_an_email_arrives_with_the_outbox_id_as_its_message_id():
    with mail_server() as (mailbox, port):
        sent = message("email", "claimant@example.com", body="爭議已收到,我們正在處理。")
        SmtpChannel("127.0.0.1", port, sender="support@wallet.example").deliver(sent)
    [mail] = mailbox.mails
    assert mail["Message-ID"] == f"<{sent.message_id}@wallet.example>"
    assert mail["To"] == "claimant@example.com"
    assert mail["Subject"] == sent.subject
    assert mail["Content-Language"] == "zh-Hant"
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("utf-8").strip() == "爭議已收到,我們正在處理。"


def test_a_resent_email_carries_the_same_message_id():
    with mail_server() as (mailbox, port):
        sent = message("email", "claimant@example.com")
        channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example")
        channel.deliver(sent)
        channel.deliver(sent)
    assert [m["Message-ID"] for m in mailbox.mails] == [f"<{sent.message_id}@wallet.example>"] * 2


def test_a_refused_recipient_is_a_delivery_failure_not_worth_retrying():
    with mail_server() as (mailbox, port):
        channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example")
        with pytest.raises(DeliveryFailed) as failed:
            channel.deliver(message("email", "nobody@refused.example"))
    assert failed.value.retriable is False
    assert "nobody@refused.example" in failed.value.message
    assert mailbox.mails == []


@pytest.mark.parametrize("recipient", ["claimant@example.com\nBcc: all@example.com", "a\r\nb"])
def test_a_recipient_that_would_inject_headers_is_refused_for_good(recipient: str):
    with mail_server() as (mailbox, port):
        channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example")
        with pytest.raises(DeliveryFailed) as failed:
            channel.deliver(message("email", recipient))
    assert failed.value.retriable is False
    assert mailbox.mails == []


def test_a_mail_server_that_is_down_is_a_retriable_delivery_failure():
    with mail_server() as (_, port):
        pass
    channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example", timeout=2)
    with pytest.raises(DeliveryFailed) as failed:
        channel.deliver(message("email", "claimant@example.com"))
    assert failed.value.retriable is True


def test_a_mail_server_that_never_answers_fails_within_the_timeout():
    with silent_server() as port:
        channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failed:
            channel.deliver(message("email", "claimant@example.com"))
    assert time.monotonic() - started < 5
    assert failed.value.retriable is True


def test_an_email_goes_over_starttls_to_a_server_that_requires_it():
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    with mail_server(server_tls, require_starttls=True) as (mailbox, port):
        sent = message("email", "claimant@example.com")
        SmtpChannel(
            "127.0.0.1",
            port,
            sender="support@wallet.example",
            starttls=True,
            ssl_context=client_tls,
        ).deliver(sent)
        plain = SmtpChannel("127.0.0.1", port, sender="support@wallet.example")
        with pytest.raises(DeliveryFailed) as refused:
            plain.deliver(message("email", "claimant@example.com"))
    assert [m["Message-ID"] for m in mailbox.mails] == [f"<{sent.message_id}@wallet.example>"]
    assert "530" in refused.value.message


def test_a_mail_server_whose_certificate_is_not_trusted_is_a_delivery_failure():
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server_tls)
    with mail_server(server_tls) as (mailbox, port):
        channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example", starttls=True)
        with pytest.raises(DeliveryFailed):
            channel.deliver(message("email", "claimant@example.com"))
    assert mailbox.mails == []


def test_starttls_against_a_server_without_it_is_a_delivery_failure():
    with mail_server() as (mailbox, port):
        channel = SmtpChannel("127.0.0.1", port, sender="support@wallet.example", starttls=True)
        with pytest.raises(DeliveryFailed) as failed:
            channel.deliver(message("email", "claimant@example.com"))
    assert "STARTTLS" in failed.value.message
    assert mailbox.mails == []


# -- webhooks ---------------------------------------------------------------------------


def test_a_webhook_is_signed_as_standard_webhooks_specifies():
    with gateway() as server:
        sent = message(body="爭議已收到")
        WebhookChannel(server.url, secret=SECRET).deliver(sent)
    [(headers, body)] = server.received.requests
    assert headers["webhook-id"] == str(sent.message_id)
    verified = Webhook(SECRET).verify(body, headers)
    assert verified["type"] == "notice.acknowledgement"
    assert verified["data"]["body"] == "爭議已收到"
    assert verified["data"]["recipient"] == "claimant-7"
    assert json.loads(body)["data"]["dispute_id"] == str(sent.dispute_id)


def test_a_webhook_does_not_verify_under_another_secret_or_with_a_changed_body():
    with gateway() as server:
        WebhookChannel(server.url, secret=SECRET).deliver(message())
    [(headers, body)] = server.received.requests
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"Hola", b"Adios"), headers)


def test_a_retried_webhook_carries_the_same_id_so_the_gateway_can_drop_it():
    with gateway() as server:
        channel = WebhookChannel(server.url, secret=SECRET)
        sent = message()
        channel.deliver(sent)
        channel.deliver(sent)
        channel.close()
    assert server.received.ids() == [str(sent.message_id)] * 2


@pytest.mark.parametrize(
    ("status", "retriable"), [(500, True), (503, True), (429, True), (400, False), (410, False)]
)
def test_a_gateway_error_is_a_typed_delivery_failure(status: int, retriable: bool):
    with gateway() as server:
        server.statuses = [status]
        with pytest.raises(DeliveryFailed) as failed:
            WebhookChannel(server.url, secret=SECRET).deliver(message())
    assert failed.value.retriable is retriable
    assert str(status) in failed.value.message


def test_a_gateway_that_is_down_is_a_retriable_delivery_failure():
    with gateway() as server:
        url = server.url
    with pytest.raises(DeliveryFailed) as failed:
        WebhookChannel(url, secret=SECRET, timeout=2).deliver(message())
    assert failed.value.retriable is True


def test_a_gateway_that_never_answers_fails_within_the_timeout():
    with silent_server() as port:
        channel = WebhookChannel(f"http://127.0.0.1:{port}/", secret=SECRET, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed):
            channel.deliver(message())
    assert time.monotonic() - started < 5


def test_the_channel_keeps_delivering_when_the_gateway_closes_each_connection():
    with gateway() as server:
        server.close_connections = True
        channel = WebhookChannel(server.url, secret=SECRET, timeout=2)
        sent = [message() for _ in range(3)]
        for each in sent:
            channel.deliver(each)
    assert server.received.ids() == [str(m.message_id) for m in sent]


@pytest.mark.parametrize(
    ("url", "secret", "field"),
    [
        ("ftp://127.0.0.1/", SECRET, "url"),
        ("not a url", SECRET, "url"),
        ("http://127.0.0.1/", "plain-text-secret", "secret"),
        ("http://127.0.0.1/", "whsec_%%%notbase64", "secret"),
        ("http://127.0.0.1/", "whsec_c2hvcnQ=", "secret"),
    ],
)
def test_a_webhook_with_a_malformed_url_or_secret_is_refused(url: str, secret: str, field: str):
    with pytest.raises(InvalidInput) as refused:
        WebhookChannel(url, secret=secret)
    assert refused.value.fields == [field]
