"""Work routing's rules: which disputes a member takes next, in which order.

Investigators work the disputes not yet decided that are theirs or nobody's, approvers the ones
waiting for a second pair of eyes or for payment, each in the languages they serve; the soonest
SLA due time comes first (a dispute without a counting clock last), then priority, then age.
The work-queue view answers this in SQL; :func:`route` answers it from disputes in memory,
where no view can be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dispute_engine.domain.actor import Role
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.staff import serves

WORK: dict[Role, frozenset[Status]] = {
    Role.INVESTIGATOR: frozenset({Status.FILED, Status.INVESTIGATING}),
    Role.APPROVER: frozenset({Status.PENDING_APPROVAL, Status.APPROVED}),
}
# Clocks that still count towards a deadline: a breached clock is the most urgent of all.
COUNTING_CLOCKS = ("running", "breached")


@dataclass(frozen=True)
class QueueEntry:
    """What routing needs to know of one dispute."""

    dispute_id: str
    status: str
    assignee: str | None
    language: str
    priority_rank: int
    filed_at: datetime
    due_at: datetime | None  # the soonest due time of its counting clocks


def offered(
    entry: QueueEntry, *, staff_id: str, roles: Iterable[Role], languages: Iterable[str]
) -> bool:
    """Whether the member (canonical ``staff_id``) may take the dispute next."""
    held = set(roles)
    for role, statuses in WORK.items():
        if role not in held or entry.status not in statuses:
            continue
        if role is Role.INVESTIGATOR and entry.assignee not in (None, staff_id):
            continue
        return serves(languages, entry.language)
    return False


def route(
    entries: Iterable[QueueEntry],
    *,
    staff_id: str,
    roles: Iterable[Role],
    languages: Iterable[str],
    limit: int,
) -> list[str]:
    """The ids of the disputes the member takes next, most urgent first, at most ``limit``."""
    held, spoken = set(roles), tuple(languages)
    chosen = [e for e in entries if offered(e, staff_id=staff_id, roles=held, languages=spoken)]
    chosen.sort(
        key=lambda e: (
            e.due_at is None,
            e.due_at or e.filed_at,
            e.priority_rank,
            e.filed_at,
            e.dispute_id,
        )
    )
    return [e.dispute_id for e in chosen[:limit]]
