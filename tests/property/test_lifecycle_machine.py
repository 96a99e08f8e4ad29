"""Random command sequences against a simple model of a dispute's life.

After every step: refused commands wrote nothing, the status is the model's, money was never
created, and replaying the events gives the live state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chain.client import ETH_TESTER_URL
from chain.sandbox import Sandbox
from dispute_engine import Actor, AddEvidence, DisputeEngine, ProposeDecision, Role
from dispute_engine.errors import DisputeEngineError
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, stored_rows

ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
CAROL = Actor(id="carol", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
ALICE_APPROVER = Actor(id="alice", roles={Role.APPROVER})
AUDITOR = Actor(id="audrey", roles={Role.AUDITOR})
ACTORS = st.sampled_from([ALICE, CAROL, BOB, ALICE_APPROVER, AUDITOR])
DISPUTED = Decimal("125.5")

# The model: (command, status before) -> status after, for commands an investigator may run.
WORK = {"filed", "investigating", "awaiting_claimant"}
MODEL: dict[str, dict[str, str]] = {
    "assign": {
        "filed": "investigating",
        "investigating": "investigating",
        "awaiting_claimant": "awaiting_claimant",
        "pending_approval": "pending_approval",
        "approved": "approved",
    },
    "request_evidence": dict.fromkeys(WORK, "awaiting_claimant"),
    "claimant_evidence": {
        "filed": "filed",
        "investigating": "investigating",
        "awaiting_claimant": "investigating",
    },
    "note": {
        s: s for s in (*WORK, "pending_approval", "approved", "resolved", "closed", "withdrawn")
    },
    "propose_money": {"investigating": "pending_approval"},
    "propose_reject": {"investigating": "resolved"},
    "approve": {"pending_approval": "approved"},
    "send_back": {"pending_approval": "investigating"},
    "execute": {"approved": "resolved"},
    "close": {"resolved": "closed"},
    "reopen": {"resolved": "investigating", "closed": "investigating"},
    "withdraw": dict.fromkeys((*WORK, "pending_approval"), "withdrawn"),
}


class DisputeLives(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
        self.engine = DisputeEngine.open("memory:", clock=self.clock)
        self.dispute_id: UUID = file_dispute(self.engine, ALICE)
        self.status = "filed"
        self.proposer: str | None = None

    def teardown(self) -> None:
        self.engine.shutdown()

    def attempt(self, command: str, actor: Actor, run: object, recorded: int = 1) -> None:
        """Run a command; check it either did what the model says, recording as many events,
        or wrote nothing."""
        before_rows = stored_rows(self.engine)
        before = self.engine.get(self.dispute_id)
        try:
            assert callable(run)
            run()
        except DisputeEngineError:
            assert stored_rows(self.engine) == before_rows
            assert self.engine.get(self.dispute_id) == before
            return
        expected = MODEL[command][self.status]
        event(f"{command} -> {expected}")
        self.status = expected
        assert self.engine.get(self.dispute_id).version == before.version + recorded

    def may(self, command: str, actor: Actor, role: Role) -> bool:
        return role in actor.roles and self.status in MODEL[command]

    @rule(actor=ACTORS)
    def assign(self, actor: Actor) -> None:
        self.attempt(
            "assign",
            actor,
            lambda: self.engine.assign(self.dispute_id, investigator=actor.id, by=actor),
        )

    @rule(actor=ACTORS)
    def request_evidence(self, actor: Actor) -> None:
        self.attempt(
            "request_evidence",
            actor,
            lambda: self.engine.request_evidence(self.dispute_id, what="proof", by=actor),
        )

    @rule(actor=ACTORS, content=st.binary(min_size=0, max_size=8))
    def claimant_answers(self, actor: Actor, content: bytes) -> None:
        self.attempt(
            "claimant_evidence",
            actor,
            lambda: self.engine.add_evidence(
                self.dispute_id,
                AddEvidence(
                    kind="screenshot",
                    media_type="image/png",
                    filename="a.png",
                    content=content,
                    source="claimant",
                ),
                by=actor,
            ),
        )

    @rule(actor=ACTORS, text=st.sampled_from(["called", "", "x" * 5000]))
    def note(self, actor: Actor, text: str) -> None:
        self.attempt("note", actor, lambda: self.engine.add_note(self.dispute_id, text, by=actor))

    @rule(
        actor=ACTORS,
        outcome=st.sampled_from(["refund", "partial_refund", "adjustment"]),
        amount=st.one_of(
            st.none(),
            st.sampled_from([Decimal(20), Decimal("50.25"), Decimal("125.5"), Decimal(126)]),
            st.decimals(min_value=Decimal(-1), max_value=Decimal(200), places=7, allow_nan=False),
        ),
    )
    def propose_money(self, actor: Actor, outcome: str, amount: Decimal | None) -> None:
        def run() -> None:
            self.engine.propose_decision(
                self.dispute_id,
                ProposeDecision(
                    outcome=outcome,  # type: ignore[arg-type]
                    amount=amount,
                    rationale="because",
                    overrides=UNCHECKED,
                ),
                by=actor,
            )
            self.proposer = actor.id

        self.attempt("propose_money", actor, run)

    @rule(actor=ACTORS)
    def propose_reject(self, actor: Actor) -> None:
        self.attempt(
            "propose_reject",
            actor,
            lambda: self.engine.propose_decision(
                self.dispute_id,
                ProposeDecision(outcome="reject", rationale="matches", overrides=["checklist"]),
                by=actor,
            ),
        )

    @rule(actor=ACTORS)
    def approve(self, actor: Actor) -> None:
        self.attempt(
            "approve", actor, lambda: self.engine.approve_decision(self.dispute_id, by=actor)
        )

    @rule(actor=ACTORS)
    def send_back(self, actor: Actor) -> None:
        self.attempt(
            "send_back",
            actor,
            lambda: self.engine.send_back(self.dispute_id, reason="again", by=actor),
        )

    @rule(actor=ACTORS)
    def execute(self, actor: Actor) -> None:
        self.attempt(
            "execute", actor, lambda: self.engine.execute_decision(self.dispute_id, by=actor)
        )

    @rule(actor=ACTORS)
    def close(self, actor: Actor) -> None:
        # Closing tells the claimant and asks for feedback: three events.
        self.attempt("close", actor, lambda: self.engine.close(self.dispute_id, by=actor), 3)

    @rule(actor=ACTORS, days=st.sampled_from([0, 10, 40]))
    def reopen(self, actor: Actor, days: int) -> None:
        self.clock.advance(timedelta(days=days))
        self.attempt(
            "reopen", actor, lambda: self.engine.reopen(self.dispute_id, reason="appeal", by=actor)
        )

    @precondition(lambda self: self.status != "withdrawn")
    @rule(actor=ACTORS, chance=st.integers(0, 9))
    def withdraw(self, actor: Actor, chance: int) -> None:
        if chance:  # withdrawal ends the story: keep it rare so the rest gets explored
            return
        self.attempt("withdraw", actor, lambda: self.engine.withdraw(self.dispute_id, by=actor))

    @rule(amount=st.sampled_from([None, Decimal(30)]))
    def progress(self, amount: Decimal | None) -> None:
        """Take the usual next step, so that long lives (appeals, repeated payouts) happen."""
        steps = {
            "filed": lambda: self.assign(ALICE),
            "investigating": lambda: self.propose_money(
                ALICE, "refund" if amount is None else "partial_refund", amount
            ),
            "awaiting_claimant": lambda: self.claimant_answers(ALICE, b"proof"),
            "pending_approval": lambda: self.approve(BOB),
            "approved": lambda: self.execute(BOB),
            "resolved": lambda: self.close(ALICE),
            "closed": lambda: self.reopen(ALICE, 0),
        }
        if self.status in steps:
            steps[self.status]()

    @invariant()
    def status_is_the_models(self) -> None:
        assert self.engine.get(self.dispute_id).status == self.status

    @invariant()
    def money_is_never_created(self) -> None:
        view = self.engine.get(self.dispute_id)
        assert view.paid_amount == sum((p.amount for p in view.payouts), Decimal(0))
        assert view.paid_amount <= DISPUTED
        ledger = self.engine._core.payout_gateway.instructions()  # type: ignore[attr-defined]
        assert len(ledger) == len(view.payouts)

    @invariant()
    def replay_gives_the_live_state(self) -> None:
        view = self.engine.get(self.dispute_id)
        assert self.engine.state_at(self.dispute_id, version=view.version) == view
        history = self.engine.history(self.dispute_id)
        assert [e.version for e in history] == list(range(1, view.version + 1))
        assert all(e.actor for e in history)


DisputeLives.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
test_dispute_lives = DisputeLives.TestCase


# -- several disputes on one transaction: linked filings, credits, reversals -------------------

INVESTIGATORS = st.sampled_from([ALICE, CAROL, Actor(id="erin", roles={Role.INVESTIGATOR})])
APPROVERS = st.sampled_from(
    [BOB, Actor(id="dave", roles={Role.APPROVER}), Actor(id="frank", roles={Role.APPROVER})]
)
SETTLEMENTS = ("ProvisionalCreditMadePermanent", "ProvisionalCreditReversed")


class LinkedClaimsLive(RuleBasedStateMachine):
    """Disputes on one real transaction of 1 ETH, worked, credited and appealed in any order.

    After every step: what was paid and credited across them never exceeds the 1 ETH the
    chain verified (in the views and in the ledger that holds the cap), and each credit is
    granted, or made permanent or reversed exactly once; none stays granted once decided.
    """

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime.now(UTC) + timedelta(minutes=1))
        self.engine = DisputeEngine.open(
            "memory:", clock=self.clock, chains={Sandbox.chain_id: ETH_TESTER_URL}
        )
        chain = Sandbox.of(self.engine)
        self.sender, self.recipient = chain.accounts[1], chain.accounts[2]
        self.transaction = {
            "chain_id": Sandbox.chain_id,
            "tx_hash": chain.send(self.sender, self.recipient, 10**18),
            "asset": "ETH",
            "token_address": None,
            "sender": self.sender,
            "recipient": self.recipient,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        self.ids: list[UUID] = []

    def teardown(self) -> None:
        self.engine.shutdown()

    def act(self, run: object) -> None:
        assert callable(run)
        try:
            run()
        except DisputeEngineError as refused:
            event(f"{type(refused).__name__}: {getattr(refused, 'reason', '')}")

    @precondition(lambda self: len(self.ids) < 4)
    @rule(amount=st.sampled_from(["1", "0.6", "0.25"]), by=INVESTIGATORS)
    def file_linked(self, amount: str, by: Actor) -> None:
        dispute_id = file_dispute(
            self.engine, by, transaction={**self.transaction, "amount": amount}
        )
        self.engine.assign(dispute_id, investigator=by.id, by=by)
        self.engine.look_up_transaction(dispute_id, by=by)
        assert set(self.engine.get(dispute_id).linked) == set(self.ids)
        self.ids.append(dispute_id)

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), by=APPROVERS)
    def grant_credit(self, data: st.DataObject, by: Actor) -> None:
        dispute_id = data.draw(st.sampled_from(self.ids))
        self.act(lambda: self.engine.grant_provisional_credit(dispute_id, by=by))

    @precondition(lambda self: self.ids)
    @rule(
        data=st.data(),
        by=INVESTIGATORS,
        outcome=st.sampled_from(["refund", "partial_refund", "reject"]),
        amount=st.sampled_from([Decimal("0.1"), Decimal("0.5")]),
    )
    def propose(self, data: st.DataObject, by: Actor, outcome: str, amount: Decimal) -> None:
        dispute_id = data.draw(st.sampled_from(self.ids))
        decision = (
            ProposeDecision(outcome="reject", rationale="r", overrides=["checklist"])
            if outcome == "reject"
            else ProposeDecision(
                outcome=outcome,  # type: ignore[arg-type]
                amount=None if outcome == "refund" else amount,
                rationale="r",
                overrides=UNCHECKED,
            )
        )
        self.act(lambda: self.engine.propose_decision(dispute_id, decision, by=by))

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), by=APPROVERS)
    def approve_and_execute(self, data: st.DataObject, by: Actor) -> None:
        dispute_id = data.draw(st.sampled_from(self.ids))
        self.act(lambda: self.engine.approve_decision(dispute_id, by=by))
        self.act(lambda: self.engine.execute_decision(dispute_id, by=by))

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), by=INVESTIGATORS)
    def appeal(self, data: st.DataObject, by: Actor) -> None:
        dispute_id = data.draw(st.sampled_from(self.ids))
        self.act(lambda: self.engine.reopen(dispute_id, reason="appeal", by=by))
        self.act(lambda: self.engine.assign(dispute_id, investigator=by.id, by=by))

    @rule(days=st.sampled_from([0, 15, 50]))
    def checker(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))
        for _, name in self.engine.record_credit_deadlines():
            event(name)

    @invariant()
    def money_on_the_transaction_never_exceeds_what_the_chain_verified(self) -> None:
        views = [self.engine.get(i) for i in self.ids]
        held = sum((v.paid_amount for v in views), Decimal(0)) + sum(
            (c.amount for v in views for c in v.provisional_credits if c.state == "granted"),
            Decimal(0),
        )
        assert held <= Decimal(1)
        tx = self.transaction
        committed = self.engine.casework.commitments.committed(
            int(tx["chain_id"]), str(tx["tx_hash"])
        )
        assert committed == held * 10**18

    @invariant()
    def every_credit_is_settled_at_most_once_and_never_left_granted_by_a_decision(self) -> None:
        for dispute_id in self.ids:
            view = self.engine.get(dispute_id)
            history = self.engine.history(dispute_id)
            for number, credit in enumerate(view.provisional_credits, start=1):
                settled = [
                    e.name for e in history if e.name in SETTLEMENTS and e.data["number"] == number
                ]
                expected = {
                    "granted": [],
                    "permanent": ["ProvisionalCreditMadePermanent"],
                    "reversed": ["ProvisionalCreditReversed"],
                }[credit.state]
                assert settled == expected
                if view.status in ("resolved", "closed"):
                    assert credit.state != "granted"


LinkedClaimsLive.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None
)
test_linked_claims_live = LinkedClaimsLive.TestCase
