"""Claim-vs-chain matching rules, for every amount and every field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dispute_engine import ClaimedTransaction
from dispute_engine.domain.chain_facts import ChainFacts, compare, finality
from tests.factories import RECIPIENT, SENDER, USDT, transaction

WHEN = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
HOUR = timedelta(hours=1)
OTHER = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"


def facts(**overrides: Any) -> ChainFacts:
    return ChainFacts.model_validate(
        {
            "chain_id": 1,
            "tx_hash": "0x" + "ab" * 32,
            "status": "success",
            "block_number": 10,
            "block_hash": "0x" + "cd" * 32,
            "block_time": WHEN,
            "confirmations": 3,
            "sender": SENDER,
            "recipient": USDT,
            "native_units": 0,
            "native_asset": "ETH",
            "native_decimals": 18,
            "observed_at": WHEN,
            "token_transfers": [
                {
                    "token_address": USDT,
                    "sender": SENDER,
                    "recipient": RECIPIENT,
                    "units": 125_500_000,
                    "decimals": 6,
                    "log_index": 0,
                }
            ],
            **overrides,
        }
    )


def claim(**overrides: Any) -> ClaimedTransaction:
    return ClaimedTransaction(**transaction(**overrides))


def test_a_true_token_claim_has_no_mismatches():
    result = compare(claim(), facts(), time_tolerance=HOUR)
    assert result.mismatches == ()
    assert result.moved == 125_500_000


def as_text(units: int, decimals: int) -> str:
    """Base units written as the decimal amount a claimant would type."""
    digits = format(units, "d").rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]}"


@given(units=st.integers(min_value=2, max_value=10**30), delta=st.sampled_from([-1, 1]))
def test_any_token_amount_one_base_unit_off_is_a_mismatch(units: int, delta: int):
    log = {
        "token_address": USDT,
        "sender": SENDER,
        "recipient": RECIPIENT,
        "units": units + delta,
        "decimals": 6,
        "log_index": 0,
    }
    claimed = claim(amount=as_text(units, 6))
    assert claimed.money.units == units
    result = compare(claimed, facts(token_transfers=[log]), time_tolerance=HOUR)
    assert result.mismatches == ("amount",)
    assert result.moved == units + delta


@given(units=st.integers(min_value=1, max_value=10**24))
def test_native_amounts_compare_exactly_in_wei(units: int):
    native = facts(recipient=RECIPIENT, native_units=units, token_transfers=[])
    claimed = claim(asset="ETH", token_address=None, amount=as_text(units, 18))
    assert compare(claimed, native, time_tolerance=HOUR).mismatches == ()
    one_more = facts(recipient=RECIPIENT, native_units=units + 1, token_transfers=[])
    assert compare(claimed, one_more, time_tolerance=HOUR).mismatches == ("amount",)


@given(offset=st.integers(min_value=-7200, max_value=7200))
def test_time_is_a_mismatch_only_beyond_the_tolerance(offset: int):
    chain = facts(block_time=WHEN + timedelta(seconds=offset))
    mismatches = compare(claim(), chain, time_tolerance=HOUR).mismatches
    assert ("time" in mismatches) == (abs(offset) > 3600)


def test_tokens_are_matched_by_their_transfer_log_not_the_native_value():
    chain = facts(native_units=10**18)  # some ETH moved too; the claim is about USDT
    assert compare(claim(), chain, time_tolerance=HOUR).mismatches == ()


def test_the_best_fitting_log_is_chosen_among_several():
    logs = [
        {"token_address": USDT, "sender": SENDER, "recipient": OTHER, "units": 1, "log_index": 0},
        {
            "token_address": USDT,
            "sender": SENDER,
            "recipient": RECIPIENT,
            "units": 125_500_000,
            "log_index": 1,
        },
    ]
    assert compare(claim(), facts(token_transfers=logs), time_tolerance=HOUR).mismatches == ()


def test_a_different_token_is_an_asset_mismatch():
    other = [
        {
            "token_address": OTHER,
            "sender": SENDER,
            "recipient": RECIPIENT,
            "units": 125_500_000,
            "log_index": 0,
        }
    ]
    assert compare(claim(), facts(token_transfers=other), time_tolerance=HOUR).mismatches == (
        "asset",
    )


def test_native_coin_of_another_chain_is_an_asset_mismatch():
    bnb = facts(recipient=RECIPIENT, native_units=10**18, native_asset="BNB", token_transfers=[])
    claimed = claim(asset="ETH", token_address=None, amount="1")
    assert compare(claimed, bnb, time_tolerance=HOUR).mismatches == ("asset",)


def test_not_found_and_reverted_are_status_mismatches():
    assert compare(claim(), facts(status="not_found"), time_tolerance=HOUR).mismatches == (
        "status",
    )
    failed = facts(status="failed", token_transfers=[])
    assert compare(claim(), failed, time_tolerance=HOUR).mismatches == ("status",)


def test_wrong_parties_are_reported_as_such():
    chain = facts(
        sender=OTHER,
        token_transfers=[
            {
                "token_address": USDT,
                "sender": OTHER,
                "recipient": OTHER,
                "units": 125_500_000,
                "log_index": 0,
            }
        ],
    )
    assert compare(claim(), chain, time_tolerance=HOUR).mismatches == ("sender", "recipient")


@given(block=st.integers(0, 1000), latest=st.integers(0, 1000), depth=st.integers(1, 100))
def test_finality_by_depth_needs_the_configured_confirmations(block: int, latest: int, depth: int):
    confirmations, final = finality(
        block, latest=latest, finalized_block=None, required_confirmations=depth
    )
    assert confirmations == max(0, latest - block + 1)
    assert final == (confirmations >= depth)


def test_finality_by_tag_follows_the_nodes_finalized_block():
    assert finality(10, latest=12, finalized_block=10, required_confirmations=64) == (3, True)
    assert finality(11, latest=12, finalized_block=10, required_confirmations=1) == (2, False)
