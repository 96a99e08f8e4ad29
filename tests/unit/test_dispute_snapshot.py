"""Release 0.1 snapshots are read field by field: a damaged one is refused, never read short."""

from __future__ import annotations

from typing import Any

import pytest

from dispute_engine.domain.dispute_snapshot import DisputeSnapshot

AT = "2026-11-21T09:00:00+00:00"
NOTE = ["alice", "called the exchange", AT]
NOTICE = ["acknowledgement", "en", "We received your claim.", AT]


def v1(notes: list[list[str]], notices: list[list[str]]) -> dict[str, Any]:
    return {"state": {"notes": notes, "notices": notices, "_sla_pending": []}}


def test_a_release_0_1_snapshot_names_its_notes_and_notices_fields():
    event_state = v1([NOTE], [NOTICE])
    DisputeSnapshot.upcast_v1_v2(event_state)
    assert event_state["state"] == {
        "notes": [{"author": "alice", "text": "called the exchange", "added_at": AT}],
        "notices": [
            {"template": "acknowledgement", "language": "en", "text": NOTICE[2], "sent_at": AT}
        ],
    }


@pytest.mark.parametrize(
    ("notes", "notices"),
    [([NOTE[:2]], [NOTICE]), ([[*NOTE, "extra"]], [NOTICE]), ([NOTE], [NOTICE[:3]])],
)
def test_a_release_0_1_snapshot_with_a_field_missing_or_extra_is_refused(
    notes: list[list[str]], notices: list[list[str]]
):
    with pytest.raises(ValueError, match="zip"):
        DisputeSnapshot.upcast_v1_v2(v1(notes, notices))
