"""The quality report's statistics hold for every set of rows (against simple references)."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.quality import (
    GROUPINGS,
    Durations,
    figures,
    median,
    percentile,
    quality_report,
)
from tests.strategies import quality_rows

seconds = st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=200)


@given(seconds)
def test_the_median_is_the_middle_of_the_sorted_times(values: list[int]):
    times = sorted(timedelta(seconds=v) for v in values)
    assert median(times).total_seconds() == statistics.median(values)


@given(seconds, st.integers(min_value=1, max_value=100))
def test_a_percentile_is_the_smallest_time_that_enough_times_do_not_exceed(
    values: list[int], p: int
):
    ordered = sorted(values)
    found = percentile([timedelta(seconds=v) for v in ordered], p).total_seconds()
    assert found in ordered
    assert sum(v <= found for v in ordered) * 100 >= p * len(ordered)
    assert sum(v < found for v in ordered) * 100 < p * len(ordered)
    assert found == ordered[math.ceil(p * len(ordered) / 100) - 1]


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=50), st.randoms())
def test_durations_do_not_depend_on_the_order_of_the_times(values: list[int], random):
    times = [timedelta(seconds=v) for v in values]
    shuffled = times[:]
    random.shuffle(shuffled)
    assert Durations.of(times) == Durations.of(shuffled)
    assert Durations.of(times).count == len(values)


@given(st.lists(quality_rows(), max_size=60))
def test_csat_breaches_and_reopen_rate_match_counting_by_hand(rows):
    found = figures(rows)
    ratings = [r.rating for r in rows if r.rating is not None]
    assert found.disputes == len(rows)
    assert found.rated == len(ratings)
    if ratings:
        assert found.csat == len([r for r in ratings if r >= 4]) / len(ratings)
        assert 0 <= found.csat <= 1
    else:
        assert found.csat is None
    assert found.breaches == sum(r.breaches for r in rows)
    assert found.breached_disputes == len([r for r in rows if r.breaches])
    resolved = [r for r in rows if r.resolved_at is not None or r.reopens]
    if resolved:
        assert found.reopen_rate == len([r for r in resolved if r.reopens]) / len(resolved)
    else:
        assert found.reopen_rate is None
    answered = sorted(r.first_response_at - r.filed_at for r in rows if r.first_response_at)
    assert found.first_response.count == len(answered)
    if answered:
        assert found.first_response.median is not None
        assert found.first_response.p90 is not None
        assert answered[0] <= found.first_response.median <= found.first_response.p90
        assert found.first_response.p90 <= answered[-1]


@given(st.lists(quality_rows(), max_size=60), st.sampled_from(GROUPINGS))
def test_every_group_is_the_report_of_its_own_rows(rows, by):
    report = quality_report(rows, by=by)
    assert sum(g.disputes for g in report.values()) == len(rows)
    assert list(report) == sorted(report)
    for name, found in report.items():
        assert found == figures([r for r in rows if r.group(by) == name])
    assert quality_report(rows) == ({"all": figures(rows)} if rows else {})
