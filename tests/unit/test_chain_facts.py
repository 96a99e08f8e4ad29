"""Claim-vs-chain matching rules, for every amount and every field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dispute_engine import ClaimedTransaction
from dispute_engine.domain.chain_facts import (
    ChainFacts,
    Comparison,
    compare,
    finality,
    with_addresses,
)
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
@example(offset=3600)
@example(offset=-3600)
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
    missing = facts(status="not_found", sender=None, recipient=None, token_transfers=[])
    assert compare(claim(), missing, time_tolerance=HOUR) == Comparison(
        mismatches=("status",), moved=None
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


def test_two_observations_differing_in_depth_and_time_only_agree_on_the_outcome():
    deeper = facts(confirmations=64, finalized=True, observed_at=WHEN + HOUR)
    assert facts().same_outcome(deeper)
    assert deeper.same_outcome(facts())


@pytest.mark.parametrize(
    "change",
    [
        (("status", "failed"),),
        (("block_number", 11),),
        (("recipient", OTHER),),
        (("native_units", 1),),
        (("token_transfers", ()),),
    ],
)
def test_observations_differing_in_what_happened_do_not_agree(change: tuple[tuple[str, Any], ...]):
    assert not facts().same_outcome(facts(**dict(change)))


def test_every_address_the_facts_name_passes_through_the_swap():
    def lower(address: str | None) -> str | None:
        return None if address is None else address.lower()

    seen = facts()
    swapped = with_addresses(seen, lower)
    (transfer,) = swapped.token_transfers
    assert (swapped.sender, swapped.recipient) == (SENDER.lower(), USDT.lower())
    assert (transfer.token_address, transfer.sender, transfer.recipient) == (
        USDT.lower(),
        SENDER.lower(),
        RECIPIENT.lower(),
    )
    assert swapped.addresses == {a.lower() for a in seen.addresses}
    named = {"sender", "recipient", "token_transfers"}
    assert swapped.model_dump(exclude=named) == seen.model_dump(exclude=named)


def native_claim(**overrides: Any) -> ClaimedTransaction:
    return claim(asset="ETH", token_address=None, **overrides)


def test_wrong_parties_of_a_native_transfer_are_reported_as_such():
    chain = facts(sender=OTHER, recipient=OTHER, native_units=10**18, token_transfers=[])
    result = compare(native_claim(amount="1"), chain, time_tolerance=HOUR)
    assert result == Comparison(mismatches=("sender", "recipient"), moved=10**18)


def test_a_native_claim_on_a_token_transfer_is_an_asset_mismatch():
    chain = facts(recipient=RECIPIENT)  # no ether moved; a USDT log did
    result = compare(native_claim(amount="125.5"), chain, time_tolerance=HOUR)
    assert result == Comparison(mismatches=("asset",), moved=None)


def test_a_native_claim_on_a_transfer_of_nothing_is_an_amount_mismatch():
    chain = facts(recipient=RECIPIENT, token_transfers=[])
    result = compare(native_claim(amount="1"), chain, time_tolerance=HOUR)
    assert result == Comparison(mismatches=("amount",), moved=0)


def test_ether_moved_beside_token_logs_is_compared_as_ether():
    chain = facts(recipient=RECIPIENT, native_units=1)  # one wei, and a USDT log
    result = compare(native_claim(amount="0.000000000000000001"), chain, time_tolerance=HOUR)
    assert result == Comparison(mismatches=(), moved=1)


def test_a_token_claim_without_its_token_log_still_reports_the_sender():
    chain = facts(sender=OTHER, token_transfers=[])
    assert compare(claim(), chain, time_tolerance=HOUR).mismatches == ("sender", "asset")


@pytest.mark.parametrize(
    "wrong",
    [(("sender", OTHER),), (("units", 1),)],
)
def test_the_log_from_the_claimant_with_the_claimed_amount_is_preferred(
    wrong: tuple[tuple[str, Any], ...],
):
    right = {
        "token_address": USDT,
        "sender": SENDER,
        "recipient": RECIPIENT,
        "units": 125_500_000,
        "log_index": 1,
    }
    logs = [{**right, **dict(wrong), "log_index": 0}, right]
    result = compare(claim(), facts(token_transfers=logs), time_tolerance=HOUR)
    assert result == Comparison(mismatches=(), moved=125_500_000)


def test_a_transaction_in_no_block_has_no_confirmations_and_is_not_final():
    assert finality(None, latest=12, finalized_block=10, required_confirmations=1) == (0, False)
    assert finality(None, latest=12, finalized_block=None, required_confirmations=0) == (0, False)
