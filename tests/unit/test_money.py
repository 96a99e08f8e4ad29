"""Exact money: parsing, refusals, arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.money import AmountError, Money, asset_decimals
from tests.strategies import amount_texts, decimals, money


@pytest.mark.parametrize(
    "text",
    ["0", "-1", "NaN", "sNaN", "Infinity", "-Infinity", "1e100000", "1.0000001", "abc", "", "1e-7"],
)
def test_amounts_that_are_not_exact_positive_quantities_are_refused(text: str):
    with pytest.raises(AmountError):
        Money.parse(text, asset="USDT", decimals=6)


def test_floats_are_refused_because_they_are_not_exact():
    with pytest.raises(
        AmountError, match=r"^amounts are exact: pass a string or Decimal, not a float$"
    ):
        Money.parse(0.1, asset="ETH", decimals=18)  # type: ignore[arg-type]


def test_trailing_zeros_beyond_the_decimals_are_harmless():
    assert Money.parse("125.5000000", asset="USDT", decimals=6).units == 125_500_000


def test_known_assets_have_their_decimals_and_chains_can_differ():
    assert asset_decimals("eth") == 18
    assert asset_decimals("USDT", 1) == 6
    assert asset_decimals("USDT", 56) == 18
    assert asset_decimals("UNKNOWN") is None


@given(text=amount_texts(6))
def test_parsing_keeps_every_base_unit(text: str):
    parsed = Money.parse(text, asset="USDT", decimals=6)
    assert parsed.amount == Decimal(text)
    assert Money.parse(parsed.amount, asset="USDT", decimals=6) == parsed


@given(d=decimals(), units=st.integers(min_value=1, max_value=10**30))
def test_one_base_unit_more_is_a_different_amount(d: int, units: int):
    a = Money(units, d, "X")
    b = Money(units + 1, d, "X")
    assert a != b
    assert b - a == Money(1, d, "X")


@given(parts=st.lists(money(), min_size=1, max_size=20))
def test_sums_are_exact_and_subtraction_never_goes_negative(parts: list[Money]):
    total = Money.zero(asset="TKN", decimals=6)
    for part in parts:
        total += part
    assert total.units == sum(p.units for p in parts)
    for part in parts:
        total -= part
    assert total.units == 0
    with pytest.raises(AmountError):
        total - parts[0]


def test_different_assets_do_not_mix():
    with pytest.raises(AmountError):
        Money(1, 6, "USDT") + Money(1, 18, "ETH")


def test_amounts_beyond_the_default_decimal_precision_stay_exact():
    text = "10000000000000000000000.000001"  # 29 significant digits
    money = Money.parse(text, asset="USDT", decimals=6)
    assert money.units == 10**28 + 1
    assert money.amount == Decimal(text)
    assert str(money) == f"{text} USDT"


def test_whole_amounts_read_without_an_exponent():
    assert str(Money.parse("100", asset="USDT", decimals=6).amount) == "100"
    assert str(Money(10**20, 0, "X").amount) == "100000000000000000000"


def test_decimals_run_from_zero_to_thirty_six():
    assert Money(1, 0, "X").decimals == 0
    assert Money(1, 36, "X").decimals == 36
    for bad in (-1, 37):
        with pytest.raises(AmountError, match=r"decimals must be 0\.\.36"):
            Money(1, bad, "X")


def test_an_amount_holds_at_most_what_a_uint256_balance_can():
    assert Money(2**256 - 1, 0, "X").units == 2**256 - 1
    assert Money.zero(asset="X", decimals=0).units == 0
    for bad in (-1, 2**256):
        with pytest.raises(AmountError, match=r"^amount is out of range$"):
            Money(bad, 0, "X")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "not a number: 'abc'"),
        ("Infinity", "amount must be a finite number"),
        ("-1", "amount must be greater than zero"),
        ("1e79", "amount is out of range"),
        ("1.0000001", "USDT has 6 decimals; 1.0000001 has more"),
        # 30 significant digits: past the default decimal precision, still refused cleanly.
        (
            "10000000000000000000000.0000001",
            "USDT has 6 decimals; 10000000000000000000000.0000001 has more",
        ),
    ],
)
def test_a_refused_amount_says_what_is_wrong_with_it(value: str, message: str):
    with pytest.raises(AmountError) as refused:
        Money.parse(value, asset="USDT", decimals=6)
    assert str(refused.value) == message


def test_mixing_assets_names_both():
    with pytest.raises(AmountError, match=r"^cannot combine USDT and ETH$"):
        Money(1, 6, "USDT") - Money(1, 18, "ETH")
    with pytest.raises(AmountError, match=r"^the result would be negative$"):
        Money(1, 6, "USDT") - Money(2, 6, "USDT")
