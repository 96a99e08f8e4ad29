"""Work routing: the most urgent disputes a member can move on, in the languages they serve.

Read from two views, the work queue (status, assignee, language, priority) and the SLA clocks
(when each dispute is next due), so routing needs no view of its own. The rules are
:mod:`dispute_engine.domain.routing`'s.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispute_engine.database import Database
from dispute_engine.domain.actor import Role
from dispute_engine.domain.routing import COUNTING_CLOCKS, WORK


def next_disputes(
    db: Database,
    *,
    staff_id: str,
    roles: Iterable[Role],
    languages: Iterable[str],
    limit: int,
) -> list[str]:
    """Dispute ids for a member, soonest SLA due time first, then priority, then age.

    ``staff_id`` is canonical; ``languages`` are canonical BCP 47 tags, each also covering its
    subtags (``zh`` covers ``zh-Hant``). A dispute with no counting clock comes after those
    with one. Investigators see disputes assigned to them or to no one.
    """
    held = set(roles)
    tags = sorted(set(languages))
    if not tags or limit < 1:
        return []
    who: list[str] = []
    params: list[object] = []
    for role, statuses in sorted(WORK.items()):
        if role not in held:
            continue
        marks = ", ".join("?" for _ in statuses)
        clause = f"q.status IN ({marks})"
        params += sorted(statuses)
        if role == Role.INVESTIGATOR:
            clause += " AND (q.assignee IS NULL OR q.assignee = ?)"
            params.append(staff_id)
        who.append(f"({clause})")
    if not who:
        return []
    spoken = " OR ".join("q.language = ? OR q.language LIKE ?" for _ in tags)
    for tag in tags:
        params += [tag, f"{tag}-%"]
    queue, clocks = db.table("work_queue"), db.table("sla_clocks")
    rows = db.fetchall(
        f"SELECT q.dispute_id, MIN(c.due_at) AS due FROM {queue} q "
        f"LEFT JOIN {clocks} c ON c.dispute_id = q.dispute_id "
        f"AND c.state IN ({', '.join('?' for _ in COUNTING_CLOCKS)}) AND c.due_at IS NOT NULL "
        f"WHERE ({' OR '.join(who)}) AND ({spoken}) "
        "GROUP BY q.dispute_id, q.priority_rank, q.filed_at "
        "ORDER BY MIN(c.due_at) IS NULL, MIN(c.due_at), q.priority_rank, q.filed_at, "
        "q.dispute_id LIMIT ?",
        [*COUNTING_CLOCKS, *params, limit],
    )
    return [str(r["dispute_id"]) for r in rows]
