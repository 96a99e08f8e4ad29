"""Exact amounts: integer base units plus the asset's decimals, never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

# The largest value an EVM token balance can hold (uint256).
MAX_UNITS = 2**256 - 1
MAX_DECIMALS = 36

# Decimals of well-known assets; (chain id, asset) overrides where a chain's token differs.
ASSET_DECIMALS: dict[str, int] = {
    "ETH": 18,
    "WETH": 18,
    "BNB": 18,
    "POL": 18,
    "MATIC": 18,
    "ARB": 18,
    "OP": 18,
    "DAI": 18,
    "USDT": 6,
    "USDC": 6,
    "WBTC": 8,
}
CHAIN_ASSET_DECIMALS: dict[tuple[int, str], int] = {
    (56, "USDT"): 18,
    (56, "USDC"): 18,
}

_EXACT = Context(prec=200)


class AmountError(ValueError):
    """Raised when an amount is not a positive, finite, exactly representable quantity."""


def asset_decimals(asset: str, chain_id: int | None = None) -> int | None:
    """The decimals of a known asset on a chain, or None when the asset is unknown."""
    key = asset.upper()
    if chain_id is not None and (chain_id, key) in CHAIN_ASSET_DECIMALS:
        return CHAIN_ASSET_DECIMALS[(chain_id, key)]
    return ASSET_DECIMALS.get(key)


@dataclass(frozen=True, order=True)
class Money:
    """An exact, non-negative amount of one asset, held as integer base units."""

    units: int
    decimals: int
    asset: str

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise AmountError(f"decimals must be 0..{MAX_DECIMALS}, got {self.decimals}")
        if not 0 <= self.units <= MAX_UNITS:
            raise AmountError("amount is out of range")

    @classmethod
    def parse(cls, value: Decimal | str | int, *, asset: str, decimals: int) -> Money:
        """A positive amount in the asset's units, e.g. ``"125.50"`` USDT.

        Raises AmountError for zero, negatives, NaN, infinity, exponent overflow and more
        fractional digits than the asset has.
        """
        if isinstance(value, float):
            raise AmountError("amounts are exact: pass a string or Decimal, not a float")
        try:
            amount = Decimal(value) if not isinstance(value, Decimal) else value
        except (InvalidOperation, ValueError) as exc:
            raise AmountError(f"not a number: {value!r}") from exc
        if not amount.is_finite():
            raise AmountError("amount must be a finite number")
        if amount <= 0:
            raise AmountError("amount must be greater than zero")
        if amount.adjusted() > 78:
            raise AmountError("amount is out of range")
        exponent = amount.as_tuple().exponent
        assert isinstance(exponent, int)  # finite amounts have an integer exponent
        places = Decimal(1).scaleb(-decimals)
        if -exponent > decimals and amount != amount.quantize(places, context=_EXACT):
            raise AmountError(f"{asset} has {decimals} decimals; {value} has more")
        units = int(amount.scaleb(decimals, context=_EXACT))
        return cls(units=units, decimals=decimals, asset=asset)

    @classmethod
    def zero(cls, *, asset: str, decimals: int) -> Money:
        """Nothing of the asset."""
        return cls(units=0, decimals=decimals, asset=asset)

    @property
    def amount(self) -> Decimal:
        """The amount in the asset's units, exact, without trailing zeros or an exponent."""
        value = Decimal(self.units).scaleb(-self.decimals, context=_EXACT).normalize(_EXACT)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:  # 1E+2 reads as 100
            value = value.quantize(Decimal(1), context=_EXACT)
        return value

    def __add__(self, other: Money) -> Money:
        self._require_same_asset(other)
        return Money(self.units + other.units, self.decimals, self.asset)

    def __sub__(self, other: Money) -> Money:
        self._require_same_asset(other)
        if other.units > self.units:
            raise AmountError("the result would be negative")
        return Money(self.units - other.units, self.decimals, self.asset)

    def _require_same_asset(self, other: Money) -> None:
        if (self.asset, self.decimals) != (other.asset, other.decimals):
            raise AmountError(f"cannot combine {self.asset} and {other.asset}")

    def __str__(self) -> str:
        return f"{self.amount:f} {self.asset}"
