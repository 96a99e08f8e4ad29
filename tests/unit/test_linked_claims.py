"""Linked claims: every dispute on one transaction shares the chain-verified amount."""

from __future__ import annotations

from uuid import UUID

import pytest

from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.linked_claims import (
    Commitment,
    require_within_verified,
    still_payable,
    transaction_key,
)
from dispute_engine.domain.money import Money

FIRST = UUID(int=1)
SECOND = UUID(int=2)
VERIFIED = Money(100, 6, "USDT")


def usdt(units: int) -> Money:
    return Money(units, 6, "USDT")


def test_linked_disputes_share_a_key_whatever_the_hashs_case():
    assert transaction_key(1, "0xABCD") == transaction_key(1, "0xabcd") == "1:0xabcd"
    assert transaction_key(1, "0xabcd") != transaction_key(56, "0xabcd")


def test_what_is_paid_on_one_dispute_is_no_longer_payable_on_another():
    paid = [Commitment(FIRST, 1, 70)]
    assert still_payable(VERIFIED, paid) == usdt(30)
    require_within_verified(usdt(30), VERIFIED, paid, dispute_id=SECOND, decision_number=1)
    with pytest.raises(InvalidInput) as caught:
        require_within_verified(usdt(31), VERIFIED, paid, dispute_id=SECOND, decision_number=1)
    assert caught.value.fields == ["amount"]
    assert caught.value.dispute_id == SECOND
    assert "0.00003 USDT" in str(caught.value)


def test_a_decision_is_not_counted_against_itself_when_checked_again_at_execution():
    approved = [Commitment(FIRST, 1, 60), Commitment(SECOND, 2, 40)]
    require_within_verified(usdt(40), VERIFIED, approved, dispute_id=SECOND, decision_number=2)
    with pytest.raises(InvalidInput):
        require_within_verified(usdt(40), VERIFIED, approved, dispute_id=SECOND, decision_number=3)


def test_a_provisional_credit_counts_against_the_cap():
    credited = [Commitment(FIRST, 0, 100)]
    with pytest.raises(InvalidInput):
        require_within_verified(usdt(1), VERIFIED, credited, dispute_id=SECOND, decision_number=1)


def test_commitments_beyond_the_verified_amount_leave_nothing_payable():
    assert still_payable(VERIFIED, [Commitment(FIRST, 1, 150)]) == usdt(0)


def test_a_payout_in_another_asset_than_the_chain_verified_is_refused():
    with pytest.raises(InvalidInput, match="verified USDT"):
        require_within_verified(
            Money(1, 18, "ETH"), VERIFIED, [], dispute_id=FIRST, decision_number=1
        )


def test_a_refused_payout_is_blamed_on_the_amount_of_that_dispute():
    for amount in (Money(1, 18, "ETH"), usdt(101)):
        with pytest.raises(InvalidInput) as refused:
            require_within_verified(amount, VERIFIED, [], dispute_id=FIRST, decision_number=1)
        assert refused.value.fields == ["amount"]
        assert refused.value.dispute_id == FIRST
