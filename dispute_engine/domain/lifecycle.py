"""Dispute statuses and the one table of allowed transitions.

Code, error messages and ``docs/explanation/lifecycle.md`` are all derived from
:data:`TRANSITIONS`.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a dispute is in its life."""

    FILED = "filed"
    INVESTIGATING = "investigating"
    AWAITING_CLAIMANT = "awaiting_claimant"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    """Everything that can happen to a dispute after it is filed."""

    ASSIGN = "assign"
    VERIFY_IDENTITY = "verify_identity"
    REQUEST_EVIDENCE = "request_evidence"
    ADD_EVIDENCE = "add_evidence"
    RECEIVE_CLAIMANT_EVIDENCE = "receive_claimant_evidence"
    ADD_NOTE = "add_note"
    LOOK_UP_TRANSACTION = "look_up_transaction"
    PROPOSE_DECISION = "propose_decision"
    PROPOSE_REJECTION = "propose_rejection"
    APPROVE_DECISION = "approve_decision"
    SEND_BACK = "send_back"
    EXECUTE_DECISION = "execute_decision"
    NOTIFY_CLAIMANT = "notify_claimant"
    CLOSE = "close"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"
    RECORD_SLA = "record_sla"
    RECORD_CONTACT = "record_contact"
    ESCALATE = "escalate"
    LINK_CLAIM = "link_claim"
    GRANT_PROVISIONAL_CREDIT = "grant_provisional_credit"
    RECORD_FEEDBACK = "record_feedback"
    FORGET_CLAIMANT = "forget_claimant"


S = Status
OPEN: frozenset[Status] = frozenset(
    {S.FILED, S.INVESTIGATING, S.AWAITING_CLAIMANT, S.PENDING_APPROVAL, S.APPROVED, S.RESOLVED}
)
TERMINAL: frozenset[Status] = frozenset({S.CLOSED, S.WITHDRAWN})
_WORKING = (S.FILED, S.INVESTIGATING, S.AWAITING_CLAIMANT)


def _stay(*statuses: Status) -> dict[Status, Status]:
    return {s: s for s in statuses}


# (action) -> {from status: to status}. A status missing from an action's row refuses it.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.ASSIGN: {
        S.FILED: S.INVESTIGATING,
        **_stay(S.INVESTIGATING, S.AWAITING_CLAIMANT, S.PENDING_APPROVAL, S.APPROVED),
    },
    Action.VERIFY_IDENTITY: {
        S.FILED: S.INVESTIGATING,
        **_stay(S.INVESTIGATING, S.AWAITING_CLAIMANT),
    },
    Action.REQUEST_EVIDENCE: dict.fromkeys(_WORKING, S.AWAITING_CLAIMANT),
    Action.ADD_EVIDENCE: _stay(*_WORKING),
    Action.RECEIVE_CLAIMANT_EVIDENCE: {
        S.AWAITING_CLAIMANT: S.INVESTIGATING,
        **_stay(S.FILED, S.INVESTIGATING),
    },
    Action.ADD_NOTE: _stay(*Status),
    Action.LOOK_UP_TRANSACTION: _stay(*_WORKING, S.PENDING_APPROVAL, S.APPROVED, S.RESOLVED),
    Action.PROPOSE_DECISION: {S.INVESTIGATING: S.PENDING_APPROVAL},
    Action.PROPOSE_REJECTION: {S.INVESTIGATING: S.RESOLVED},
    Action.APPROVE_DECISION: {S.PENDING_APPROVAL: S.APPROVED},
    Action.SEND_BACK: {S.PENDING_APPROVAL: S.INVESTIGATING},
    Action.EXECUTE_DECISION: {S.APPROVED: S.RESOLVED},
    Action.NOTIFY_CLAIMANT: _stay(*OPEN),
    Action.CLOSE: {S.RESOLVED: S.CLOSED},
    Action.REOPEN: {S.RESOLVED: S.INVESTIGATING, S.CLOSED: S.INVESTIGATING},
    Action.WITHDRAW: dict.fromkeys((*_WORKING, S.PENDING_APPROVAL), S.WITHDRAWN),
    Action.RECORD_SLA: _stay(*OPEN),
    Action.RECORD_CONTACT: _stay(*_WORKING),
    Action.ESCALATE: _stay(*_WORKING, S.PENDING_APPROVAL, S.APPROVED),
    # A link is a fact about the transaction: it is recorded whatever the status.
    Action.LINK_CLAIM: _stay(*Status),
    Action.GRANT_PROVISIONAL_CREDIT: _stay(*_WORKING, S.PENDING_APPROVAL, S.APPROVED),
    Action.RECORD_FEEDBACK: _stay(S.RESOLVED, S.CLOSED),
    Action.FORGET_CLAIMANT: _stay(*Status),
}

# Past-tense wording for messages: "cannot approve a dispute that is investigating".
VERBS: dict[Action, str] = {
    Action.ASSIGN: "assign",
    Action.VERIFY_IDENTITY: "verify the identity on",
    Action.REQUEST_EVIDENCE: "request evidence on",
    Action.ADD_EVIDENCE: "add evidence to",
    Action.RECEIVE_CLAIMANT_EVIDENCE: "add the claimant's evidence to",
    Action.ADD_NOTE: "add a note to",
    Action.LOOK_UP_TRANSACTION: "look up the transaction of",
    Action.PROPOSE_DECISION: "propose a decision on",
    Action.PROPOSE_REJECTION: "reject",
    Action.APPROVE_DECISION: "approve",
    Action.SEND_BACK: "send back",
    Action.EXECUTE_DECISION: "execute the decision on",
    Action.NOTIFY_CLAIMANT: "notify the claimant of",
    Action.CLOSE: "close",
    Action.REOPEN: "reopen",
    Action.WITHDRAW: "withdraw",
    Action.RECORD_SLA: "record an SLA event on",
    Action.RECORD_CONTACT: "record a contact attempt on",
    Action.ESCALATE: "escalate",
    Action.LINK_CLAIM: "link",
    Action.GRANT_PROVISIONAL_CREDIT: "grant a provisional credit on",
    Action.RECORD_FEEDBACK: "record the claimant's feedback on",
    Action.FORGET_CLAIMANT: "forget the claimant of",
}


def allowed_from(action: Action) -> tuple[Status, ...]:
    """The statuses in which the action is allowed, in lifecycle order."""
    row = TRANSITIONS[action]
    return tuple(s for s in Status if s in row)


def next_status(action: Action, current: Status) -> Status | None:
    """The status after the action, or None when the action is not allowed now."""
    return TRANSITIONS[action].get(current)


def refusal(action: Action, current: Status) -> str:
    """The message for an action refused in a status."""
    allowed = ", ".join(allowed_from(action))
    return f"cannot {VERBS[action]} a dispute that is {current}; allowed: {allowed}"


def markdown_table() -> str:
    """The transition table as Markdown: per action, where it is allowed and what it changes."""
    lines = ["| action | allowed in | changes the status |", "|---|---|---|"]
    for action, row in TRANSITIONS.items():
        moves = [f"{source} → {target}" for source, target in row.items() if source != target]
        if not moves:
            change = "no"
        else:
            change = ", ".join(moves) + ("; otherwise no" if len(moves) < len(row) else "")
        lines.append(f"| `{action}` | {', '.join(allowed_from(action))} | {change} |")
    return "\n".join(lines) + "\n"
