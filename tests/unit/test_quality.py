"""Feedback values and the quality report's figures on hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispute_engine.domain.quality import (
    ALL,
    GROUPINGS,
    Durations,
    Feedback,
    Grouping,
    QualityFigures,
    QualityRow,
    SortedTimes,
    Tally,
    check_grouping,
    figures,
    figures_of,
    quality_report,
)
from dispute_engine.errors import InvalidInput

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def row(**overrides: Any) -> QualityRow:
    fields: dict[str, Any] = {
        "channel": "chat",
        "language": "en",
        "investigator": "alice",
        "reason": "not_received",
        "filed_at": T0,
        **overrides,
    }
    return QualityRow(**fields)


def test_feedback_takes_a_rating_a_comment_and_a_channel():
    feedback = Feedback(rating=5, comment="  quick and kind  ", channel="email")
    assert (feedback.rating, feedback.comment, feedback.channel) == (5, "quick and kind", "email")
    assert Feedback(rating=1, channel="app").comment == ""


@pytest.mark.parametrize(
    ("fields", "at_fault"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": True}, "rating"),
        ({"rating": 4.0}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"rating": None}, "rating"),
        ({"comment": "x" * 2001}, "comment"),
        ({"comment": "bell\x07"}, "comment"),
        ({"comment": 5}, "comment"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": None}, "channel"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_feedback_is_invalid_input_naming_the_field(fields: dict[str, Any], at_fault: str):
    with pytest.raises(InvalidInput) as caught:
        Feedback(**{"rating": 4, "channel": "chat", **fields})
    assert caught.value.fields == [at_fault]


def test_a_comment_of_the_longest_length_is_accepted():
    assert len(Feedback(rating=3, comment="é" * 2000, channel="chat").comment) == 2000


def test_figures_of_a_small_desk():
    rows = [
        row(
            first_response_at=T0 + timedelta(minutes=m),
            rating=r,
            breaches=b,
            reopens=o,
            resolved_at=T0 + timedelta(hours=h) if h else None,
        )
        for m, r, b, o, h in [
            (10, 5, 0, 0, 2),
            (20, 4, 1, 0, 4),
            (30, 2, 0, 1, None),
            (40, None, 2, 0, 8),
        ]
    ]
    (found,) = quality_report(rows).values()
    assert found.csat == 2 / 3
    assert found.first_response.median == timedelta(minutes=25)
    assert found.first_response.p90 == timedelta(minutes=40)
    assert found.resolution.median == timedelta(hours=4)
    assert (found.breaches, found.breached_disputes) == (3, 2)
    assert found.reopen_rate == 1 / 4


def test_disputes_without_an_investigator_group_as_unassigned():
    report = quality_report([row(investigator=None), row()], by="investigator")
    assert {k: v.disputes for k, v in report.items()} == {"alice": 1, "unassigned": 1}


def test_an_unknown_grouping_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        quality_report([row()], by="colour")  # type: ignore[arg-type]
    assert caught.value.fields == ["by"]


@pytest.mark.parametrize(
    "fields",
    [
        {"filed_at": datetime(2026, 11, 2, 9, 0)},
        {"first_response_at": T0 - timedelta(seconds=1)},
        {"resolved_at": T0 - timedelta(days=1)},
        {"rating": 9},
        {"breaches": -1},
    ],
)
def test_an_impossible_row_is_invalid_input(fields: dict[str, Any]):
    with pytest.raises(InvalidInput):
        row(**fields)


AWARE = "must be timezone-aware"
NOT_BEFORE = "must not be before filed_at"


@pytest.mark.parametrize(
    ("fields", "at_fault", "message"),
    [
        ({"filed_at": datetime(2026, 11, 2, 9, 0)}, "filed_at", AWARE),
        ({"first_response_at": datetime(2026, 11, 2, 10, 0)}, "first_response_at", AWARE),
        ({"resolved_at": datetime(2026, 11, 2, 10, 0)}, "resolved_at", AWARE),
        ({"first_response_at": T0 - timedelta(microseconds=1)}, "first_response_at", NOT_BEFORE),
        ({"resolved_at": T0 - timedelta(microseconds=1)}, "resolved_at", NOT_BEFORE),
        ({"rating": 0}, "rating", "must be 1 to 5"),
        ({"rating": 6}, "rating", "must be 1 to 5"),
        ({"breaches": -1}, "breaches", "must not be negative"),
        ({"reopens": -1}, "reopens", "must not be negative"),
    ],
)
def test_an_impossible_row_names_the_field_at_fault_and_why(
    fields: dict[str, Any], at_fault: str, message: str
):
    with pytest.raises(InvalidInput) as caught:
        row(**fields)
    assert caught.value.errors == [{"field": at_fault, "message": message}]


def test_the_edges_of_a_possible_row_are_accepted():
    for rating in (1, 5):
        assert row(rating=rating).rating == rating
    same_instant = row(first_response_at=T0, resolved_at=T0, breaches=0, reopens=0)
    assert quality_report([same_instant])[ALL].resolution.median == timedelta(0)


@pytest.mark.parametrize("by", GROUPINGS)
def test_each_grouping_groups_by_its_own_field(by: Grouping):
    rows = [
        row(channel="app", language="zh", investigator="carol", reason="other"),
        row(),
        row(),
    ]
    report = quality_report(rows, by=by)
    assert {name: found.disputes for name, found in report.items()} == {
        getattr(rows[0], by): 1,
        getattr(rows[1], by): 2,
    }


def test_an_empty_desk_has_no_groups_and_check_grouping_returns_the_grouping():
    assert quality_report([]) == {}
    assert quality_report([], by="channel") == {}
    assert check_grouping(None) is None
    assert check_grouping("reason") == "reason"


def test_an_unknown_grouping_names_the_groupings_there_are():
    with pytest.raises(InvalidInput) as caught:
        check_grouping("colour")
    assert caught.value.errors[0]["message"] == (
        "must be one of channel, language, investigator, reason"
    )


def test_a_group_with_nothing_rated_answered_or_resolved_has_no_shares_or_times():
    found = figures([row(), row(breaches=2)])
    assert found == QualityFigures(
        disputes=2,
        rated=0,
        csat=None,
        first_response=Durations(0, None, None),
        resolution=Durations(0, None, None),
        breaches=2,
        breached_disputes=1,
        reopen_rate=None,
    )


def test_only_ratings_of_four_or_five_count_as_satisfied():
    found = figures([row(rating=r) for r in (1, 2, 3, 4, 5)])
    assert (found.rated, found.csat) == (5, 2 / 5)


def test_a_dispute_reopened_and_not_yet_resolved_again_counts_as_ever_resolved():
    tally = Tally.of([row(reopens=1), row(resolved_at=T0 + timedelta(hours=1)), row()])
    assert (tally.ever_resolved, tally.reopened) == (2, 1)
    assert figures_of(tally, first_response=Durations.of([]), resolution=Durations.of([])) == (
        QualityFigures(
            disputes=3,
            rated=0,
            csat=None,
            first_response=Durations(0, None, None),
            resolution=Durations(0, None, None),
            breaches=0,
            breached_disputes=0,
            reopen_rate=1 / 2,
        )
    )


def test_times_are_measured_from_filing():
    later = T0 + timedelta(days=3)
    found = figures(
        [
            row(
                filed_at=later,
                first_response_at=later + timedelta(minutes=5),
                resolved_at=later + timedelta(hours=7),
            )
        ]
    )
    assert found.first_response == Durations(1, timedelta(minutes=5), timedelta(minutes=5))
    assert found.resolution == Durations(1, timedelta(hours=7), timedelta(hours=7))


@pytest.mark.parametrize(
    ("minutes", "expected_median", "expected_p90"),
    [
        ([7], 7, 7),
        ([1, 3], 2, 3),
        ([1, 2, 9], 2, 9),
        (list(range(1, 11)), 5.5, 9),
        (list(range(1, 12)), 6, 10),
        (list(range(1, 20)), 10, 18),
    ],
)
def test_median_and_p90_of_a_few_times(
    minutes: list[int], expected_median: float, expected_p90: int
):
    found = Durations.of(reversed([timedelta(minutes=m) for m in minutes]))
    assert found == Durations(
        len(minutes), timedelta(minutes=expected_median), timedelta(minutes=expected_p90)
    )


def test_sorted_times_are_read_one_rank_at_a_time_in_microseconds():
    read: list[int] = []

    def at(rank: int) -> int:
        read.append(rank)
        return (rank + 1) * 1_000_000

    times = SortedTimes(5, at)
    assert len(times) == 5
    assert Durations.of_sorted(times) == Durations(5, timedelta(seconds=3), timedelta(seconds=5))
    assert sorted(read) == [2, 4]
    assert times[0] == timedelta(seconds=1)
    for outside in (-1, 5):
        with pytest.raises(IndexError):
            times[outside]
    with pytest.raises(TypeError, match=r"^sorted times are read one rank at a time$"):
        times[1:3]
