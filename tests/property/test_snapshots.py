"""A dispute restored from a snapshot is the dispute replayed from its events."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_engine import Actor, FileDispute, Outcome, Role
from dispute_engine.domain.chain_facts import ChainFacts
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import DisputeEngineError
from dispute_engine.notices.catalog import render
from tests.factories import filing

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
CHECKER = Actor(id="sla-checker", roles={Role.SYSTEM})
WINDOW = timedelta(days=30)
FACTS = ChainFacts.model_validate(
    {
        "chain_id": 1,
        "tx_hash": "0x" + "ab" * 32,
        "status": "success",
        "block_number": 7,
        "block_time": "2026-11-20T08:15:00Z",
        "confirmations": 3,
        "finalized": False,
        "native_asset": "ETH",
        "native_decimals": 18,
        "observed_at": "2026-11-21T09:30:00Z",
    }
)

Command = Callable[[Dispute, datetime], object]
COMMANDS: dict[str, Command] = {
    "assign": lambda d, now: d.assign("alice", by=ALICE, now=now),
    "verify": lambda d, now: d.verify_identity("document", by=ALICE, now=now),
    "request": lambda d, now: d.request_evidence("a screenshot", by=ALICE, now=now),
    "answer": lambda d, now: d.add_evidence(
        sha256="0" * 64,
        size=1,
        media_type="image/png",
        filename="a.png",
        kind="screenshot",
        source="claimant",
        by=ALICE,
        now=now,
    ),
    "note": lambda d, now: d.add_note("called the exchange", by=ALICE, now=now),
    "lookup": lambda d, now: d.record_chain_facts(
        FACTS, by=ALICE, now=now, time_tolerance=timedelta(hours=1)
    ),
    "refund": lambda d, now: d.propose_decision(
        Outcome.PARTIAL_REFUND,
        Decimal("10"),
        "partly",
        by=ALICE,
        now=now,
        overrides=("no_lookup", "amount", "asset", "recipient", "status", "checklist"),
    ),
    "reject": lambda d, now: d.propose_decision(
        Outcome.REJECT, None, "no", by=ALICE, now=now, overrides=("checklist",)
    ),
    "approve": lambda d, now: d.approve_decision(by=BOB, now=now),
    "send_back": lambda d, now: d.send_back("look again", by=BOB, now=now),
    "execute": lambda d, now: d.record_execution("ref-1", by=BOB, now=now),
    "notify": lambda d, now: d.notify_claimant(
        by=ALICE, now=now, appeal_window=WINDOW, render=render
    ),
    "alerts": lambda d, now: d.record_due_sla_alerts(by=CHECKER, now=now),
    "close": lambda d, now: d.close(by=ALICE, now=now, appeal_window=WINDOW, render=render),
    "reopen": lambda d, now: d.reopen("appeal", by=ALICE, now=now, appeal_window=WINDOW),
    "withdraw": lambda d, now: d.withdraw("changed their mind", by=ALICE, now=now),
    "contact": lambda d, now: d.record_contact_attempt(
        "recipient", "email", "asked", by=ALICE, now=now
    ),
    "escalate": lambda d, now: d.escalate("urgent", by=ALICE, now=now),
    "link": lambda d, now: d.link_claim(UUID(int=7), by=ALICE, now=now),
    "credit": lambda d, now: d.record_provisional_credit(
        d.refundable.units, "ref-credit", by=BOB, now=now
    ),
    "credit_deadlines": lambda d, now: d.record_due_credit_events(by=CHECKER, now=now),
}


def transcoder() -> JSONTranscoder:
    """The library's transcoder with the engine's transcodings: what a store writes."""
    coder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        coder.register(transcoding)
    return coder


def replay(events: list[Any], start: Dispute | None = None) -> Dispute:
    dispute = start
    for e in events:
        dispute = e.mutate(dispute)
    assert dispute is not None
    return dispute


def state(dispute: Dispute) -> dict[str, Any]:
    """Everything a dispute holds, its clocks brought up to date (pending moves applied)."""
    dispute.sla  # noqa: B018 - apply the pending clock moves on both sides alike
    skip = {"_pending_events", "_claim"}
    return {k: v for k, v in vars(dispute).items() if k not in skip}


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(COMMANDS)), st.integers(1, 60 * 24 * 20)), max_size=30
    ),
    data=st.data(),
)
def test_replay_from_events_and_from_a_snapshot_give_the_same_dispute(
    steps: list[tuple[str, int]], data: st.DataObject
):
    command = FileDispute.model_validate(filing(idempotency_key="snapshot-property"))
    dispute = Dispute.file(command.claim, idempotency_key="snapshot-property", by=ALICE, now=T0)
    now = T0
    for name, minutes in steps:
        now += timedelta(minutes=minutes)
        with suppress(DisputeEngineError):  # refused commands record nothing
            COMMANDS[name](dispute, now)
    events = dispute.collect_events()
    cut = data.draw(st.integers(1, len(events)), label="snapshot at version")
    snapshot = Dispute.Snapshot.take(replay(events[:cut]))
    coder = transcoder()
    stored = replace(snapshot, state=coder.decode(coder.encode(snapshot.state)))
    restored = replay(events[cut:], stored.mutate(None))
    replayed = replay(events)
    assert restored.version == replayed.version == len(events)
    assert state(restored) == state(replayed)
    assert type(restored.status) is type(replayed.status)


def test_a_snapshot_written_by_release_0_1_is_read_as_version_2():
    command = FileDispute.model_validate(filing(idempotency_key="snapshot-v1"))
    dispute = Dispute.file(command.claim, idempotency_key="snapshot-v1", by=ALICE, now=T0)
    for name in ("assign", "note", "notify", "note"):
        COMMANDS[name](dispute, T0 + timedelta(hours=1))
    events = dispute.collect_events()
    mapper: Mapper[UUID] = Mapper(transcoder=transcoder())
    stored = mapper.to_stored_event(Dispute.Snapshot.take(replay(events)))
    event_state = mapper.transcoder.decode(stored.state)
    assert event_state.pop("class_version") == 2
    kept = event_state["state"]  # as release 0.1 kept it: positional lists, pending moves
    kept["notes"] = [[n["author"], n["text"], n["added_at"]] for n in kept["notes"]]
    kept["notices"] = [
        [n["template"], n["language"], n["text"], n["sent_at"]] for n in kept["notices"]
    ]
    kept["_sla_pending"] = []
    encoded = mapper.transcoder.encode(event_state)
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, encoded)
    restored = mapper.to_domain_event(v1).mutate(None)
    assert [n.text for n in restored.notes] == ["called the exchange"] * 2
    assert restored.notices[0].language == dispute.notices[0].language
    assert state(restored) == state(replay(events))
