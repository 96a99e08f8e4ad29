"""Claims are validated and normalised at the edge."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from dispute_engine import ClaimedTransaction, FileDispute
from dispute_engine.domain.claim import address_pseudonym
from dispute_engine.errors import InvalidInput
from dispute_engine.notices.catalog import resolve
from tests.factories import SENDER, filing, transaction


def test_addresses_are_normalised_to_their_checksum_form():
    tx = ClaimedTransaction(**transaction(recipient="0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359"))
    assert tx.recipient == "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


def test_hash_is_lowercased_and_time_is_utc():
    tx = ClaimedTransaction(
        **transaction(tx_hash="0x" + "AB" * 32, occurred_at="2026-11-20T16:15:00+08:00")
    )
    assert tx.tx_hash == "0x" + "ab" * 32
    assert tx.occurred_at.isoformat() == "2026-11-20T08:15:00+00:00"


def test_unknown_asset_is_accepted_with_its_decimals():
    tx = ClaimedTransaction(**transaction(asset="PEPE", decimals=18, amount="1.5"))
    assert tx.money.units == 15 * 10**17


def test_language_tags_are_normalised_and_notices_fall_back_to_english():
    assert FileDispute(**filing(language="ZH-hans-cn")).language == "zh-Hans-CN"
    assert resolve(FileDispute(**filing(language="es-419")).language)[0] == "es"
    assert resolve(FileDispute(**filing(language="de")).language)[0] == "en"


def test_several_problems_are_reported_together():
    with pytest.raises(InvalidInput) as raised:
        FileDispute(**filing(channel="fax", transaction={"tx_hash": "0x1"}))
    assert sorted(raised.value.fields) == ["channel", "transaction.tx_hash"]


def test_invalid_input_is_a_value_error_carrying_the_fields():
    with pytest.raises(ValueError, match=r"transaction\.amount"):
        FileDispute.model_validate(filing(transaction={"amount": "0"}))


def test_commands_are_frozen():
    command = FileDispute(**filing())
    with pytest.raises(ValueError, match="frozen"):
        command.priority = "urgent"  # type: ignore[misc]


def test_a_json_filing_is_validated_the_same_way():
    with pytest.raises(InvalidInput) as raised:
        FileDispute.model_validate_json(b'{"claimant_id": "u"}')
    assert "reason" in raised.value.fields


def test_language_subtags_take_their_bcp47_case():
    assert FileDispute(**filing(language="ZH-hant-tw")).language == "zh-Hant-TW"
    assert FileDispute(**filing(language="zh-yue")).language == "zh-yue"


def test_a_jurisdiction_is_kept_in_capitals():
    assert FileDispute(**filing(jurisdiction="us-ca")).jurisdiction == "US-CA"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (
            {"language": "english!"},
            {
                "field": "language",
                "message": "must be a BCP 47 language tag such as en, zh-CN or es-419",
            },
        ),
        (
            {"jurisdiction": "USA-California"},
            {
                "field": "jurisdiction",
                "message": "must be an ISO 3166 country code, optionally with a region: US, US-CA",
            },
        ),
        (
            {"transaction": transaction(amount=0.5)},
            {
                "field": "transaction.amount",
                "message": "amounts are exact: pass a string or Decimal, not a float",
            },
        ),
    ],
)
def test_a_refused_filing_says_what_the_field_must_be(changes, error):
    with pytest.raises(InvalidInput) as refused:
        FileDispute(**filing(**changes))
    assert refused.value.errors == [error]


@pytest.mark.usefixtures("tokyo_machine")
def test_the_time_of_a_claimed_transaction_is_kept_in_utc_whatever_the_machines_zone():
    claimed = ClaimedTransaction(**transaction(occurred_at="2026-11-20T09:15:00+01:00"))
    assert claimed.occurred_at.utcoffset() == timedelta(0)
    assert claimed.occurred_at.hour == 8


def test_a_pseudonym_is_the_one_every_release_derives():
    # Recorded disputes name the pseudonym: its derivation (sha256 over the domain tag, the
    # dispute id and the address in lower case, cut to 20 bytes) must never change.
    dispute = UUID("12345678-1234-5678-1234-567812345678")
    expected = "0x378084BEeE13f91E818Ae1070CdF2e29Dfdb267e"
    assert address_pseudonym(dispute, SENDER) == expected
    assert address_pseudonym(dispute, SENDER.upper().replace("0X", "0x")) == expected
