"""After any sequence of commands, incrementally fed views equal a from-scratch rebuild.

The audit log is append-only and never rebuilt: it must instead verify against the store.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_engine import Actor, DisputeEngine, ProposeDecision, Role
from dispute_engine.errors import DisputeEngineError
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, sealed_settings

ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})

COMMANDS: dict[str, Any] = {
    "assign": lambda e, i: e.assign(i, investigator="alice", by=ALICE),
    "request": lambda e, i: e.request_evidence(i, what="proof", by=ALICE),
    "note": lambda e, i: e.add_note(i, "note", by=ALICE),
    "notify": lambda e, i: e.notify_claimant(i, by=ALICE),
    "refund": lambda e, i: e.propose_decision(
        i, ProposeDecision(outcome="refund", rationale="r", overrides=UNCHECKED), by=ALICE
    ),
    "reject": lambda e, i: e.propose_decision(
        i, ProposeDecision(outcome="reject", rationale="r", overrides=["checklist"]), by=ALICE
    ),
    "approve": lambda e, i: e.approve_decision(i, by=BOB),
    "execute": lambda e, i: e.execute_decision(i, by=BOB),
    "close": lambda e, i: e.close(i, by=ALICE),
    "reopen": lambda e, i: e.reopen(i, reason="appeal", by=ALICE),
    "withdraw": lambda e, i: e.withdraw(i, by=ALICE),
    "check": lambda e, i: e.record_sla_breaches(),
    "catch_up": lambda e, i: e.projections.catch_up(),
}
steps = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(sorted(COMMANDS)), st.integers(0, 600)),
    max_size=40,
)


def snapshot(engine: DisputeEngine, names: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    tables = [t for name in names for t in engine.projections.views[name].tables]
    return {
        t: sorted(
            tuple(r) for r in engine._core.db.fetchall(f"SELECT * FROM {engine._core.db.table(t)}")
        )
        for t in tables
    }


@settings(max_examples=40, deadline=None)
@given(
    steps=steps,
    priorities=st.lists(st.sampled_from(["low", "normal", "urgent"]), min_size=3, max_size=3),
)
def test_incremental_views_equal_a_rebuild(
    steps: list[tuple[int, str, int]], priorities: list[str]
):
    clock = FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    engine = DisputeEngine.open("memory:", clock=clock, settings=sealed_settings())
    engine.projections.batch_size = 7  # many small batches, across dispute boundaries
    try:
        ids = [file_dispute(engine, ALICE, priority=p) for p in priorities]
        for which, command, minutes in steps:
            clock.advance(timedelta(minutes=minutes))
            with suppress(DisputeEngineError):  # refused commands record nothing
                COMMANDS[command](engine, ids[which])
        engine.projections.catch_up()
        rebuilt = [
            n for n, v in engine.projections.views.items() if not getattr(v, "append_only", False)
        ]
        incremental = snapshot(engine, rebuilt)
        for name in rebuilt:
            engine.projections.rebuild(name)
        assert snapshot(engine, rebuilt) == incremental
        audit = engine.audit.verify()
        assert audit.ok, audit.problems
        assert audit.appended == 0  # the batches had logged every event already
        assert len(incremental["work_queue"]) == len(ids)
    finally:
        engine.shutdown()
