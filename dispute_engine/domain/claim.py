"""What the claimant says happened: validated value objects."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal, Self
from uuid import UUID

from eth_utils.address import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, model_validator

from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.money import MAX_DECIMALS, AmountError, Money, asset_decimals
from dispute_engine.domain.value_object import FieldError, ValueObject

Channel = Literal["app", "chat", "email", "social", "phone"]
Priority = Literal["low", "normal", "high", "urgent"]
PRIORITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}  # queue order
Reason = Literal[
    "not_received",
    "wrong_recipient",
    "wrong_amount",
    "duplicate",
    "unauthorized",
    "failed_but_debited",
    "other",
]

_TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BCP47 = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_JURISDICTION = re.compile(r"[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?")
_NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _tx_hash(value: str) -> str:
    # web3 silently zero-pads a short hash, which would look up some other transaction.
    if not _TX_HASH.fullmatch(value):
        raise ValueError("must be 0x followed by exactly 64 hex digits")
    return value.lower()


@lru_cache(maxsize=65536)  # checksums cost a keccak each; the same addresses recur a lot
def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise ValueError("must be 0x followed by 40 hex digits")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise ValueError("mixed-case address fails its EIP-55 checksum")
    return str(to_checksum_address(value))


PSEUDONYM_DOMAIN = "dispute-engine/address-pseudonym/v1"


def address_pseudonym(dispute_id: UUID, address: str) -> str:
    """The address a dispute records in place of the claimant's own ``address``: an EIP-55
    address drawn from sha256 over a domain tag, the dispute id and the address in lower case.

    The same dispute and address always give the same pseudonym; another dispute gives
    another, so two disputes of one wallet do not show it as one. Raises ValueError when
    ``address`` is not an address.
    """
    text = f"{PSEUDONYM_DOMAIN}\n{dispute_id}\n{_address(address).lower()}"
    return _address("0x" + hashlib.sha256(text.encode("ascii")).digest()[:20].hex())


def _language(value: str) -> str:
    if not _BCP47.fullmatch(value):
        raise ValueError("must be a BCP 47 language tag such as en, zh-CN or es-419")
    primary, *rest = value.split("-")
    subtags = [s.upper() if len(s) == 2 else s.title() if len(s) == 4 else s for s in rest]
    return "-".join([primary.lower(), *subtags])


def _jurisdiction(value: str) -> str:
    if not _JURISDICTION.fullmatch(value):
        raise ValueError("must be an ISO 3166 country code, optionally with a region: US, US-CA")
    return value.upper()


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _exact(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("amounts are exact: pass a string or Decimal, not a float")
    return value


TxHash = Annotated[str, AfterValidator(_tx_hash)]
Address = Annotated[str, AfterValidator(_address)]
Language = Annotated[str, Field(max_length=35), AfterValidator(_language)]
Jurisdiction = Annotated[str, AfterValidator(_jurisdiction)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
ExactDecimal = Annotated[Decimal, BeforeValidator(_exact)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=_NO_CONTROL)]
LongText = Annotated[str, Field(min_length=1, max_length=4000, pattern=_NO_CONTROL)]
AssetSymbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9.]{1,16}$"), AfterValidator(str.upper)]


class ClaimedTransaction(ValueObject):
    """The transaction the claimant disputes, as the claimant describes it."""

    chain_id: Annotated[int, Field(gt=0, lt=2**53)]
    tx_hash: TxHash
    asset: AssetSymbol
    token_address: Address | None = None
    decimals: Annotated[int, Field(ge=0, le=MAX_DECIMALS)] | None = None
    amount: ExactDecimal
    sender: Address
    recipient: Address
    occurred_at: UtcDatetime

    @model_validator(mode="after")
    def _amount_fits_the_asset(self) -> Self:
        decimals = self.decimals
        if decimals is None:
            decimals = asset_decimals(self.asset, self.chain_id)
            if decimals is None:
                raise FieldError("decimals", f"unknown asset {self.asset}: give its decimals")
            object.__setattr__(self, "decimals", decimals)
        try:
            money = Money.parse(self.amount, asset=self.asset, decimals=decimals)
        except AmountError as exc:
            raise FieldError("amount", str(exc)) from None
        object.__setattr__(self, "amount", money.amount)
        return self

    def with_known_decimals(self, known: int | None) -> ClaimedTransaction:
        """The transaction counted in the decimals the chain's registry knows for its asset.

        Decimals are never the claimant's to choose: a given value that differs from the
        known one is refused; one filled in from the asset's symbol is replaced by it.
        Raises InvalidInput (``transaction.decimals``, or ``transaction.amount`` when the
        amount has more places than the asset).
        """
        if known is None or known == self.decimals:
            return self
        if "decimals" in self.model_fields_set:
            raise InvalidInput.of(
                "transaction.decimals",
                f"{self.asset} has {known} decimals on chain {self.chain_id}, not {self.decimals}",
            )
        data = self.model_dump()
        try:
            return ClaimedTransaction.model_validate({**data, "decimals": known})
        except InvalidInput as exc:
            raise InvalidInput(
                [{**e, "field": f"transaction.{e['field']}"} for e in exc.errors]
            ) from None

    @property
    def money(self) -> Money:
        """The claimed amount as exact base units."""
        assert self.decimals is not None  # filled in by validation
        return Money.parse(self.amount, asset=self.asset, decimals=self.decimals)


class Claim(ValueObject):
    """What one claimant says happened to one transaction, and how to reach them."""

    claimant_id: ShortText
    channel: Channel
    language: Language = "en"
    jurisdiction: Jurisdiction | None = None
    priority: Priority = "normal"
    reason: Reason
    transaction: ClaimedTransaction
    description: LongText
    # How to reach the claimant on their channel (an email address, a phone number, a chat
    # handle), when the desk holds it: personal data, sealed like the description.
    contact: ShortText | None = None
