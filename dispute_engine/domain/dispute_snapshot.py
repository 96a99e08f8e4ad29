"""Snapshots of a dispute: its state as plain JSON data, so any store can keep it.

The library's snapshot holds an aggregate's attributes as they are; a dispute's hold value
objects, enums and tuples that JSON would not give back as they were. :data:`STATE` names
the type of every attribute, so a snapshot is written as plain data and read back exactly
(an attribute it does not know is refused when the snapshot is taken, never dropped).
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any, NotRequired
from uuid import UUID

from eventsourcing.domain import Snapshot
from pydantic import ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from dispute_engine.domain.casework import ContactAttempt, EscalationRecord
from dispute_engine.domain.chain_facts import ChainFacts, Comparison
from dispute_engine.domain.decision import Decision, Payout
from dispute_engine.domain.evidence import Evidence, EvidenceRequest
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.note import Note
from dispute_engine.domain.notice import Notice
from dispute_engine.domain.provisional_credit import ProvisionalCredit
from dispute_engine.domain.sla_clock import SlaTracker


class DisputeState(TypedDict):
    """Every attribute of a dispute a snapshot keeps, with its type."""

    _created_on: datetime
    _modified_on: datetime
    status: Status
    idempotency_key: str
    fingerprint: str
    _claim_data: dict[str, Any]
    filed_by: str
    filed_at: datetime
    assignee: str | None
    identity_verified_by: str | None
    identity_method: str | None
    evidence: list[Evidence]
    evidence_requests: list[EvidenceRequest]
    notes: list[Note]
    decision: Decision | None
    decisions_proposed: int
    payouts: list[Payout]
    notices: list[Notice]
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    _sla: SlaTracker
    chain_lookups: list[tuple[ChainFacts, Comparison]]
    policy_version: str
    checklist_version: str | None
    contacts: list[ContactAttempt]
    escalations: list[EscalationRecord]
    priority: str
    linked: list[UUID]
    credits: list[ProvisionalCredit]
    credit_due_recorded: bool
    decided_by: list[str]
    approved_before: list[str]
    # Not in snapshots taken before these existed: the class defaults stand in.
    _challenge: NotRequired[dict[str, Any] | None]
    challenge_answered: NotRequired[bool]
    wallet_failures: NotRequired[int]
    rated_cycle: NotRequired[int | None]
    claimant_forgotten: NotRequired[bool]
    reopened_at: NotRequired[datetime | None]


DisputeState.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
STATE: TypeAdapter[DisputeState] = TypeAdapter(DisputeState)

NOTE_FIELDS = [f.name for f in fields(Note)]
NOTICE_FIELDS = [f.name for f in fields(Notice)]
CACHES = ("_claim", "_sla_pending")  # rebuilt on demand (both empty when taken): not kept


class DisputeSnapshot(Snapshot):
    """A dispute's state at a version, as plain data.

    Version 2 keeps notes and notices as named fields and no pending clock moves; version 1
    snapshots (release 0.1) are read through :meth:`upcast_v1_v2`.
    """

    class_version = 2

    @staticmethod
    def upcast_v1_v2(event_state: dict[str, Any]) -> None:
        """Notes and notices were positional lists; pending clock moves were always empty."""
        state = event_state["state"]
        state.pop("_sla_pending", None)
        state["notes"] = [dict(zip(NOTE_FIELDS, n, strict=True)) for n in state["notes"]]
        state["notices"] = [dict(zip(NOTICE_FIELDS, n, strict=True)) for n in state["notices"]]

    @classmethod
    def take(cls, aggregate: Any) -> DisputeSnapshot:
        """The snapshot of a dispute, its clocks brought up to date first.

        Raises pydantic's ValidationError for an attribute :class:`DisputeState` does not know.
        """
        aggregate.sla  # noqa: B018 - apply the pending clock moves: a smaller state to read back
        snapshot = super().take(aggregate)
        state = {k: v for k, v in snapshot.state.items() if k not in CACHES}
        return replace(snapshot, state=STATE.dump_python(STATE.validate_python(state), mode="json"))

    def mutate(self, _: None) -> Any:
        """The dispute the snapshot was taken of."""
        state = {**STATE.validate_python(self.state), "_claim": None, "_sla_pending": []}
        return super(DisputeSnapshot, replace(self, state=state)).mutate(None)
