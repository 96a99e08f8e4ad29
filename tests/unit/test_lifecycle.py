"""The one transition table drives the code, the messages and the docs."""

from __future__ import annotations

from pathlib import Path

from dispute_engine.domain.lifecycle import (
    OPEN,
    TERMINAL,
    TRANSITIONS,
    Action,
    Status,
    markdown_table,
    next_status,
    refusal,
)

DOC = Path(__file__).parents[2] / "docs" / "explanation" / "lifecycle.md"


def test_every_action_has_a_row_and_terminal_statuses_only_take_notes_links_and_erasure():
    assert set(TRANSITIONS) == set(Action)
    for status in TERMINAL:
        allowed = {a for a, row in TRANSITIONS.items() if status in row}
        # The claimant answers the satisfaction request after closing, and may ask to be
        # forgotten at any time; a link is a fact about the transaction. None changes the
        # status.
        assert allowed <= {
            Action.ADD_NOTE,
            Action.REOPEN,
            Action.RECORD_FEEDBACK,
            Action.FORGET_CLAIMANT,
            Action.LINK_CLAIM,
        }


def test_every_status_is_reachable_and_open_statuses_can_end():
    reachable = {Status.FILED}
    for _ in Status:
        reachable |= {
            target for row in TRANSITIONS.values() for s, target in row.items() if s in reachable
        }
    assert reachable == set(Status)
    assert all(
        next_status(Action.WITHDRAW, s) or s in {Status.APPROVED, Status.RESOLVED} for s in OPEN
    )


def test_refusal_names_the_status_and_the_allowed_ones():
    assert refusal(Action.CLOSE, Status.FILED) == (
        "cannot close a dispute that is filed; allowed: resolved"
    )


def test_the_lifecycle_doc_shows_the_current_table():
    assert markdown_table() in DOC.read_text(encoding="utf-8")
