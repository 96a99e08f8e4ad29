"""The investigation rules hold for every input: credits end once, linked payouts stay capped,
overrides cover exactly what they name, and two approvals are two people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dispute_engine.domain.checklist import (
    ALL_OPEN_ITEMS,
    ItemStatus,
    RecordedFacts,
    checklist_for,
    open_items,
    require_covered,
    uncovered,
)
from dispute_engine.domain.errors import InvalidInput, InvalidTransition, NotAuthorized
from dispute_engine.domain.linked_claims import Commitment, require_within_verified, still_payable
from dispute_engine.domain.money import Money
from dispute_engine.domain.provisional_credit import (
    CreditState,
    ProvisionalCredit,
    due_for_automatic_permanence,
    require_grant_allowed,
    schedule,
    settlement,
)
from dispute_engine.domain.review import approve, fully_approved

FILED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PLAN = schedule("US", FILED)
SETTLED = (CreditState.PERMANENT, CreditState.REVERSED)


@dataclass(frozen=True)
class Piece:
    kind: str
    source: str


class CreditsEndOnce(RuleBasedStateMachine):
    """Grants, decisions, reversals and the final-deadline checker in any order, on a few
    disputes: a credit is settled (permanent or reversed) at most once and never changes after."""

    def __init__(self) -> None:
        super().__init__()
        self.credits: dict[int, list[ProvisionalCredit]] = {d: [] for d in range(3)}
        self.settlements: dict[tuple[int, int], int] = {}
        self.first_settled: dict[tuple[int, int], ProvisionalCredit] = {}
        self.now = FILED

    def _replace(self, dispute: int, index: int, credit: ProvisionalCredit) -> None:
        key = (dispute, index)
        self.settlements[key] = self.settlements.get(key, 0) + 1
        self.first_settled.setdefault(key, credit)
        self.credits[dispute][index] = credit

    @rule(dispute=st.integers(0, 2), units=st.integers(1, 10**6))
    def grant(self, dispute: int, units: int) -> None:
        try:
            require_grant_allowed(PLAN, tuple(self.credits[dispute]))
        except InvalidTransition:
            assert any(c.state is CreditState.GRANTED for c in self.credits[dispute])
            return
        self.credits[dispute].append(ProvisionalCredit(units, "alice", self.now))

    @rule(dispute=st.integers(0, 2), index=st.integers(0, 3), awarded=st.integers(0, 2 * 10**6))
    def decide(self, dispute: int, index: int, awarded: int) -> None:
        if index >= len(self.credits[dispute]):
            return
        credit = self.credits[dispute][index]
        outcome = settlement(credit, awarded)
        try:
            if outcome.permanent:
                ended = credit.make_permanent(by="bob", at=self.now)
            else:
                ended = credit.reverse(outcome.reversed_units, by="bob", at=self.now)
        except InvalidTransition:
            assert credit.state in SETTLED
            return
        assert credit.state is CreditState.GRANTED
        self._replace(dispute, index, ended)

    @rule(dispute=st.integers(0, 2), index=st.integers(0, 3), units=st.integers(1, 10**6))
    def reverse(self, dispute: int, index: int, units: int) -> None:
        if index >= len(self.credits[dispute]):
            return
        credit = self.credits[dispute][index]
        try:
            ended = credit.reverse(min(units, credit.units), by="bob", at=self.now)
        except InvalidTransition:
            assert credit.state in SETTLED
            return
        self._replace(dispute, index, ended)

    @rule(days=st.integers(0, 30))
    def checker_runs(self, days: int) -> None:
        self.now += timedelta(days=days)
        for dispute, credits in self.credits.items():
            for index, credit in enumerate(credits):
                if due_for_automatic_permanence(PLAN, credit, now=self.now):
                    self._replace(dispute, index, credit.make_permanent(by="system", at=self.now))
        assert PLAN is not None
        if self.now >= PLAN.final_at:
            granted = [c for cs in self.credits.values() for c in cs if c.state not in SETTLED]
            assert granted == []

    @invariant()
    def every_credit_is_settled_at_most_once_and_stays_settled(self) -> None:
        for dispute, credits in self.credits.items():
            unsettled = [c for c in credits if c.state is CreditState.GRANTED]
            assert len(unsettled) <= 1
            for index, credit in enumerate(credits):
                key = (dispute, index)
                if credit.state in SETTLED:
                    assert self.settlements[key] == 1
                    assert credit == self.first_settled[key]
                    assert credit.settled_at is not None
                    assert 0 <= credit.reversed_units <= credit.units
                else:
                    assert key not in self.settlements


TestCreditsEndOnce = CreditsEndOnce.TestCase


payout_requests = st.lists(
    st.tuples(st.integers(0, 4), st.integers(1, 3), st.integers(1, 400)), max_size=25
)


@given(verified_units=st.integers(1, 1000), requests=payout_requests, data=st.data())
def test_linked_payouts_in_any_order_never_exceed_the_verified_amount(
    verified_units: int, requests: list[tuple[int, int, int]], data: st.DataObject
):
    verified = Money(verified_units, 6, "USDT")
    ordered = data.draw(st.permutations(requests))
    committed: list[Commitment] = []
    for dispute, number, units in ordered:
        dispute_id = UUID(int=dispute)
        left = still_payable(verified, committed, excluding=(dispute_id, number))
        try:
            require_within_verified(
                Money(units, 6, "USDT"),
                verified,
                committed,
                dispute_id=dispute_id,
                decision_number=number,
            )
        except InvalidInput:
            assert units > left.units  # refused only when it would not fit
            continue
        assert units <= left.units
        committed = [
            c for c in committed if (c.dispute_id, c.decision_number) != (dispute_id, number)
        ]
        committed.append(Commitment(dispute_id, number, units))
        assert sum(c.units for c in committed) <= verified_units


REASONS = st.sampled_from(
    [
        "not_received",
        "wrong_recipient",
        "wrong_amount",
        "duplicate",
        "unauthorized",
        "failed_but_debited",
        "other",
    ]
)


@st.composite
def evaluated_checklists(draw: st.DrawFn) -> tuple[ItemStatus, ...]:
    items = checklist_for(draw(REASONS)).items
    done = draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items)))
    return tuple(ItemStatus(i.name, i.description, d) for i, d in zip(items, done, strict=True))


@given(statuses=evaluated_checklists(), data=st.data())
def test_overrides_cover_exactly_the_open_items_they_name(
    statuses: tuple[ItemStatus, ...], data: st.DataObject
):
    names = [s.name for s in statuses]
    others = ["amount", "recipient", "no_lookup", "status"]
    overrides = data.draw(st.lists(st.sampled_from([*names, *others]), unique=True))
    missing = uncovered(statuses, overrides)
    assert set(missing) == set(open_items(statuses)) - set(overrides)
    assert list(missing) == [n for n in open_items(statuses) if n in missing]  # checklist order
    assert uncovered(statuses, [*overrides, ALL_OPEN_ITEMS]) == ()
    assert uncovered(statuses, [o.upper() for o in overrides]) == missing
    extra = data.draw(st.sampled_from(names))
    assert set(uncovered(statuses, [*overrides, extra])) <= set(missing)
    if missing:
        with pytest.raises(InvalidInput):
            require_covered(statuses, overrides)
    else:
        require_covered(statuses, overrides)


spellings = st.sampled_from(["bob", "BOB", " Bob", "erin", "Erin ", "alice", "ALICE", "carol"])


@given(approvers=st.lists(spellings, max_size=6), required=st.integers(1, 2))
def test_approvals_count_distinct_people_and_never_the_proposer(
    approvers: list[str], required: int
):
    approvals: tuple[str, ...] = ()
    for approver in approvers:
        try:
            approvals = approve(
                approver, proposed_by="Alice", approvals=approvals, required=required
            )
        except NotAuthorized:
            continue
    people = {a.strip().casefold() for a in approvals}
    assert len(people) == len(approvals) <= required
    assert "alice" not in people
    expected = {a.strip().casefold() for a in approvers} - {"alice"}
    assert fully_approved(approvals, required) == (len(expected) >= required)


proofs = st.builds(
    Piece,
    kind=st.sampled_from(["screenshot", "document", "chat_log", "statement", "receipt", "other"]),
    source=st.sampled_from(["claimant", "investigator"]),
)
case_facts = st.builds(
    RecordedFacts,
    identity_method=st.none() | st.sampled_from(["wallet_signature", "document", "email"]),
    evidence=st.lists(proofs, max_size=4).map(tuple),
    contacted=st.lists(st.sampled_from(["recipient", "claimant"]), max_size=2).map(tuple),
)


@given(reason=REASONS, before=case_facts, more=case_facts)
def test_more_recorded_facts_never_reopen_an_item(
    reason: str, before: RecordedFacts, more: RecordedFacts
):
    after = RecordedFacts(
        identity_method=before.identity_method or more.identity_method,
        evidence=before.evidence + more.evidence,
        contacted=before.contacted + more.contacted,
    )
    items = checklist_for(reason)
    was = {s.name: s.done for s in items.evaluate(before)}
    now = {s.name: s.done for s in items.evaluate(after)}
    assert all(now[name] for name, done in was.items() if done)
