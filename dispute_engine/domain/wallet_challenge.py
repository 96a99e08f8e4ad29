"""The one-time message a claimant signs with their wallet to prove they control it.

Human-readable (EIP-191 ``personal_sign`` shows it as text, in the style of EIP-4361), bound to
one dispute, one wallet, one chain and one site, with a nonce and an expiry. The text parses
back to the same challenge, so what the wallet signed is exactly what is checked.
Nonces and times are passed in: this module draws no randomness and reads no clock.
"""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import UTC, datetime, timedelta
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, Field, model_validator

from dispute_engine.domain.errors import (
    ChallengeExpired,
    ChallengeReused,
    InvalidInput,
    MalformedSignature,
)
from dispute_engine.domain.value_object import FieldError, ValueObject

DEFAULT_TTL = timedelta(minutes=15)
MAX_MESSAGE = 2048  # a challenge is ~500 characters; longer text is not one
MAX_TTL = timedelta(days=1)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _utc_second(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("must carry a time zone")
    # The message shows whole seconds in UTC; the challenge holds exactly what it shows.
    return when.astimezone(UTC).replace(microsecond=0)


def _require_zone(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput.of("now", "must carry a time zone")


Domain = Annotated[
    str,
    Field(max_length=253, pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$"),
]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Nonce = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
UtcSecond = Annotated[datetime, AfterValidator(_utc_second)]


class WalletChallenge(ValueObject):
    """A challenge for one dispute's claimed sender; ``message`` is the text to sign."""

    domain: Domain
    address: Address
    chain_id: Annotated[int, Field(gt=0, lt=2**53)]
    dispute_id: UUID
    nonce: Nonce
    issued_at: UtcSecond
    expires_at: UtcSecond

    @model_validator(mode="after")
    def _expires_after_issue(self) -> Self:
        if not self.issued_at < self.expires_at <= self.issued_at + MAX_TTL:
            raise FieldError("expires_at", f"must be after issued_at and within {MAX_TTL}")
        return self

    @classmethod
    def issue(
        cls,
        *,
        domain: str,
        address: str,
        chain_id: int,
        dispute_id: UUID,
        nonce: str,
        now: datetime,
        ttl: timedelta = DEFAULT_TTL,
    ) -> WalletChallenge:
        """A challenge valid from ``now`` for ``ttl``. Raises InvalidInput for any bad field."""
        _require_zone(now)
        return cls(
            domain=domain,
            address=address,
            chain_id=chain_id,
            dispute_id=dispute_id,
            nonce=nonce,
            issued_at=now,
            expires_at=now + ttl,
        )

    @property
    def message(self) -> str:
        """The text the claimant's wallet shows and signs."""
        return _TEMPLATE.format(
            domain=self.domain,
            address=self.address,
            chain_id=self.chain_id,
            dispute_id=self.dispute_id,
            nonce=self.nonce,
            issued_at=self.issued_at.strftime(_TIME),
            expires_at=self.expires_at.strftime(_TIME),
        )

    @classmethod
    def parse(cls, message: str) -> WalletChallenge:
        """The challenge a message states. Raises MalformedSignature unless it is exactly one."""
        found = _PATTERN.fullmatch(message) if len(message) <= MAX_MESSAGE else None
        if found is None:
            raise MalformedSignature.of("message", "is not a dispute-engine wallet challenge")
        fields: dict[str, object] = dict(found.groupdict())
        try:
            for name in ("issued_at", "expires_at"):
                fields[name] = datetime.strptime(str(fields[name]), _TIME).replace(tzinfo=UTC)
            challenge = cls.model_validate(fields)
        except (ValueError, InvalidInput) as exc:
            raise MalformedSignature.of("message", f"states an invalid challenge: {exc}") from None
        if challenge.message != message:  # one text per challenge: no second spelling to sign
            raise MalformedSignature.of("message", "is not in the canonical form")
        return challenge

    def require_unexpired(self, now: datetime) -> None:
        """Raises ChallengeExpired when ``now`` is at or past the expiry; InvalidInput for a
        time without a zone."""
        _require_zone(now)
        if now >= self.expires_at:
            raise ChallengeExpired(
                f"the challenge expired at {self.expires_at.strftime(_TIME)}; ask for a new one",
                actor=self.address,
                dispute_id=self.dispute_id,
            )

    def require_unused(self, *, issued: Container[str], used: Container[str]) -> None:
        """Raises ChallengeReused unless the nonce was issued for this dispute and not yet used.

        ``issued`` and ``used`` are the dispute's nonces, as its history records them.
        """
        if self.nonce in used:
            raise ChallengeReused(
                "this challenge was already answered; ask for a new one",
                actor=self.address,
                dispute_id=self.dispute_id,
            )
        if self.nonce not in issued:
            raise ChallengeReused(
                "this challenge was not issued for this dispute",
                actor=self.address,
                dispute_id=self.dispute_id,
            )


_TEMPLATE = (
    "{domain} asks you to prove that you control this wallet.\n"
    "\n"
    "Sign only if you filed dispute {dispute_id} with {domain}. "
    "Signing moves no funds and grants no approval.\n"
    "\n"
    "Wallet: {address}\n"
    "Chain ID: {chain_id}\n"
    "Dispute: {dispute_id}\n"
    "Nonce: {nonce}\n"
    "Issued At: {issued_at}\n"
    "Expires At: {expires_at}"
)
_PATTERN = re.compile(
    re.escape(_TEMPLATE)
    .replace(re.escape("{domain}"), r"(?P<domain>[^\s]+)", 1)
    .replace(re.escape("{domain}"), r"(?P=domain)")
    .replace(re.escape("{dispute_id}"), r"(?P<dispute_id>[0-9a-f-]{36})", 1)
    .replace(re.escape("{dispute_id}"), r"(?P=dispute_id)")
    .replace(re.escape("{address}"), r"(?P<address>[^\s]+)")
    .replace(re.escape("{chain_id}"), r"(?P<chain_id>[0-9]+)")
    .replace(re.escape("{nonce}"), r"(?P<nonce>[^\s]+)")
    .replace(re.escape("{issued_at}"), r"(?P<issued_at>[^\s]+)")
    .replace(re.escape("{expires_at}"), r"(?P<expires_at>[^\s]+)")
)
