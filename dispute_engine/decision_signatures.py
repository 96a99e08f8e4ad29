"""Re-checking, from the stored events alone, every signature on a decision step.

Each dispute is replayed; before an approval, send-back or execution is applied, the statement
it should have signed is computed from the dispute as it stood, and the recorded signature is
checked against the key the directory held for the actor at the event's time. A forged step,
even one written with valid hashes and seals, fails here for want of the member's key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from dispute_engine.directory import Directory
from dispute_engine.domain import events
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.decision import Decision
from dispute_engine.domain.decision_signing import SignedAction
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import InvalidInput

SIGNED: dict[type[Any], SignedAction] = {
    events.DecisionApproved: SignedAction.APPROVE,
    events.DecisionSentBack: SignedAction.SEND_BACK,
    events.DecisionExecuted: SignedAction.EXECUTE,
}


def signed_action(event: object) -> SignedAction | None:
    """The step a dispute event records that carries a signature, or None."""
    return next((a for kind, a in SIGNED.items() if isinstance(event, kind)), None)


@dataclass(frozen=True)
class SignatureFinding:
    """A decision step whose signature does not stand, and why."""

    dispute_id: UUID
    version: int
    event: str
    actor: str
    problem: str


def check_decision_signatures(
    stream: Iterable[Any], directory: Directory
) -> list[SignatureFinding]:
    """Findings for every signed step in ``stream`` (dispute events in stored order; other
    aggregates' events are skipped). Without directory mode an unsigned step is accepted; a
    signature that is there must verify either way."""
    disputes: dict[UUID, Dispute] = {}
    findings: list[SignatureFinding] = []
    for event in stream:
        if not isinstance(event, events.DisputeEvent):
            continue
        dispute = disputes.get(event.originator_id)
        action = signed_action(event)
        if action is not None and dispute is not None and dispute.decision is not None:
            signature = getattr(event, "signature", None)
            if signature is not None or directory.required:
                check = (
                    directory.approval_problem
                    if action is SignedAction.APPROVE
                    else directory.signature_problem
                )
                problem = check(event.actor, dispute.statement(action), signature, event.timestamp)
                if problem is None and action is SignedAction.APPROVE:
                    decision = dispute.decision
                    problem = repeated_approver(
                        event.actor, decision.proposed_by, decision.approvals
                    )
                if problem is not None:
                    findings.append(
                        SignatureFinding(
                            dispute_id=event.originator_id,
                            version=event.originator_version,
                            event=type(event).__name__,
                            actor=event.actor,
                            problem=problem,
                        )
                    )
        disputes[event.originator_id] = cast(Dispute, event.mutate(dispute))
    return findings


def approvals_problem(
    stream: Iterable[Any], decision: Decision, statement: bytes, directory: Directory
) -> str | None:
    """Why ``decision`` may not be paid for its approvals, or None when they stand.

    ``stream`` is the dispute's stored events. Every recorded approval of the decision must
    stand (:meth:`Directory.approval_problem` over ``statement``), each by a different person
    than the proposer and the other approvers (canonical ids), as many as the decision needs.
    """
    approvers: list[str] = []
    for event in stream:
        if not isinstance(event, events.DecisionApproved) or event.number != decision.number:
            continue
        problem = directory.approval_problem(
            event.actor, statement, event.signature, event.timestamp
        ) or repeated_approver(event.actor, decision.proposed_by, approvers)
        if problem is not None:
            return f"the approval by {event.actor}: {problem}"
        approvers.append(event.actor)
    if len(approvers) < decision.approvals_required:
        return f"{len(approvers)} of the {decision.approvals_required} approvals it needs stand"
    return None


def repeated_approver(approver: str, proposed_by: str, earlier: Iterable[str]) -> str | None:
    """Why ``approver`` may not count as another pair of eyes on a decision (its proposer, or
    an earlier approver under any spelling), or None."""
    who = _canonical(approver)
    if who == _canonical(proposed_by):
        return f"{who} proposed the decision they approve"
    if who in {_canonical(e) for e in earlier}:
        return f"{who} approved the decision before"
    return None


def _canonical(staff_id: str) -> str:
    try:
        return canonical_id(staff_id)
    except InvalidInput:  # no staff id at all: it can only be itself
        return staff_id
