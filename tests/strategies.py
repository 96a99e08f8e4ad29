"""Hypothesis strategies for the domain's inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from dispute_engine.domain.money import Money
from dispute_engine.domain.quality import QualityRow


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


def quality_rows() -> st.SearchStrategy[QualityRow]:
    """Rows a quality view may hold: answered, resolved, rated, breached or reopened, or not."""
    filed = st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    )
    later = st.one_of(st.none(), st.integers(min_value=0, max_value=90 * 86_400))
    return st.builds(
        lambda filed_at, response, resolution, **rest: QualityRow(
            filed_at=filed_at,
            first_response_at=None if response is None else filed_at + timedelta(seconds=response),
            resolved_at=None if resolution is None else filed_at + timedelta(seconds=resolution),
            **rest,
        ),
        filed_at=filed,
        response=later,
        resolution=later,
        channel=st.sampled_from(["app", "chat", "email", "social", "phone"]),
        language=st.sampled_from(["en", "zh", "es"]),
        investigator=st.sampled_from([None, "alice", "carol"]),
        reason=st.sampled_from(["not_received", "wrong_amount", "other"]),
        rating=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
        breaches=st.integers(min_value=0, max_value=3),
        reopens=st.integers(min_value=0, max_value=2),
    )
