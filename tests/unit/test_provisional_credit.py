"""Provisional credit: per-jurisdiction deadlines on business days, and a credit's one ending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispute_engine.domain.errors import InvalidInput, InvalidTransition
from dispute_engine.domain.provisional_credit import (
    CreditState,
    ProvisionalCredit,
    Settlement,
    credit_owed,
    credit_rule,
    due_for_automatic_permanence,
    require_grant_allowed,
    schedule,
    settlement,
)
from dispute_engine.domain.sla_clock import SlaTracker
from dispute_engine.domain.sla_policy import CURRENT_POLICY, Metric

FILED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 10:00 in New York


def credit(units: int = 100) -> ProvisionalCredit:
    return ProvisionalCredit(units=units, granted_by="alice", granted_at=FILED)


def test_us_disputes_are_credited_within_ten_business_days_and_concluded_within_45_days():
    plan = schedule("US", FILED)
    assert plan is not None
    # Thanksgiving (Thu 26 Nov) and the weekends do not count; Christmas Day falls after.
    assert plan.credit_due_at == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    assert plan.final_at == FILED + timedelta(days=45)
    assert plan.permanent_at_final is True


def test_the_credit_rule_matches_the_sla_policys_reg_e_target():
    reg_e = CURRENT_POLICY.target(
        Metric.RESOLUTION, priority="normal", reason="other", jurisdiction="US"
    )
    rule = credit_rule("US")
    assert rule is not None
    assert (rule.credit_within.amount, rule.credit_within.unit) == (reg_e.amount, reg_e.unit)
    assert rule.final_within == reg_e.extended


def test_a_us_region_counts_its_own_holidays():
    # 27 Nov 2026, the day after Thanksgiving, is a holiday in California but not in New York.
    new_york, california = schedule("US", FILED), schedule("US-CA", FILED)
    assert new_york is not None
    assert california is not None
    assert california.credit_due_at > new_york.credit_due_at


def test_a_credit_falls_due_when_the_reg_e_resolution_clock_does():
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    plan = schedule("US", saturday)
    assert plan is not None
    clocks = SlaTracker(jurisdiction="US")
    clocks.start_cycle(saturday, (Metric.RESOLUTION,))
    # Ten whole working days from Monday: done as Friday 11 Dec closes in New York.
    assert plan.credit_due_at == datetime(2026, 12, 12, 5, 0, tzinfo=UTC)
    assert clocks.clocks["resolution:1"].due_at == plan.credit_due_at


def test_jurisdictions_without_the_rule_owe_no_credit():
    for jurisdiction in ("DE", "CN", "GB", "ES"):
        assert schedule(jurisdiction, FILED) is None
    late = FILED + timedelta(days=400)
    assert credit_owed(None, now=late, concluded=False, credited=False) is False


def test_an_unknown_policy_version_is_a_lookup_error():
    with pytest.raises(LookupError):
        credit_rule("US", "1999-01")


def test_a_credit_is_owed_only_after_the_due_time_without_a_decision_or_a_credit():
    plan = schedule("US", FILED)
    assert plan is not None
    due = plan.credit_due_at
    second = timedelta(seconds=1)
    assert not credit_owed(plan, now=due - second, concluded=False, credited=False)
    assert credit_owed(plan, now=due, concluded=False, credited=False)
    assert not credit_owed(plan, now=due, concluded=True, credited=False)
    assert not credit_owed(plan, now=due, concluded=False, credited=True)


def test_a_granted_credit_can_be_made_permanent_once():
    kept = credit().make_permanent(by="bob", at=FILED)
    assert (kept.state, kept.settled_by, kept.reversed_units) == (CreditState.PERMANENT, "bob", 0)
    with pytest.raises(InvalidTransition):
        kept.make_permanent(by="bob", at=FILED)


def test_a_permanent_credit_cannot_be_reversed():
    kept = credit().make_permanent(by="bob", at=FILED)
    with pytest.raises(InvalidTransition) as caught:
        kept.reverse(100, by="bob", at=FILED)
    assert caught.value.status == CreditState.PERMANENT
    assert caught.value.allowed == (CreditState.GRANTED,)


def test_a_credit_is_reversed_at_most_once():
    taken_back = credit().reverse(100, by="bob", at=FILED)
    assert taken_back.state is CreditState.REVERSED
    with pytest.raises(InvalidTransition):
        taken_back.reverse(100, by="bob", at=FILED)
    with pytest.raises(InvalidTransition):
        taken_back.make_permanent(by="bob", at=FILED)


@pytest.mark.parametrize("units", [0, -1, 101])
def test_a_reversal_takes_back_between_one_unit_and_the_whole_credit(units: int):
    with pytest.raises(InvalidInput, match=r"1\.\.100"):
        credit().reverse(units, by="bob", at=FILED)


def test_a_full_award_makes_the_credit_permanent_and_pays_only_the_rest():
    assert settlement(credit(100), 100) == Settlement(True, 0, 0)
    assert settlement(credit(100), 130) == Settlement(True, 0, 30)


def test_a_rejection_reverses_the_whole_credit_and_a_smaller_award_the_excess():
    assert settlement(credit(100), 0) == Settlement(False, 100, 0)
    assert settlement(credit(100), 60) == Settlement(False, 40, 0)
    with pytest.raises(InvalidInput, match="negative"):
        settlement(credit(100), -1)


def test_a_credit_needs_a_rule_and_no_other_unsettled_credit():
    plan = schedule("US", FILED)
    with pytest.raises(InvalidTransition, match="no provisional credit rule"):
        require_grant_allowed(schedule("DE", FILED), ())
    with pytest.raises(InvalidTransition, match="already granted"):
        require_grant_allowed(plan, (credit(),))
    require_grant_allowed(plan, ())
    require_grant_allowed(plan, (credit().reverse(100, by="bob", at=FILED),))


def test_the_policy_makes_a_granted_credit_permanent_at_the_final_deadline():
    plan = schedule("US", FILED)
    assert plan is not None
    before = plan.final_at - timedelta(seconds=1)
    assert not due_for_automatic_permanence(plan, credit(), now=before)
    assert due_for_automatic_permanence(plan, credit(), now=plan.final_at)
    settled = credit().reverse(1, by="bob", at=FILED)
    assert not due_for_automatic_permanence(plan, settled, now=plan.final_at)
    assert not due_for_automatic_permanence(None, credit(), now=plan.final_at)


@pytest.mark.parametrize("units", [0, -5])
def test_a_credit_of_nothing_is_invalid_input(units: int):
    with pytest.raises(InvalidInput) as caught:
        ProvisionalCredit(units=units, granted_by="alice", granted_at=FILED)
    assert caught.value.fields == ["units"]


def test_a_credit_of_one_base_unit_is_a_credit():
    assert credit(1).units == 1


def test_a_credit_of_nothing_says_why_on_units():
    with pytest.raises(InvalidInput) as refused:
        credit(0)
    assert refused.value.errors == [
        {"field": "units", "message": "a provisional credit must be more than zero"}
    ]


def test_a_reversal_records_who_took_back_how_much():
    later = FILED + timedelta(days=3)
    reversed_ = credit(100).reverse(40, by="bob", at=later)
    assert (reversed_.state, reversed_.settled_by, reversed_.settled_at) == (
        CreditState.REVERSED,
        "bob",
        later,
    )
    assert reversed_.reversed_units == 40


def test_a_reversal_outside_the_credit_is_refused_on_units():
    with pytest.raises(InvalidInput) as refused:
        credit(100).reverse(101, by="bob", at=FILED)
    assert refused.value.errors == [
        {"field": "units", "message": "a reversal takes back 1..100 units, not 101"}
    ]


@pytest.mark.parametrize(
    ("settle", "action", "message"),
    [
        (
            lambda c: c.make_permanent(by="bob", at=FILED),
            "make_permanent_provisional_credit",
            "cannot make permanent a provisional credit that is already reversed",
        ),
        (
            lambda c: c.reverse(1, by="bob", at=FILED),
            "reverse_provisional_credit",
            "cannot reverse a provisional credit that is already reversed",
        ),
    ],
)
def test_settling_a_settled_credit_names_the_action_and_the_state(settle, action, message):
    settled = credit().reverse(100, by="bob", at=FILED)
    with pytest.raises(InvalidTransition) as refused:
        settle(settled)
    assert refused.value.message == message
    assert (refused.value.action, refused.value.status) == (action, CreditState.REVERSED)
    assert refused.value.allowed == (CreditState.GRANTED,)


def test_a_refused_grant_says_whether_there_is_no_rule_or_an_unsettled_credit():
    with pytest.raises(InvalidTransition) as no_rule:
        require_grant_allowed(None, ())
    assert no_rule.value.message == "the dispute's jurisdiction has no provisional credit rule"
    assert (no_rule.value.action, no_rule.value.status) == ("grant_provisional_credit", "no_rule")
    with pytest.raises(InvalidTransition) as unsettled:
        require_grant_allowed(schedule("US", FILED), (credit(),))
    assert unsettled.value.message == "a provisional credit is already granted and not yet settled"
    assert (unsettled.value.action, unsettled.value.status) == (
        "grant_provisional_credit",
        CreditState.GRANTED,
    )


def test_a_negative_award_is_refused_on_units():
    with pytest.raises(InvalidInput) as refused:
        settlement(credit(), -1)
    assert refused.value.errors == [{"field": "units", "message": "an award cannot be negative"}]


def test_an_unknown_policy_version_is_named_in_the_error():
    with pytest.raises(LookupError, match=r"^no provisional credit rules for policy version 1999$"):
        credit_rule("US", "1999")
