"""Work routing's rules, in memory: who is offered which dispute, most urgent first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispute_engine.domain.actor import Role
from dispute_engine.domain.routing import QueueEntry, route

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def entry(name: str, **changes: object) -> QueueEntry:
    fields: dict[str, object] = {
        "dispute_id": name,
        "status": "filed",
        "assignee": None,
        "language": "zh",
        "priority_rank": 2,
        "filed_at": T0,
        "due_at": T0 + timedelta(hours=4),
    }
    fields.update(changes)
    return QueueEntry(**fields)  # type: ignore[arg-type]


def routed(
    *entries: QueueEntry, roles: set[Role], languages: tuple[str, ...] = ("zh",)
) -> list[str]:
    return route(entries, staff_id="alice", roles=roles, languages=languages, limit=10)


def test_soonest_due_first_then_priority_then_age_and_no_clock_last():
    entries = (
        entry("no-clock", due_at=None, priority_rank=0),
        entry("later", due_at=T0 + timedelta(hours=8)),
        entry("urgent", priority_rank=0),
        entry("normal-old", filed_at=T0 - timedelta(hours=1)),
        entry("normal"),
    )
    assert routed(*entries, roles={Role.INVESTIGATOR}) == [
        "urgent",
        "normal-old",
        "normal",
        "later",
        "no-clock",
    ]


def test_investigators_get_their_own_or_nobodys_undecided_disputes():
    entries = (
        entry("mine", assignee="alice"),
        entry("bobs", assignee="bob"),
        entry("waiting", status="pending_approval"),
        entry("closed", status="closed"),
    )
    assert routed(*entries, roles={Role.INVESTIGATOR}) == ["mine"]
    assert routed(*entries, roles={Role.APPROVER}) == ["waiting"]
    assert routed(*entries, roles={Role.AUDITOR, Role.ADMIN}) == []


def test_a_language_covers_its_regional_forms_not_the_reverse():
    entries = (entry("hant", language="zh-Hant"), entry("es", language="es"))
    assert routed(*entries, roles={Role.INVESTIGATOR}) == ["hant"]
    assert routed(*entries, roles={Role.INVESTIGATOR}, languages=("zh-Hans",)) == []


def test_the_queue_is_cut_at_the_limit():
    entries = [entry(f"d{n}", due_at=T0 + timedelta(minutes=n)) for n in range(5)]
    assert route(
        entries, staff_id="alice", roles={Role.INVESTIGATOR}, languages=["zh"], limit=2
    ) == [
        "d0",
        "d1",
    ]


def test_a_member_with_both_working_roles_gets_both_kinds_of_work():
    entries = (
        entry("undecided"),
        entry("waiting", status="pending_approval"),
        entry("to-pay", status="approved"),
        entry("bobs", assignee="bob"),
    )
    both = {Role.INVESTIGATOR, Role.APPROVER}
    assert sorted(routed(*entries, roles=both)) == ["to-pay", "undecided", "waiting"]
