"""The audit log indexes each event's actor by canonical id, as auditors' questions are asked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from projections.audit_log import _actor


@pytest.mark.parametrize(
    ("recorded", "indexed"),
    [
        ("alice", "alice"),
        ("ALICE", "alice"),
        (" Alice ", "alice"),
        ("\uff41lice", "alice"),  # fullwidth a
        ("sla-checker", "sla-checker"),
    ],
)
def test_an_actor_recorded_under_any_spelling_is_indexed_by_canonical_id(
    recorded: str, indexed: str
):
    assert _actor(SimpleNamespace(actor=recorded)) == indexed


@pytest.mark.parametrize("recorded", ["", "ali\u200bce"])
def test_an_actor_that_is_nobodys_id_is_kept_as_recorded(recorded: str):
    assert _actor(SimpleNamespace(actor=recorded)) == recorded


def test_an_event_without_an_actor_is_indexed_under_the_empty_id():
    assert _actor(SimpleNamespace()) == ""
