"""Amounts keep every digit, however many a uint256 needs."""

from __future__ import annotations

from datetime import UTC, datetime

from dispute_engine.domain.claim import ClaimedTransaction
from dispute_engine.domain.money import Money


def test_a_claimed_amount_with_more_than_28_digits_keeps_its_last_base_unit() -> None:
    claimed = ClaimedTransaction(
        chain_id=1,
        tx_hash="0x" + "ab" * 32,
        asset="ETH",
        amount="12345678901.123456789012345679",
        sender="0x" + "11" * 20,
        recipient="0x" + "22" * 20,
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    assert claimed.money.units == 12345678901_123456789012345679


def test_money_prints_every_digit() -> None:
    assert str(Money(10**28 + 1, 0, "TKN")) == "10000000000000000000000000001 TKN"
