"""Second-level review: fresh eyes on appeals, two approvals where it matters, escalation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dispute_engine.domain.errors import InvalidInput, NotAuthorized
from dispute_engine.domain.money import Money
from dispute_engine.domain.review import (
    DEFAULT_APPROVAL_POLICY,
    ESCALATION_QUEUE,
    ApprovalPolicy,
    Escalation,
    approve,
    escalate,
    fully_approved,
    require_fresh_approver,
    require_fresh_investigator,
)


def usdt(amount: str) -> Money:
    return Money.parse(amount, asset="USDT", decimals=6)


def test_an_appeal_goes_to_an_investigator_who_did_not_decide_it():
    with pytest.raises(NotAuthorized) as caught:
        require_fresh_investigator("alice", decided_by=["alice"])
    assert caught.value.actor == "alice"
    require_fresh_investigator("carol", decided_by=["alice", "dave"])


def test_the_same_investigator_under_another_spelling_is_refused():
    for spelling in ("ALICE", " alice ", "\uff41lice"):  # the last starts with a fullwidth a
        with pytest.raises(NotAuthorized):
            require_fresh_investigator(spelling, decided_by=["Alice"])


def test_an_appeals_decision_needs_an_approver_who_did_not_approve_the_first():
    with pytest.raises(NotAuthorized, match="did not approve the first"):
        require_fresh_approver("Bob", approved_before=["bob"])
    require_fresh_approver("erin", approved_before=["bob"])


def test_an_id_with_invisible_characters_is_invalid_input():
    with pytest.raises(InvalidInput):
        require_fresh_investigator("al\u200bice", decided_by=["alice"])


def test_large_amounts_and_unauthorized_transfers_need_two_approvals():
    policy = DEFAULT_APPROVAL_POLICY
    assert policy.approvals_required(usdt("10000"), "not_received") == 1
    assert policy.approvals_required(usdt("10000.000001"), "not_received") == 2
    assert policy.approvals_required(usdt("1"), "unauthorized") == 2


def test_the_threshold_is_set_per_asset():
    policy = ApprovalPolicy(second_approval_above={"ETH": Decimal(3), "USDT": Decimal(500)})
    eth = Money.parse("3.5", asset="ETH", decimals=18)
    assert policy.approvals_required(eth, "other") == 2
    assert policy.approvals_required(usdt("3.5"), "other") == 1
    assert policy.approvals_required(usdt("501"), "other") == 2


def test_an_asset_without_a_threshold_always_needs_two_approvals():
    odd = Money.parse("0.01", asset="XYZ", decimals=18)
    assert DEFAULT_APPROVAL_POLICY.approvals_required(odd, "wrong_amount") == 2


def test_two_distinct_approvals_are_needed_before_execution():
    first = approve("bob", proposed_by="alice", approvals=(), required=2)
    assert not fully_approved(first, 2)
    second = approve("erin", proposed_by="alice", approvals=first, required=2)
    assert second == ("bob", "erin")
    assert fully_approved(second, 2)


def test_the_proposer_cannot_approve_their_own_decision():
    with pytest.raises(NotAuthorized, match="not its proposer"):
        approve("ALICE", proposed_by="alice", approvals=(), required=1)


def test_one_person_cannot_give_both_approvals_under_two_spellings():
    first = approve("bob", proposed_by="alice", approvals=(), required=2)
    with pytest.raises(NotAuthorized, match="another approver"):
        approve("Bob ", proposed_by="alice", approvals=first, required=2)
    assert not fully_approved(first, 2)


def test_no_approval_beyond_the_number_required():
    done = approve("bob", proposed_by="alice", approvals=(), required=1)
    with pytest.raises(NotAuthorized, match="already has every approval"):
        approve("erin", proposed_by="alice", approvals=done, required=1)


def test_escalation_raises_the_priority_one_step_and_targets_the_escalation_queue():
    assert escalate("low") == Escalation("normal", ESCALATION_QUEUE)
    assert escalate("normal") == Escalation("high", ESCALATION_QUEUE)
    assert escalate("high") == Escalation("urgent", ESCALATION_QUEUE)
    assert escalate("urgent") == Escalation("urgent", ESCALATION_QUEUE)


def test_escalating_an_unknown_priority_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        escalate("critical")
    assert caught.value.fields == ["priority"]


@pytest.mark.parametrize(
    ("refuse", "field"),
    [
        (lambda: require_fresh_investigator("al\u200bice", decided_by=[]), "investigator"),
        (lambda: require_fresh_investigator("carol", decided_by=["al\u200bice"]), "staff_id"),
        (lambda: require_fresh_approver("b\u200bob", approved_before=[]), "approver"),
        (lambda: approve("b\u200bob", proposed_by="alice", approvals=(), required=1), "approver"),
        (
            lambda: approve("bob", proposed_by="al\u200bice", approvals=(), required=1),
            "proposed_by",
        ),
    ],
)
def test_an_id_with_invisible_characters_is_blamed_on_the_field_it_came_in(refuse, field):
    with pytest.raises(InvalidInput) as refused:
        refuse()
    assert refused.value.fields == [field]


@pytest.mark.parametrize(
    ("refuse", "message"),
    [
        (
            lambda: require_fresh_investigator("Bob", decided_by=["bob"]),
            "an appeal goes to an investigator who did not decide the dispute before",
        ),
        (
            lambda: require_fresh_approver("Bob", approved_before=["bob"]),
            "an appeal's decision needs an approver who did not approve the first one",
        ),
        (
            lambda: approve("Bob", proposed_by="bob", approvals=(), required=2),
            "a decision that moves money needs a second approver, not its proposer",
        ),
        (
            lambda: approve("Bob", proposed_by="alice", approvals=("bob",), required=2),
            "the second approval must come from another approver than the first",
        ),
        (
            lambda: approve("Bob", proposed_by="alice", approvals=("erin",), required=1),
            "the decision already has every approval it needs",
        ),
    ],
)
def test_a_refused_reviewer_is_named_in_canonical_form_with_the_reason(refuse, message):
    with pytest.raises(NotAuthorized) as refused:
        refuse()
    assert (refused.value.message, refused.value.actor) == (message, "bob")


def test_escalating_an_unknown_priority_lists_the_known_ones():
    with pytest.raises(InvalidInput) as caught:
        escalate("critical")
    assert caught.value.errors == [
        {"field": "priority", "message": "must be one of low, normal, high, urgent"}
    ]
