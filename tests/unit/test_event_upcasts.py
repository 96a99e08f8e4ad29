"""Events stored by earlier releases read with the fields later versions added, at the value
that says what the earlier release did."""

from __future__ import annotations

from typing import Any

import pytest

from dispute_engine.domain import events
from dispute_engine.domain.events import EVENT_CLASSES, DisputeEvent

# (event class, version stored, the fields reading it adds); tuples: the first run of a
# mutation test must not be able to change them for later runs.
OLD_VERSIONS = (
    (events.Filed, 1, (("checklist_version", None),)),
    (events.DecisionProposed, 1, (("overrides", []), ("approvals_required", 1))),
    (events.DecisionProposed, 2, (("approvals_required", 1),)),
    (events.DecisionApproved, 1, (("signature", None),)),
    (events.DecisionSentBack, 1, (("signature", None),)),
    (events.DecisionExecuted, 1, (("signature", None),)),
    (events.ClaimantNotified, 1, (("subject", None),)),
)


def upcast(cls: type[DisputeEvent], version: int, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` as the event store's mapper reads an event of ``cls`` stored at ``version``."""
    while version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state


@pytest.mark.parametrize(("cls", "version", "added"), OLD_VERSIONS)
def test_an_old_event_reads_with_the_fields_added_since(
    cls: type[DisputeEvent], version: int, added: tuple[tuple[str, object], ...]
):
    stored = {"actor": "alice", "status": "open"}
    assert upcast(cls, version, dict(stored)) == {**stored, **dict(added)}


def test_every_versioned_event_has_its_old_versions_covered():
    covered = {(cls, version) for cls, version, _ in OLD_VERSIONS}
    expected = {
        (cls, version)
        for cls in EVENT_CLASSES
        for version in range(1, getattr(cls, "class_version", 1))
    }
    assert covered == expected
