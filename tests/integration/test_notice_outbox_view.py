"""The outbox projection and `notices send` / `notices list`: each recorded notice sent once."""

from __future__ import annotations

import json
from uuid import UUID

from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, ProposeDecision
from dispute_engine.cli import app
from dispute_engine.delivery import Outbox, WebhookChannel, message_id
from tests.delivery_servers import SECRET, gateway
from tests.factories import file_dispute

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def webhooks(url: str) -> dict[str, str]:
    return {"DISPUTE_ENGINE_NOTICE_WEBHOOKS": json.dumps({"chat": {"url": url, "secret": SECRET}})}


def notified(engine: DisputeEngine, alice: Actor, times: int = 2) -> UUID:
    dispute = file_dispute(engine, alice)
    engine.assign(dispute, investigator="alice", by=alice)
    for _ in range(times):
        engine.notify_claimant(dispute, by=alice)
    return dispute


def test_each_recorded_notice_becomes_one_outbox_row_however_often_it_is_read(
    engine: DisputeEngine, alice: Actor
):
    dispute = notified(engine, alice)
    assert engine.projections.catch_up(["outbox"]) == {"outbox": 4}
    assert engine.projections.catch_up(["outbox"]) == {"outbox": 0}
    outbox = Outbox(engine._core.db)
    assert outbox.counts()["pending"] == 2
    rows = outbox.entries()
    assert [e.message.message_id for e in rows] == [message_id(dispute, v) for v in (3, 4)]
    assert {e.message.recipient for e in rows} == {"user-1842"}
    assert {e.message.channel for e in rows} == {"chat"}


def test_rebuilding_the_outbox_view_never_sends_a_notice_again(engine: DisputeEngine, alice: Actor):
    notified(engine, alice)
    engine.projections.catch_up(["outbox"])
    with gateway() as server:
        sent = Outbox(engine._core.db, {"chat": WebhookChannel(server.url, secret=SECRET)})
        assert sent.send_due(engine.now()).sent == 2
        assert engine.projections.rebuild("outbox") == 4
        again = sent.send_due(engine.now())
    assert again.sent == 0
    assert Outbox(engine._core.db).counts() == {"pending": 0, "sent": 2, "failed": 0, "dead": 0}
    assert len(server.received.requests) == 2


def test_notices_send_delivers_each_notice_once_and_list_shows_it_sent(
    engine: DisputeEngine, alice: Actor, db_url: str
):
    dispute = notified(engine, alice)
    with gateway() as server:
        code, out, err = invoke("notices", "send", "--db", db_url, env=webhooks(server.url))
        assert code == 0, err
        assert "2 sent, 0 failed (to retry), 0 dead" in out
        code, out, err = invoke("notices", "send", "--db", db_url, env=webhooks(server.url))
        assert "0 sent" in out
    assert server.received.ids() == [str(message_id(dispute, v)) for v in (3, 4)]
    code, out, _ = invoke("notices", "list", "--db", db_url, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(m["state"], m["attempts"], m["template"]) for m in listed] == [
        ("sent", 1, "acknowledgement"),
        ("sent", 1, "acknowledgement"),
    ]
    code, out, _ = invoke("notices", "list", "--failed", "--db", db_url, "--json")
    assert json.loads(out) == []


def test_a_refusing_gateway_leaves_the_notice_failed_and_listed_with_its_error(
    engine: DisputeEngine, alice: Actor, db_url: str
):
    notified(engine, alice, times=1)
    with gateway() as server:
        server.statuses = [503]
        code, out, err = invoke("notices", "send", "--db", db_url, env=webhooks(server.url))
    assert code == 0, err
    assert "0 sent, 1 failed (to retry)" in out
    code, out, _ = invoke("notices", "list", "--failed", "--db", db_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "dispute", "version", "channel", "template", "state", "attempts", "at", "error"
    ]  # fmt: skip
    assert " failed " in lines[2]
    assert "503" in lines[2]


def test_notices_send_without_a_configured_channel_is_invalid_input_and_sends_nothing(
    engine: DisputeEngine, alice: Actor, db_url: str
):
    notified(engine, alice, times=1)
    code, out, err = invoke("notices", "send", "--db", db_url)
    assert code == 2
    assert out == ""
    assert err.startswith("error: invalid ")
    assert "DISPUTE_ENGINE_NOTICE_WEBHOOKS" in err
    assert len(err.strip().splitlines()) == 1


def test_nonsense_in_the_notice_flags_is_invalid_input(db_url: str):
    for args in (
        ("notices", "send", "--every", "0"),
        ("notices", "send", "--every", "nan"),
        ("notices", "send", "--every", "-3"),
        ("notices", "list", "--limit", "0"),
        ("notices", "list", "--limit", "many"),
        ("notices", "list", "--failed=yes"),
    ):
        code, out, err = invoke(*args, "--db", db_url, env=webhooks("http://127.0.0.1:9/x"))
        assert code == 2, (args, err)
        assert out == ""
        assert len(err.strip().splitlines()) == 1, err


def test_closing_puts_the_closed_notice_and_the_satisfaction_request_into_the_outbox_once(
    keyed: DisputeEngine, alice: Actor, bob: Actor
):
    asked, forgotten = (file_dispute(keyed, alice, claimant_id=c) for c in ("user-1", "user-2"))
    for dispute in (asked, forgotten):
        keyed.assign(dispute, investigator="alice", by=alice)
        keyed.propose_decision(
            dispute,
            ProposeDecision(outcome="reject", rationale="credited", overrides=["checklist"]),
            by=alice,
        )
    keyed.forget_claimant("user-2", by=bob)
    for dispute in (asked, forgotten):
        keyed.close(dispute, by=alice)
    keyed.projections.catch_up(["outbox"])
    keyed.projections.catch_up(["outbox"])
    rows = Outbox(keyed._core.db).entries()
    assert [(e.message.dispute_id, e.message.template) for e in rows] == [
        (asked, "closed"),
        (asked, "satisfaction_request"),
    ]
    assert all(e.message.subject for e in rows)
