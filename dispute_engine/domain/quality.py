"""How good the help was: claimant feedback and the quality report's figures, computed purely.

The figures per group (all disputes, or by channel, language, investigator or reason):

- CSAT: the share of ratings that are 4 or 5, among disputes rated.
- First-response and resolution times: median and 90th percentile (nearest rank: the smallest
  time that at least 90% of the times do not exceed).
- Breaches: SLA breaches recorded, and how many disputes had at least one.
- Reopen rate: the share of disputes ever resolved that were reopened at least once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal, get_args

from pydantic import Field

from dispute_engine.domain.claim import Channel
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.value_object import ValueObject

Grouping = Literal["channel", "language", "investigator", "reason"]
GROUPINGS: Final = get_args(Grouping)
ALL: Final = "all"
UNASSIGNED: Final = "unassigned"
MAX_COMMENT: Final = 2000
SATISFIED: Final = frozenset({4, 5})


class Feedback(ValueObject):
    """A claimant's answer to the satisfaction request. Raises InvalidInput.

    The comment is the claimant's own words: it is stored sealed, as personal data.
    """

    rating: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Annotated[
        str, Field(max_length=MAX_COMMENT, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
    ] = ""
    channel: Channel


@dataclass(frozen=True)
class QualityRow:
    """What the quality view holds for one dispute. Raises InvalidInput for impossible rows."""

    channel: str
    language: str
    investigator: str | None
    reason: str
    filed_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    rating: int | None = None
    breaches: int = 0
    reopens: int = 0

    def __post_init__(self) -> None:
        for name in ("filed_at", "first_response_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput.of(name, "must be timezone-aware")
        for name in ("first_response_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None and value < self.filed_at:
                raise InvalidInput.of(name, "must not be before filed_at")
        if self.rating is not None and self.rating not in range(1, 6):
            raise InvalidInput.of("rating", "must be 1 to 5")
        if self.breaches < 0 or self.reopens < 0:
            raise InvalidInput.of("breaches", "counts must not be negative")

    def group(self, by: Grouping) -> str:
        """The row's value of the grouping (``unassigned`` for no investigator)."""
        if by == "investigator":
            return self.investigator or UNASSIGNED
        value: str = getattr(self, by)
        return value


@dataclass(frozen=True)
class Durations:
    """The median and 90th percentile of some times (None when there are none)."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, times: Iterable[timedelta]) -> Durations:
        """The figures of the times, in any order."""
        ordered = sorted(times)
        if not ordered:
            return cls(0, None, None)
        return cls(len(ordered), median(ordered), percentile(ordered, 90))


@dataclass(frozen=True)
class QualityFigures:
    """The quality report's figures for one group of disputes."""

    disputes: int
    rated: int
    csat: float | None
    first_response: Durations
    resolution: Durations
    breaches: int
    breached_disputes: int
    reopen_rate: float | None


def median(ordered: Sequence[timedelta]) -> timedelta:
    """The middle of sorted times (the mean of the two middles for an even count)."""
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(ordered: Sequence[timedelta], p: int) -> timedelta:
    """The nearest-rank ``p``-th percentile of sorted times (one of the times)."""
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def figures(rows: Sequence[QualityRow]) -> QualityFigures:
    """The figures of one group of rows."""
    ratings = [r.rating for r in rows if r.rating is not None]
    ever_resolved = [r for r in rows if r.resolved_at is not None or r.reopens > 0]
    return QualityFigures(
        disputes=len(rows),
        rated=len(ratings),
        csat=sum(r in SATISFIED for r in ratings) / len(ratings) if ratings else None,
        first_response=Durations.of(
            r.first_response_at - r.filed_at for r in rows if r.first_response_at is not None
        ),
        resolution=Durations.of(
            r.resolved_at - r.filed_at for r in rows if r.resolved_at is not None
        ),
        breaches=sum(r.breaches for r in rows),
        breached_disputes=sum(r.breaches > 0 for r in rows),
        reopen_rate=(
            sum(r.reopens > 0 for r in ever_resolved) / len(ever_resolved)
            if ever_resolved
            else None
        ),
    )


def quality_report(
    rows: Iterable[QualityRow], by: Grouping | None = None
) -> dict[str, QualityFigures]:
    """The figures of all rows (under ``all``), or per group, groups sorted by name.

    Raises InvalidInput for an unknown grouping.
    """
    if by is not None and by not in GROUPINGS:
        raise InvalidInput.of("by", f"must be one of {', '.join(GROUPINGS)}")
    groups: dict[str, list[QualityRow]] = defaultdict(list)
    for row in rows:
        groups[ALL if by is None else row.group(by)].append(row)
    return {name: figures(groups[name]) for name in sorted(groups)}
