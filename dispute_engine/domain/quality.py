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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal, cast, get_args, overload

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
        for name in ("breaches", "reopens"):
            if getattr(self, name) < 0:
                raise InvalidInput.of(name, "must not be negative")

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
        return cls.of_sorted(sorted(times))

    @classmethod
    def of_sorted(cls, ordered: Sequence[timedelta]) -> Durations:
        """The figures of times already sorted."""
        if not ordered:
            return cls(0, None, None)
        return cls(len(ordered), median(ordered), percentile(ordered, 90))


class SortedTimes(Sequence[timedelta]):
    """Sorted times read one rank at a time from elsewhere (a database's index), in whole
    microseconds: :func:`median` and :func:`percentile` read three ranks, whatever the count.
    """

    def __init__(self, length: int, microseconds_at: Callable[[int], int]) -> None:
        self.length = length
        self.microseconds_at = microseconds_at

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> timedelta: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[timedelta]: ...
    def __getitem__(self, index: int | slice) -> timedelta | Sequence[timedelta]:
        if isinstance(index, slice):
            raise TypeError("sorted times are read one rank at a time")
        if not 0 <= index < self.length:
            raise IndexError(index)
        return timedelta(microseconds=self.microseconds_at(index))


@dataclass(frozen=True)
class Tally:
    """The counts behind one group's figures, however they were counted (rows or SQL)."""

    disputes: int
    rated: int
    satisfied: int  # ratings in SATISFIED
    breaches: int
    breached_disputes: int
    ever_resolved: int  # resolved now, or reopened after a resolution
    reopened: int

    @classmethod
    def of(cls, rows: Sequence[QualityRow]) -> Tally:
        """The counts of some rows."""
        ratings = [r.rating for r in rows if r.rating is not None]
        return cls(
            disputes=len(rows),
            rated=len(ratings),
            satisfied=sum(r in SATISFIED for r in ratings),
            breaches=sum(r.breaches for r in rows),
            breached_disputes=sum(r.breaches > 0 for r in rows),
            ever_resolved=sum(r.resolved_at is not None or r.reopens > 0 for r in rows),
            reopened=sum(r.reopens > 0 for r in rows),
        )


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
    return figures_of(
        Tally.of(rows),
        first_response=Durations.of(
            r.first_response_at - r.filed_at for r in rows if r.first_response_at is not None
        ),
        resolution=Durations.of(
            r.resolved_at - r.filed_at for r in rows if r.resolved_at is not None
        ),
    )


def figures_of(tally: Tally, *, first_response: Durations, resolution: Durations) -> QualityFigures:
    """The figures of one group from its counts and times: the one place the shares are made."""
    return QualityFigures(
        disputes=tally.disputes,
        rated=tally.rated,
        csat=tally.satisfied / tally.rated if tally.rated else None,
        first_response=first_response,
        resolution=resolution,
        breaches=tally.breaches,
        breached_disputes=tally.breached_disputes,
        reopen_rate=tally.reopened / tally.ever_resolved if tally.ever_resolved else None,
    )


def check_grouping(by: object) -> Grouping | None:
    """The grouping itself. Raises InvalidInput for an unknown one."""
    if by is not None and by not in GROUPINGS:
        raise InvalidInput.of("by", f"must be one of {', '.join(GROUPINGS)}")
    return cast(Grouping | None, by)


def quality_report(
    rows: Iterable[QualityRow], by: Grouping | None = None
) -> dict[str, QualityFigures]:
    """The figures of all rows (under ``all``), or per group, groups sorted by name.

    Raises InvalidInput for an unknown grouping.
    """
    check_grouping(by)
    groups: dict[str, list[QualityRow]] = defaultdict(list)
    for row in rows:
        groups[ALL if by is None else row.group(by)].append(row)
    return {name: figures(groups[name]) for name in sorted(groups)}
