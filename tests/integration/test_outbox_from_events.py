"""Recorded ClaimantNotified events, as the engine stores them, become outbox messages."""

from __future__ import annotations

import json

from dispute_engine import Actor, DisputeEngine
from dispute_engine.delivery import Outbox, WebhookChannel, message_id
from dispute_engine.delivery.storage import open_database
from tests.delivery_servers import SECRET, gateway
from tests.factories import file_dispute


def test_each_recorded_notice_of_a_dispute_reaches_the_gateway_once(
    engine: DisputeEngine, db_url: str, alice: Actor
):
    dispute = file_dispute(engine, alice)
    engine.assign(dispute, investigator="alice", by=alice)
    texts = [engine.notify_claimant(dispute, by=alice) for _ in range(2)]
    notices = [e for e in engine.history(dispute) if e.name == "ClaimantNotified"]
    db, factory = open_database(db_url)
    with gateway() as server:
        outbox = Outbox(db, {"chat": WebhookChannel(server.url, secret=SECRET)})
        outbox.create()
        for _ in range(2):  # a replayed projection records the same events again
            with db.transaction() as cursor:
                for entry in notices:
                    outbox.record_notice(
                        cursor,
                        dispute_id=dispute,
                        position=entry.version,
                        data={**entry.data, "timestamp": entry.at},
                        recipient="user-1842",
                    )
        report = outbox.send_due(engine.now())
    factory.close()
    assert report.sent == 2
    assert server.received.ids() == [str(message_id(dispute, e.version)) for e in notices]
    bodies = [json.loads(body)["data"] for _, body in server.received.requests]
    assert [b["body"] for b in bodies] == texts
    assert [b["language"] for b in bodies] == ["zh", "zh"]
    assert bodies[0]["subject"] == f"我们已收到您的争议 {str(dispute)[:8]}"  # the catalog's
