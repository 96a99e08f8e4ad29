"""The money rules through the engine and its payout ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, ProposeDecision, Role, Settings
from dispute_engine.cli import app
from dispute_engine.errors import InvalidInput, NotAuthorized, PayoutRefused
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.ports import PayoutInstruction
from dispute_engine.settings import PayoutLimit
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, USDT, file_dispute, stored_rows
from tests.integration.test_concurrency import run_together

FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
REFUND = ProposeDecision(outcome="refund", rationale="never arrived", overrides=UNCHECKED)


def proposed(engine: DisputeEngine, alice: Actor) -> UUID:
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(dispute_id, REFUND, by=alice)
    return dispute_id


def ledger(engine: DisputeEngine) -> PayoutLedger:
    assert isinstance(engine._core.payout_gateway, PayoutLedger)
    return engine._core.payout_gateway


def test_a_claim_in_other_decimals_than_the_registry_knows_is_refused(
    engine: DisputeEngine, alice: Actor
):
    before = stored_rows(engine)
    with pytest.raises(InvalidInput) as raised:
        file_dispute(engine, alice, transaction={"decimals": 18, "amount": "1"})
    assert raised.value.fields == ["transaction.decimals"]
    assert stored_rows(engine) == before


def test_a_proposal_without_a_lookup_or_its_override_writes_nothing(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    before = stored_rows(engine)
    with pytest.raises(InvalidInput) as raised:
        engine.propose_decision(
            dispute_id, ProposeDecision(outcome="refund", rationale="r"), by=alice
        )
    assert raised.value.fields == ["overrides"]
    assert stored_rows(engine) == before


def test_overrides_show_in_the_view_and_the_history(engine: DisputeEngine, alice: Actor):
    dispute_id = proposed(engine, alice)
    decision = engine.get(dispute_id).decision
    assert decision is not None
    assert decision.overrides == ["amount", "checklist", "no_lookup"]
    (entry,) = [e for e in engine.history(dispute_id) if e.name == "DecisionProposed"]
    assert entry.data["overrides"] == ["amount", "checklist", "no_lookup"]


def test_a_decision_stored_before_overrides_existed_still_loads(
    db_url: str, clock: FakeClock, alice: Actor
):
    engine = DisputeEngine.open(db_url, clock=clock)
    try:
        dispute_id = proposed(engine, alice)
        db = engine._core.db
        rows = db.fetchall(
            f"SELECT originator_version, topic, state FROM {engine._core.events_table} "
            "WHERE originator_id = ?",
            (db.originator_key(dispute_id),),
        )
        (row,) = [r for r in rows if r["topic"].endswith("DecisionProposed")]
        state = json.loads(bytes(row["state"]))
        del state["overrides"]  # as release 0.1 stored it: version 1, no overrides
        del state["approvals_required"]
        assert state.pop("class_version") == 3
        with db.transaction() as cursor:
            db.execute(
                cursor,
                f"UPDATE {engine._core.events_table} SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (
                    json.dumps(state).encode(),
                    db.originator_key(dispute_id),
                    row["originator_version"],
                ),
            )
    finally:
        engine.shutdown()
    reopened = DisputeEngine.open(db_url, clock=clock)
    try:
        decision = reopened.get(dispute_id).decision
        assert decision is not None
        assert decision.overrides == []
    finally:
        reopened.shutdown()


@pytest.mark.parametrize("spelling", ["ALICE", FULLWIDTH_ALICE, " Alice"])
def test_the_proposer_cannot_approve_under_another_spelling(
    engine: DisputeEngine, alice: Actor, spelling: str
):
    dispute_id = proposed(engine, alice)
    before = stored_rows(engine)
    with pytest.raises(NotAuthorized):
        engine.approve_decision(dispute_id, by=Actor(id=spelling, roles={Role.APPROVER}))
    assert stored_rows(engine) == before
    assert engine.get(dispute_id).status == "pending_approval"


@pytest.mark.parametrize("by", [None, {"id": "bob", "roles": ["approver"]}])
def test_an_approver_that_is_not_an_actor_is_invalid_input(
    engine: DisputeEngine, alice: Actor, by: Any
):
    dispute_id = proposed(engine, alice)
    before = stored_rows(engine)
    with pytest.raises(InvalidInput) as raised:
        engine.approve_decision(dispute_id, by=by)
    assert raised.value.fields == ["by"]
    assert stored_rows(engine) == before


def test_the_ledger_refuses_a_payout_over_the_limit_and_the_dispute_stays_approved(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    limits = {"usdt": PayoutLimit(per_payout=Decimal(100), per_day=Decimal(200))}
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(payout_limits=limits))
    try:
        dispute_id = proposed(engine, alice)  # 125.50 USDT
        engine.approve_decision(dispute_id, by=bob)
        with pytest.raises(PayoutRefused, match="100 per payout"):
            engine.execute_decision(dispute_id, by=bob)
        assert ledger(engine).instructions() == []
        assert engine.get(dispute_id).status == "approved"
    finally:
        engine.shutdown()


def test_the_ledger_counts_a_retried_payout_once_against_the_day(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    limits = {"USDT": PayoutLimit(per_payout=Decimal(200), per_day=Decimal(200))}
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(payout_limits=limits))
    try:
        first = proposed(engine, alice)
        engine.approve_decision(first, by=bob)
        view = engine.get(first)
        instruction = PayoutInstruction(
            key=f"{first}:1",
            dispute_id=first,
            decision_number=1,
            outcome="refund",
            claimant_id=view.claim.claimant_id,
            chain_id=1,
            asset="USDT",
            token_address=USDT,
            decimals=6,
            units=125_500_000,
            to_address=view.claim.transaction.sender,
        )
        assert engine._core.payout_gateway.pay(instruction).created  # paid, then the process died
        assert engine.execute_decision(first, by=bob) == f"ledger:{first}:1"  # not counted twice
        second = proposed(engine, alice)
        engine.approve_decision(second, by=bob)
        with pytest.raises(PayoutRefused, match="per day"):
            engine.execute_decision(second, by=bob)
        assert len(ledger(engine).instructions()) == 1
    finally:
        engine.shutdown()


def test_the_ledger_refuses_decimals_the_registry_contradicts(engine: DisputeEngine, alice: Actor):
    dispute_id = proposed(engine, alice)
    with pytest.raises(PayoutRefused, match="6 decimals") as refused:
        engine._core.payout_gateway.pay(
            PayoutInstruction(
                key=f"{dispute_id}:1",
                dispute_id=dispute_id,
                decision_number=1,
                outcome="refund",
                claimant_id="user-1842",
                chain_id=1,
                asset="USDT",
                token_address=USDT,
                decimals=18,
                units=10**18,
                to_address=USDT,
            )
        )
    assert refused.value.reason == "decimals"
    assert ledger(engine).instructions() == []


def test_an_assignee_is_one_person_however_it_is_spelt(engine: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator=FULLWIDTH_ALICE, by=alice)
    assert engine.get(dispute_id).assignee == "alice"
    assert [v.id for v in engine.list_disputes(assignee="ALICE")] == [dispute_id]


def test_racing_payouts_never_exceed_the_days_limit(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    limits = {"USDT": PayoutLimit(per_payout=Decimal(200), per_day=Decimal(300))}
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(payout_limits=limits))
    try:
        disputes = [proposed(engine, alice) for _ in range(4)]  # 125.50 USDT each
        for dispute_id in disputes:
            engine.approve_decision(dispute_id, by=bob)

        def execute(n: int) -> None:
            engine.execute_decision(disputes[n], by=bob)

        errors = run_together(4, execute)
        assert len(errors) == 2
        assert all(isinstance(e, PayoutRefused) and e.reason == "per_day" for e in errors)
        assert len(ledger(engine).instructions()) == 2
        statuses = sorted(engine.get(i).status for i in disputes)
        assert statuses == ["approved", "approved", "resolved", "resolved"]
    finally:
        engine.shutdown()


def test_the_cli_takes_overrides_and_refuses_unknown_ones(db_url: str, alice: Actor):
    engine = DisputeEngine.open(db_url)
    try:
        dispute_id = str(file_dispute(engine, alice))
    finally:
        engine.shutdown()
    runner = CliRunner()
    base = ["--db", db_url, "--actor", "alice", "--outcome", "refund", "--rationale", "x"]
    result = runner.invoke(
        app, ["assign", dispute_id, "--investigator", "alice", "--db", db_url, "--actor", "alice"]
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["propose", dispute_id, *base])
    assert result.exit_code == 2
    assert "no chain lookup" in result.stderr
    assert "no_lookup" in result.stderr
    result = runner.invoke(app, ["propose", dispute_id, *base, "--override", "sender"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    overrides = ["--override", "no_lookup", "--override", "amount"]
    result = runner.invoke(app, ["propose", dispute_id, *base, *overrides])
    assert result.exit_code == 2
    assert "open checklist items" in result.stderr
    result = runner.invoke(
        app, ["propose", dispute_id, *base, *overrides, "--override", "checklist"]
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["show", dispute_id, "--db", db_url, "--json"])
    overridden = json.loads(result.stdout)["decision"]["overrides"]
    assert overridden == ["amount", "checklist", "no_lookup"]
