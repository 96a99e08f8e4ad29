"""Work routing: each member is offered the most urgent disputes in the languages they serve."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.commands import ProposeDecision
from dispute_engine.views import DisputeView
from projections.work_routing import next_disputes
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute

INVESTIGATOR = frozenset({Role.INVESTIGATOR})


def routed(engine: DisputeEngine, staff_id: str, roles: frozenset[Role], *languages: str):
    engine.projections.catch_up()
    return [
        UUID(i)
        for i in next_disputes(
            engine._core.db, staff_id=staff_id, roles=roles, languages=languages, limit=10
        )
    ]


def soonest_due(view: DisputeView) -> datetime:
    due = [c.due_at for c in view.sla_clocks if c.state in ("running", "breached") and c.due_at]
    return min(due)


def test_the_queue_offers_only_the_languages_a_member_serves(engine: DisputeEngine, alice: Actor):
    zh = file_dispute(engine, alice, language="zh")
    zh_hant = file_dispute(engine, alice, language="zh-Hant")
    es = file_dispute(engine, alice, language="es")
    en = file_dispute(engine, alice, language="en")
    assert set(routed(engine, "wei", INVESTIGATOR, "zh")) == {zh, zh_hant}
    assert routed(engine, "lin", INVESTIGATOR, "zh-Hant") == [zh_hant]
    assert set(routed(engine, "ana", INVESTIGATOR, "es", "en")) == {es, en}
    assert routed(engine, "nobody", INVESTIGATOR) == []


def test_the_queue_is_ordered_by_sla_due_time_then_priority(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    filed = [
        file_dispute(engine, alice, language="en", priority=priority)
        for priority in ("low", "urgent", "normal", "high", "normal")
    ]
    views = [engine.get(i) for i in filed]
    expected = sorted(
        views,
        key=lambda v: (soonest_due(v), ("urgent", "high", "normal", "low").index(v.claim.priority)),
    )
    assert routed(engine, "alice", INVESTIGATOR, "en") == [v.id for v in expected]
    assert expected[0].claim.priority == "urgent"


def test_investigators_see_their_own_and_unassigned_disputes_only(
    engine: DisputeEngine, alice: Actor
):
    mine = file_dispute(engine, alice, language="en")
    theirs = file_dispute(engine, alice, language="en")
    nobodys = file_dispute(engine, alice, language="en")
    engine.assign(mine, investigator="ALICE", by=alice)
    engine.assign(theirs, investigator="carol", by=alice)
    assert set(routed(engine, "alice", INVESTIGATOR, "en")) == {mine, nobodys}


def test_approvers_see_decisions_waiting_for_them(engine: DisputeEngine, alice: Actor, bob: Actor):
    waiting = file_dispute(engine, alice, language="zh")
    untouched = file_dispute(engine, alice, language="zh")
    engine.assign(waiting, investigator="alice", by=alice)
    engine.propose_decision(
        waiting,
        ProposeDecision(outcome="refund", rationale="reverted", overrides=list(UNCHECKED)),
        by=alice,
    )
    assert routed(engine, "bob", frozenset({Role.APPROVER}), "zh") == [waiting]
    assert routed(engine, "alice", INVESTIGATOR, "zh") == [untouched]
    both = frozenset({Role.INVESTIGATOR, Role.APPROVER})
    assert set(routed(engine, "dana", both, "zh")) == {waiting, untouched}


def test_the_queue_is_cut_at_the_limit(engine: DisputeEngine, alice: Actor):
    for _ in range(3):
        file_dispute(engine, alice, language="en")
    engine.projections.catch_up()
    for limit, expected in ((2, 2), (0, 0)):
        found = next_disputes(
            engine._core.db, staff_id="alice", roles=INVESTIGATOR, languages=["en"], limit=limit
        )
        assert len(found) == expected
    auditor = next_disputes(
        engine._core.db, staff_id="audrey", roles={Role.AUDITOR}, languages=["en"], limit=10
    )
    assert auditor == []
