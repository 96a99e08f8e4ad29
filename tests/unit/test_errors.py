"""An error keeps the message and the fields it was raised with: callers read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from dispute_engine.domain import errors

DISPUTE = UUID("00000000-0000-4000-8000-000000000001")


# Built while the test runs (not when the module is collected), so a changed constructor shows.
@pytest.mark.parametrize(
    ("build", "message", "fields"),
    [
        (
            lambda: errors.InvalidTransition(
                "cannot close",
                action="close",
                status="filed",
                allowed=["withdraw"],
                dispute_id=DISPUTE,
            ),
            "cannot close",
            {"action": "close", "status": "filed", "allowed": ("withdraw",), "dispute_id": DISPUTE},
        ),
        (lambda: errors.ChainUnavailable("node down", chain_id=1), "node down", {"chain_id": 1}),
        (
            lambda: errors.CorruptHistory("unreadable", dispute_id=DISPUTE, version=3),
            "unreadable",
            {"dispute_id": DISPUTE, "version": 3},
        ),
        (
            lambda: errors.EvidenceAltered("changed", sha256="ab" * 32),
            "changed",
            {"sha256": "ab" * 32},
        ),
        (
            lambda: errors.StaffNotFound("no member", staff_id="carol"),
            "no member",
            {"staff_id": "carol"},
        ),
        (
            lambda: errors.PayoutRefused("over the limit", reason="per_day", dispute_id=DISPUTE),
            "over the limit",
            {"reason": "per_day", "dispute_id": DISPUTE},
        ),
        (
            lambda: errors.PersonalDataErased("forgotten", claimant_id="c-1"),
            "forgotten",
            {"claimant_id": "c-1"},
        ),
        (
            lambda: errors.FeedUnavailable("broker down", last_position=7),
            "broker down",
            {"last_position": 7},
        ),
    ],
    ids=lambda value: type(value()).__name__ if callable(value) else "",
)
def test_an_error_keeps_the_message_and_fields_it_was_raised_with(
    build: Callable[[], errors.DisputeEngineError], message: str, fields: dict[str, Any]
) -> None:
    error = build()
    assert (str(error), error.message) == (message, message)
    assert {name: getattr(error, name) for name in fields} == fields


def test_invalid_input_lists_every_problem_in_its_message():
    error = errors.InvalidInput(
        [
            {"field": "amount", "message": "must be positive"},
            {"field": "asset", "message": "unknown"},
        ]
    )
    assert str(error) == "invalid input: amount: must be positive; asset: unknown"
    assert error.fields == ["amount", "asset"]
