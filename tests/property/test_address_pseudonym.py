"""The pseudonym a sealed claim records for the claimant's wallet, and chain facts naming it:
for every dispute and address."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from eth_utils.address import is_checksum_address, to_checksum_address
from hypothesis import assume, given
from hypothesis import strategies as st

from dispute_engine import ClaimedTransaction
from dispute_engine.domain.chain_facts import compare
from dispute_engine.domain.claim import address_pseudonym
from tests.factories import SENDER, transaction
from tests.unit.test_chain_facts import facts

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)


@given(st.uuids(), addresses)
def test_a_pseudonym_is_a_checksummed_address_the_same_for_every_spelling(
    dispute: UUID, address: str
):
    pseudonym = address_pseudonym(dispute, address)
    assert is_checksum_address(pseudonym)
    assert pseudonym.lower() != address.lower()
    assert address_pseudonym(dispute, address.lower()) == pseudonym
    assert address_pseudonym(UUID(str(dispute)), address) == pseudonym


@given(st.uuids(), st.uuids(), addresses)
def test_two_disputes_give_one_address_two_pseudonyms(first: UUID, second: UUID, address: str):
    assume(first != second)
    assert address_pseudonym(first, address) != address_pseudonym(second, address)


@given(st.uuids(), addresses, addresses)
def test_two_addresses_give_two_pseudonyms(dispute: UUID, one: str, other: str):
    assume(one != other)
    assert address_pseudonym(dispute, one) != address_pseudonym(dispute, other)


@given(st.uuids(), st.sampled_from(["sender", "recipient", "transfer"]), addresses)
def test_pseudonymized_facts_never_name_the_real_address(dispute: UUID, where: str, other: str):
    real = SENDER
    placed = {
        "sender": {"sender": real},
        "recipient": {"recipient": real, "sender": other},
        "transfer": {"sender": other},
    }[where]
    seen = facts(**placed)
    pseudonym = address_pseudonym(dispute, real)
    hidden = seen.pseudonymized(real, pseudonym)
    assert real.lower()[2:] not in hidden.model_dump_json().lower()
    assert (real in seen.addresses, pseudonym in hidden.addresses) == (True, True)
    kept = seen.addresses - {real}
    assert hidden.addresses == kept | {pseudonym}


@given(st.uuids(), addresses)
def test_pseudonyms_on_both_sides_match_as_the_real_addresses_did(dispute: UUID, other: str):
    tolerance = timedelta(hours=1)
    pseudonym = address_pseudonym(dispute, SENDER)
    seen = facts()
    for claimed in (SENDER, other):
        claim = ClaimedTransaction.model_validate(transaction(sender=claimed))
        as_recorded = claim.model_copy(update={"sender": address_pseudonym(dispute, claimed)})
        assert compare(
            as_recorded, seen.pseudonymized(SENDER, pseudonym), time_tolerance=tolerance
        ) == compare(claim, seen, time_tolerance=tolerance)
