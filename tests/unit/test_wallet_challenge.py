"""The one-time wallet challenge: one readable text per challenge, expiry and one use."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.wallet_challenge import MAX_MESSAGE, MAX_TTL, WalletChallenge
from dispute_engine.errors import (
    ChallengeExpired,
    ChallengeReused,
    InvalidInput,
    MalformedSignature,
    NotAuthorized,
)

DISPUTE = UUID("abcdef12-1234-5678-1234-567812345678")
NOW = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
WALLET = "0x" + "Ab" * 20
NONCE = "n0nce0123456789abcdef"
NO_ZONE = [{"field": "now", "message": "must carry a time zone"}]
NOT_A_CHALLENGE = "is not a dispute-engine wallet challenge"
NOT_CANONICAL = "is not in the canonical form"
INVALID = "states an invalid challenge: "


class NoOffset(tzinfo):
    """A zone that states no offset: a time in it is as good as one without a zone."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> None:
        return None


ZONELESS = [datetime(2026, 3, 1, 9, 31), datetime(2026, 3, 1, 9, 31, tzinfo=NoOffset())]


def challenge(**changes: Any) -> WalletChallenge:
    fields: dict[str, Any] = {
        "domain": "support.wallet.example",
        "address": WALLET,
        "chain_id": 1,
        "dispute_id": DISPUTE,
        "nonce": NONCE,
        "now": NOW,
    }
    fields.update(changes)
    return WalletChallenge.issue(**fields)


def test_the_message_names_the_site_wallet_chain_dispute_nonce_and_expiry():
    message = challenge().message
    assert message.startswith("support.wallet.example asks you to prove that you control")
    for line in (
        f"Wallet: {WALLET}",
        "Chain ID: 1",
        f"Dispute: {DISPUTE}",
        f"Nonce: {NONCE}",
        "Issued At: 2026-03-01T09:30:15Z",
        "Expires At: 2026-03-01T09:45:15Z",
    ):
        assert line in message.splitlines()
    assert "moves no funds" in message


def test_a_message_parses_back_to_its_challenge():
    issued = challenge()
    assert WalletChallenge.parse(issued.message) == issued


def test_times_are_held_in_utc_whole_seconds_as_the_message_shows_them():
    issued = challenge(now=NOW.astimezone(UTC).replace(tzinfo=None).replace(tzinfo=UTC))
    assert issued.issued_at == datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)
    assert issued.expires_at - issued.issued_at == timedelta(minutes=15)


@pytest.fixture
def server_in_tokyo() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("server_in_tokyo")
def test_the_message_shows_utc_whatever_the_zone_of_now_or_of_the_server():
    issued = challenge(now=NOW.astimezone(timezone(timedelta(hours=-5))))
    assert "Issued At: 2026-03-01T09:30:15Z" in issued.message.splitlines()
    assert issued.issued_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("zoneless", ZONELESS)
def test_a_challenge_holds_no_time_without_a_zone(zoneless: datetime):
    with pytest.raises(InvalidInput) as caught:
        WalletChallenge(
            domain="support.wallet.example",
            address=WALLET,
            chain_id=1,
            dispute_id=DISPUTE,
            nonce=NONCE,
            issued_at=zoneless,
            expires_at=NOW + timedelta(minutes=15),
        )
    assert caught.value.errors == [{"field": "issued_at", "message": "must carry a time zone"}]


@given(
    nonce=st.text(alphabet="abcdefABCDEF0123456789xyz", min_size=16, max_size=64),
    chain_id=st.integers(min_value=1, max_value=2**53 - 1),
    dispute=st.uuids(),
    seconds=st.integers(min_value=1, max_value=int(MAX_TTL.total_seconds())),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_challenge_round_trips_through_its_text(
    nonce: str, chain_id: int, dispute: UUID, seconds: int, now: datetime
):
    issued = challenge(
        nonce=nonce, chain_id=chain_id, dispute_id=dispute, now=now, ttl=timedelta(seconds=seconds)
    )
    assert WalletChallenge.parse(issued.message) == issued


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("domain", "support.wallet.example\nWallet: 0x0"),
        ("domain", "Support.Wallet.Example"),
        ("domain", ""),
        ("address", "0x1234"),
        ("address", "ab" * 20),
        ("chain_id", 0),
        ("nonce", "short"),
        ("nonce", "n0nce 0123456789abcdef"),
        ("nonce", "x" * 65),
    ],
)
def test_a_challenge_with_a_bad_field_is_refused(field: str, value: Any):
    with pytest.raises(InvalidInput) as caught:
        challenge(**{field: value})
    assert caught.value.fields == [field]


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), MAX_TTL + timedelta(1)])
def test_an_expiry_not_after_issue_or_too_far_is_refused(ttl: timedelta):
    with pytest.raises(InvalidInput) as caught:
        challenge(ttl=ttl)
    assert caught.value.fields == ["expires_at"]


@pytest.mark.parametrize("zoneless", ZONELESS)
def test_a_time_without_a_zone_is_refused(zoneless: datetime):
    with pytest.raises(InvalidInput) as caught:
        challenge(now=zoneless)
    assert caught.value.errors == NO_ZONE


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda m: m + "\n", NOT_A_CHALLENGE),
        (lambda m: " " + m, NOT_A_CHALLENGE),
        (lambda m: m.replace("Chain ID: 1", "Chain ID: 01"), NOT_CANONICAL),
        (
            lambda m: m.replace(f"Dispute: {DISPUTE}", f"Dispute: {str(DISPUTE).upper()}"),
            NOT_A_CHALLENGE,
        ),
        (lambda m: m.replace("09:45:15Z", "09:45:15+00:00"), INVALID),
        (lambda m: m.replace("2026-03-01T09:45:15Z", "2026-02-30T09:45:15Z"), INVALID),
        (lambda m: m.replace("with support.wallet.example", "with evil.example"), NOT_A_CHALLENGE),
        (lambda m: m.replace(f"Nonce: {NONCE}", "Nonce: short"), INVALID),
        (
            lambda m: m.replace(
                "Expires At: 2026-03-01T09:45:15Z", "Expires At: 2026-03-05T09:45:15Z"
            ),
            INVALID,
        ),
        (
            lambda m: m.replace(str(DISPUTE), "abcdef12-1234-5678-1234-56781234567g"),
            NOT_A_CHALLENGE,
        ),
        (lambda m: m.replace("\n", "\r\n"), NOT_A_CHALLENGE),
        (lambda _: "", NOT_A_CHALLENGE),
        (lambda _: "hello", NOT_A_CHALLENGE),
        (lambda m: m.replace("support.wallet.example", "a" * 2000), NOT_A_CHALLENGE),
    ],
)
def test_anything_but_a_challenge_in_its_one_form_is_malformed(edit: Any, reason: str):
    with pytest.raises(MalformedSignature) as caught:
        WalletChallenge.parse(edit(challenge().message))
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.fields == ["message"]
    assert caught.value.errors[0]["message"].startswith(reason)


@pytest.mark.parametrize(
    ("length", "reason"), [(MAX_MESSAGE, INVALID), (MAX_MESSAGE + 1, NOT_A_CHALLENGE)]
)
def test_a_text_up_to_the_size_limit_is_read_and_a_longer_one_is_not(length: int, reason: str):
    message = challenge().message
    overlong = message.replace(NONCE, "x" * (length - len(message) + len(NONCE)))
    assert len(overlong) == length
    with pytest.raises(MalformedSignature) as caught:
        WalletChallenge.parse(overlong)
    assert caught.value.errors[0]["message"].startswith(reason)


@given(st.text(max_size=400))
def test_parsing_arbitrary_text_is_a_challenge_or_malformed(text: str):
    try:
        parsed = WalletChallenge.parse(text)
    except MalformedSignature:
        return
    assert parsed.message == text


# -- expiry and one use ---------------------------------------------------------------------


def test_a_challenge_is_live_until_its_expiry():
    issued = challenge()
    issued.require_unexpired(issued.expires_at - timedelta(microseconds=1))
    with pytest.raises(ChallengeExpired) as caught:
        issued.require_unexpired(issued.expires_at)
    assert caught.value.message == (
        "the challenge expired at 2026-03-01T09:45:15Z; ask for a new one"
    )
    assert caught.value.dispute_id == DISPUTE
    assert caught.value.actor == WALLET
    assert isinstance(caught.value, NotAuthorized)


@pytest.mark.parametrize("zoneless", ZONELESS)
def test_expiry_is_not_judged_on_a_time_without_a_zone(zoneless: datetime):
    with pytest.raises(InvalidInput) as caught:
        challenge().require_unexpired(zoneless)
    assert caught.value.errors == NO_ZONE


def test_a_nonce_is_accepted_once():
    issued = challenge()
    issued.require_unused(issued={NONCE}, used=set())
    with pytest.raises(ChallengeReused) as caught:
        issued.require_unused(issued={NONCE}, used={NONCE})
    assert caught.value.message == "this challenge was already answered; ask for a new one"
    assert caught.value.actor == WALLET
    assert caught.value.dispute_id == DISPUTE


def test_a_nonce_never_issued_for_the_dispute_is_refused():
    with pytest.raises(ChallengeReused) as caught:
        challenge().require_unused(issued={"another0123456789"}, used=set())
    assert caught.value.message == "this challenge was not issued for this dispute"
    assert caught.value.actor == WALLET
    assert caught.value.dispute_id == DISPUTE
