"""Feedback values and the quality report's figures on hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispute_engine.domain.quality import Feedback, QualityRow, quality_report
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
