"""A claimant proves they control the sending wallet by signing a one-time challenge."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from dispute_engine import Actor, DisputeEngine
from dispute_engine.errors import (
    ChallengeExpired,
    ChallengeReused,
    IdentityMethodLocked,
    InvalidInput,
    MalformedSignature,
    SignatureRefused,
)
from tests.conftest import FakeClock
from tests.factories import file_dispute, stored_rows

CLAIMANT: LocalAccount = Account.from_key("0x" + "42" * 32)
STRANGER: LocalAccount = Account.from_key("0x" + "17" * 32)


def signed(account: LocalAccount, message: str) -> str:
    return "0x" + bytes(account.sign_message(encode_defunct(text=message)).signature).hex()


def claimed(engine: DisputeEngine, alice: Actor) -> UUID:
    """A dispute whose claimed sender is the claimant's wallet."""
    dispute = file_dispute(engine, alice, transaction={"sender": CLAIMANT.address})
    engine.assign(dispute, investigator="alice", by=alice)
    return dispute


def failures(engine: DisputeEngine, dispute: UUID) -> list[str]:
    return [e.data["reason"] for e in engine.history(dispute) if e.name == "IdentityAttemptFailed"]


def test_the_claimed_sender_signing_the_challenge_verifies_the_claimant(
    engine: DisputeEngine, alice: Actor
):
    dispute = claimed(engine, alice)
    challenge = engine.issue_identity_challenge(dispute, by=alice)
    assert str(dispute) in challenge.message
    assert CLAIMANT.address in challenge.message
    engine.verify_identity(
        dispute, method="wallet_signature", signature=signed(CLAIMANT, challenge.message), by=alice
    )
    view = engine.get(dispute)
    assert view.identity_verified
    assert view.identity_method == "wallet_signature"
    assert failures(engine, dispute) == []


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        (lambda message: signed(STRANGER, message), SignatureRefused, "wrong_signer"),
        (lambda message: "0xzz", MalformedSignature, "malformed"),
        (lambda message: "0x" + "00" * 65, SignatureRefused, "wrong_signer"),
    ],
    ids=["another wallet", "not hex", "no key signed it"],
)
def test_a_bad_signature_is_refused_and_recorded_as_a_failed_attempt(
    engine: DisputeEngine, alice: Actor, answer, error, reason
):
    dispute = claimed(engine, alice)
    challenge = engine.issue_identity_challenge(dispute, by=alice)
    with pytest.raises(error):
        engine.verify_identity(
            dispute, method="wallet_signature", signature=answer(challenge.message), by=alice
        )
    assert failures(engine, dispute) == [reason]
    assert not engine.get(dispute).identity_verified


def test_an_expired_challenge_is_refused_and_recorded(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    dispute = claimed(engine, alice)
    challenge = engine.issue_identity_challenge(dispute, by=alice)
    clock.advance(timedelta(minutes=16))
    with pytest.raises(ChallengeExpired):
        engine.verify_identity(
            dispute,
            method="wallet_signature",
            signature=signed(CLAIMANT, challenge.message),
            by=alice,
        )
    assert failures(engine, dispute) == ["expired"]


def test_a_challenge_answers_once(engine: DisputeEngine, alice: Actor):
    dispute = claimed(engine, alice)
    challenge = engine.issue_identity_challenge(dispute, by=alice)
    signature = signed(CLAIMANT, challenge.message)
    engine.verify_identity(dispute, method="wallet_signature", signature=signature, by=alice)
    with pytest.raises(ChallengeReused):
        engine.verify_identity(dispute, method="wallet_signature", signature=signature, by=alice)
    assert failures(engine, dispute) == ["reused"]


def test_a_challenge_of_another_dispute_is_refused(engine: DisputeEngine, alice: Actor):
    dispute, other = claimed(engine, alice), claimed(engine, alice)
    challenge = engine.issue_identity_challenge(other, by=alice)
    with pytest.raises((ChallengeReused, MalformedSignature, SignatureRefused)):
        engine.verify_identity(
            dispute,
            method="wallet_signature",
            signature=signed(CLAIMANT, challenge.message),
            by=alice,
        )
    assert len(failures(engine, dispute)) == 1


def test_five_failures_lock_the_wallet_method_but_not_the_recorded_methods(
    engine: DisputeEngine, alice: Actor
):
    dispute = claimed(engine, alice)
    for _ in range(5):
        challenge = engine.issue_identity_challenge(dispute, by=alice)
        with pytest.raises(SignatureRefused):
            engine.verify_identity(
                dispute,
                method="wallet_signature",
                signature=signed(STRANGER, challenge.message),
                by=alice,
            )
    before = stored_rows(engine)
    with pytest.raises(IdentityMethodLocked):
        engine.issue_identity_challenge(dispute, by=alice)
    assert stored_rows(engine) == before
    assert len(failures(engine, dispute)) == 5
    engine.verify_identity(dispute, method="security_question", by=alice)
    assert engine.get(dispute).identity_method == "security_question"


def test_a_wallet_signature_needs_a_signature_and_bad_input_records_nothing(
    engine: DisputeEngine, alice: Actor
):
    dispute = claimed(engine, alice)
    engine.issue_identity_challenge(dispute, by=alice)
    before = stored_rows(engine)
    for kwargs in (
        {"method": "wallet_signature"},
        {"method": "wallet_signature", "signature": 42},
        {"method": "wallet_signature", "signature": "0x" + "ab" * 10_000},
        {"method": "security_question", "signature": "0xab"},
    ):
        with pytest.raises(InvalidInput):
            engine.verify_identity(dispute, by=alice, **kwargs)  # type: ignore[arg-type]
    assert stored_rows(engine) == before
    assert failures(engine, dispute) == []
