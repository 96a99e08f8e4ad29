"""Hypothesis strategies for the domain's inputs."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from dispute_engine.domain.money import Money


def decimals() -> st.SearchStrategy[int]:
    """Decimals an asset may have."""
    return st.integers(min_value=0, max_value=18)


def money(
    asset: str = "TKN", decimals_: int = 6, max_units: int = 10**15
) -> st.SearchStrategy[Money]:
    """Positive exact amounts of one asset."""
    return st.integers(min_value=1, max_value=max_units).map(
        lambda units: Money(units, decimals_, asset)
    )


def amount_texts(decimals_: int = 6) -> st.SearchStrategy[str]:
    """Positive amounts as the strings a claimant types, within the asset's decimals."""
    return st.decimals(
        min_value=Decimal(1).scaleb(-decimals_),
        max_value=Decimal(10**9),
        places=decimals_,
        allow_nan=False,
        allow_infinity=False,
    ).map(lambda d: format(d, "f"))
