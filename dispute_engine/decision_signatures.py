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
from dispute_engine.domain.decision_signing import SignedAction
from dispute_engine.domain.dispute import Dispute

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
                problem = directory.signature_problem(
                    event.actor, dispute.statement(action), signature, event.timestamp
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
