"""Plain wallets' personal_sign signatures, checked offline: only the claimed sender passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given
from hypothesis import strategies as st

from chain.wallet_signature import (
    WalletProof,
    recover_signer,
    signature_bytes,
    verify_wallet_signature,
)
from dispute_engine.domain.wallet_challenge import WalletChallenge
from dispute_engine.errors import (
    ChallengeExpired,
    ChallengeReused,
    InvalidInput,
    MalformedSignature,
    SignatureRefused,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NONCE = "n0nce0123456789abcdef"
# Fixed test keys (never funded anywhere).
CLAIMANT = Account.from_key("0x" + "11" * 32)
STRANGER = Account.from_key("0x" + "22" * 32)


def message_for(address: str = CLAIMANT.address, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "domain": "support.wallet.example",
        "address": address,
        "chain_id": 1,
        "dispute_id": UUID("abcdef12-1234-5678-1234-567812345678"),
        "nonce": NONCE,
        "now": NOW,
    }
    fields.update(changes)
    return WalletChallenge.issue(**fields).message


def personal_sign(account: Any, message: str) -> str:
    return "0x" + bytes(account.sign_message(encode_defunct(text=message)).signature).hex()


def verify(message: str, signature: str, **changes: Any) -> WalletProof:
    fields: dict[str, Any] = {
        "address": CLAIMANT.address,
        "now": NOW + timedelta(minutes=1),
        "issued": {NONCE},
        "used": set(),
        "client": None,
    }
    fields.update(changes)
    return verify_wallet_signature(message, signature, **fields)


def test_the_claimed_senders_signature_is_accepted():
    message = message_for()
    assert verify(message, personal_sign(CLAIMANT, message)) is WalletProof.PERSONAL_SIGN


def test_the_claimed_address_matches_in_any_letter_case():
    message = message_for(CLAIMANT.address.lower())
    signature = personal_sign(CLAIMANT, message)
    assert verify(message, signature, address=CLAIMANT.address.upper().replace("0X", "0x"))


def test_a_signature_by_another_wallet_is_refused_naming_the_signer():
    message = message_for()
    with pytest.raises(SignatureRefused, match=STRANGER.address) as caught:
        verify(message, personal_sign(STRANGER, message))
    assert caught.value.actor == CLAIMANT.address


def test_a_challenge_for_another_wallet_is_refused_even_if_its_owner_signed():
    message = message_for(STRANGER.address)
    with pytest.raises(SignatureRefused, match="names wallet"):
        verify(message, personal_sign(STRANGER, message))


def test_a_signature_over_other_text_is_refused():
    message = message_for()
    other = message_for(nonce="another0123456789")
    with pytest.raises(SignatureRefused):
        verify(message, personal_sign(CLAIMANT, other))


def test_v_as_zero_or_one_is_read_as_27_or_28():
    message = message_for()
    raw = bytearray(signature_bytes(personal_sign(CLAIMANT, message)))
    raw[-1] -= 27
    assert recover_signer(message, bytes(raw)) == CLAIMANT.address
    assert verify(message, raw.hex()) is WalletProof.PERSONAL_SIGN


def test_an_expired_challenge_is_refused_even_when_signed_correctly():
    message = message_for()
    with pytest.raises(ChallengeExpired):
        verify(message, personal_sign(CLAIMANT, message), now=NOW + timedelta(minutes=15))


def test_a_used_or_foreign_nonce_is_refused():
    message = message_for()
    signature = personal_sign(CLAIMANT, message)
    with pytest.raises(ChallengeReused):
        verify(message, signature, used={NONCE})
    with pytest.raises(ChallengeReused):
        verify(message, signature, issued=set())


@pytest.mark.parametrize(
    "signature",
    ["", "0x", "not hex", "0x123", "0x" + "00" * 64, "0x" + "ff" * 66, "0x" + "00" * 5000],
)
def test_a_malformed_signature_is_refused_as_invalid_input(signature: str):
    with pytest.raises(MalformedSignature) as caught:
        verify(message_for(), signature)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.fields == ["signature"]


def test_a_signature_that_no_key_could_have_made_recovers_nobody():
    assert recover_signer(message_for(), b"\x00" * 65) is None
    assert recover_signer(message_for(), b"\xff" * 65) is None


def test_an_unsigned_text_that_is_not_a_challenge_is_malformed():
    with pytest.raises(MalformedSignature) as caught:
        verify("please sign", personal_sign(CLAIMANT, "please sign"))
    assert caught.value.fields == ["message"]


@given(st.binary(min_size=65, max_size=65))
def test_random_signatures_are_refused_or_malformed_never_accepted(raw: bytes):
    with pytest.raises((SignatureRefused, MalformedSignature)):
        verify(message_for(), raw.hex())
