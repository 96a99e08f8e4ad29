"""Read models returned to callers: frozen pydantic views of disputes and their history."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from dispute_engine.domain.chain_facts import ChainFacts, Comparison, with_addresses
from dispute_engine.domain.claim import Claim
from dispute_engine.domain.dispute import SEALED, SEALED_PREFIX, Dispute
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.money import Money


class View(BaseModel):
    """Base of the read models: frozen, built from domain objects' attributes."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


class EvidenceView(View):
    """One piece of evidence, without its bytes."""

    sha256: str
    size: int
    media_type: str
    filename: str
    kind: str
    source: str
    added_by: str
    added_at: datetime


class EvidenceRequestView(View):
    """Something asked of the claimant, and when they answered."""

    what: str
    requested_by: str
    requested_at: datetime
    answered_at: datetime | None


class NoteView(View):
    """An investigator's internal note."""

    author: str
    text: str
    at: datetime


class DecisionView(View):
    """The current decision on a dispute."""

    number: int
    outcome: str
    amount: Decimal
    rationale: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    overrides: list[str] = []  # chain facts and checklist items the proposer overrode
    approvals_required: int = 1
    approvals: list[str] = []  # who approved it so far, in order


class ChecklistItemView(View):
    """One item of the dispute's checklist: done when a recorded fact covers it."""

    name: str
    description: str
    done: bool


class ContactAttemptView(View):
    """An attempt to reach a party about the dispute."""

    party: str
    channel: str
    note: str
    by: str
    at: datetime


class EscalationView(View):
    """A hand-over to the escalation queue at a raised priority."""

    reason: str
    priority: str
    queue: str
    by: str
    at: datetime


class ProvisionalCreditView(View):
    """Money credited ahead of the decision, and how it ended."""

    amount: Decimal
    state: str  # granted | permanent | reversed
    granted_by: str
    granted_at: datetime
    settled_by: str | None
    settled_at: datetime | None
    reversed_amount: Decimal


class PayoutView(View):
    """Money paid to the claimant for one decision."""

    decision_number: int
    amount: Decimal
    reference: str
    executed_by: str
    executed_at: datetime


class NoticeView(View):
    """A notice sent to the claimant."""

    template: str
    language: str
    text: str
    sent_at: datetime


class SlaClockView(View):
    """One service-level clock of a dispute (``due_at`` is None while paused or ended)."""

    id: str
    metric: str
    cycle: int
    state: str
    started_at: datetime
    due_at: datetime | None
    ended_at: datetime | None
    alerts: list[int]
    policy_version: str


class TokenTransferView(View):
    """One ERC-20 transfer the transaction made."""

    token_address: str
    sender: str
    recipient: str
    amount: Decimal | None  # None when the token's decimals are unknown
    units: int
    symbol: str | None
    decimals: int | None = None  # the registry's, else the contract's decimals()


class ChainFactsView(View):
    """What the chain says about the disputed transaction, held against the claim."""

    lookup: int  # 1 for the first lookup; later ones supersede earlier ones
    status: str
    block_number: int | None
    block_hash: str | None
    block_time: datetime | None
    confirmations: int
    finalized: bool
    sender: str | None
    recipient: str | None
    value: Decimal | None  # what moved of the claimed asset, in its units
    native_value: Decimal
    token_transfers: list[TokenTransferView]
    mismatches: list[str]
    observed_at: datetime

    @classmethod
    def of(
        cls, lookup: int, facts: ChainFacts, comparison: Comparison, decimals: int
    ) -> ChainFactsView:
        """The view of one recorded lookup."""

        def scaled(units: int, places: int) -> Decimal:
            return Money(units, places, "").amount

        return cls(
            lookup=lookup,
            status=facts.status,
            block_number=facts.block_number,
            block_hash=facts.block_hash,
            block_time=facts.block_time,
            confirmations=facts.confirmations,
            finalized=facts.finalized,
            sender=facts.sender,
            recipient=facts.recipient,
            value=None if comparison.moved is None else scaled(comparison.moved, decimals),
            native_value=scaled(facts.native_units, facts.native_decimals),
            token_transfers=[
                TokenTransferView(
                    token_address=t.token_address,
                    sender=t.sender,
                    recipient=t.recipient,
                    amount=None if t.decimals is None else scaled(t.units, t.decimals),
                    units=t.units,
                    symbol=t.symbol,
                    decimals=t.decimals,
                )
                for t in facts.token_transfers
            ],
            mismatches=list(comparison.mismatches),
            observed_at=facts.observed_at,
        )

    def opened(self, pseudonym: str, real: str) -> ChainFactsView:
        """The view naming the claimant's ``real`` address where the facts name its
        ``pseudonym`` (as their dispute records them)."""

        def shown(address: str | None) -> str | None:
            return real if address == pseudonym else address

        return with_addresses(self, shown)


class DisputeView(View):
    """A dispute as it stands (or stood, for ``state_at``)."""

    id: UUID
    version: int
    status: Status
    claim: Claim
    filed_by: str
    filed_at: datetime
    updated_at: datetime
    assignee: str | None
    identity_verified: bool
    identity_method: str | None
    identity_verified_by: str | None
    evidence: list[EvidenceView]
    evidence_requests: list[EvidenceRequestView]
    notes: list[NoteView]
    decision: DecisionView | None
    payouts: list[PayoutView]
    notices: list[NoticeView]
    disputed_amount: Decimal
    paid_amount: Decimal
    reopen_count: int
    chain_facts: ChainFactsView | None = None
    sla_clocks: list[SlaClockView] = []
    checklist_version: str | None = None  # None: filed before checklists
    checklist: list[ChecklistItemView] = []
    linked: list[UUID] = []  # other disputes on the same transaction
    contacts: list[ContactAttemptView] = []
    priority: str = "normal"  # the claim's, raised by escalations
    queue: str | None = None  # "escalation" once escalated
    escalations: list[EscalationView] = []
    provisional_credits: list[ProvisionalCreditView] = []
    credit_due_at: datetime | None = None  # where the jurisdiction's rule asks for a credit

    @classmethod
    def of(cls, dispute: Dispute) -> DisputeView:
        """The view of an aggregate."""
        asset, decimals = dispute.disputed.asset, dispute.disputed.decimals

        def amount(units: int) -> Decimal:
            return Money(units, decimals, asset).amount

        decision = dispute.decision
        plan = dispute.credit_plan
        return cls(
            id=dispute.id,
            version=dispute.version,
            status=dispute.status,
            claim=with_sender(dispute.claim, SEALED)
            if "sender" in dispute.sealed_fields
            else dispute.claim,
            filed_by=dispute.filed_by,
            filed_at=dispute.filed_at,
            updated_at=dispute.modified_on,
            assignee=dispute.assignee,
            identity_verified=dispute.identity_method is not None,
            identity_method=dispute.identity_method,
            identity_verified_by=dispute.identity_verified_by,
            evidence=[EvidenceView.model_validate(e) for e in dispute.evidence],
            evidence_requests=[
                EvidenceRequestView.model_validate(r) for r in dispute.evidence_requests
            ],
            notes=[
                NoteView(author=n.author, text=unopened(n.text), at=n.added_at)
                for n in dispute.notes
            ],
            decision=None
            if decision is None
            else DecisionView(
                number=decision.number,
                outcome=decision.outcome,
                amount=amount(decision.units),
                rationale=decision.rationale,
                proposed_by=decision.proposed_by,
                proposed_at=decision.proposed_at,
                approved_by=decision.approved_by,
                approved_at=decision.approved_at,
                overrides=list(decision.overrides),
                approvals_required=decision.approvals_required,
                approvals=list(decision.approvals),
            ),
            payouts=[
                PayoutView(
                    decision_number=p.decision_number,
                    amount=amount(p.units),
                    reference=p.reference,
                    executed_by=p.executed_by,
                    executed_at=p.executed_at,
                )
                for p in dispute.payouts
            ],
            notices=[
                NoticeView(template=n.template, language=n.language, text=n.text, sent_at=n.sent_at)
                for n in dispute.notices
            ],
            disputed_amount=amount(dispute.disputed.units),
            paid_amount=amount(dispute.paid.units),
            reopen_count=dispute.reopen_count,
            sla_clocks=[SlaClockView.model_validate(c) for c in dispute.sla.clocks.values()],
            chain_facts=None
            if dispute.chain_facts is None
            else ChainFactsView.of(len(dispute.chain_lookups), *dispute.chain_facts, decimals),
            checklist_version=dispute.checklist_version,
            checklist=[ChecklistItemView.model_validate(i) for i in dispute.checklist],
            linked=list(dispute.linked),
            contacts=[
                ContactAttemptView.model_validate(replace(c, note=unopened(c.note)))
                for c in dispute.contacts
            ],
            priority=dispute.priority,
            queue=dispute.queue,
            escalations=[EscalationView.model_validate(e) for e in dispute.escalations],
            provisional_credits=[
                ProvisionalCreditView(
                    amount=amount(c.units),
                    state=c.state,
                    granted_by=c.granted_by,
                    granted_at=c.granted_at,
                    settled_by=c.settled_by,
                    settled_at=c.settled_at,
                    reversed_amount=amount(c.reversed_units),
                )
                for c in dispute.credits
            ],
            credit_due_at=None if plan is None else plan.credit_due_at,
        )


class HistoryEntry(View):
    """One recorded event of a dispute, as an auditor reads it.

    ``hash`` is the event's leaf hash in the audit log (hex): RFC 6962's hash of what the
    event's seal covers, so ``engine.audit.prove_inclusion`` proves exactly this entry.
    """

    position: int
    version: int
    name: str
    at: datetime
    actor: str
    data: dict[str, Any]
    hash: str


class SlaAlertView(View):
    """A warning or breach the SLA checker recorded."""

    dispute_id: UUID
    clock: str
    metric: str
    threshold: int
    due_at: datetime
    detected_at: datetime


class KeyPeriodView(View):
    """One key a staff member held, and when it was in force (``valid_until`` None: still)."""

    public_key: str
    valid_from: datetime
    valid_until: datetime | None


class StaffView(View):
    """A member of the staff directory: roles, languages served, keys over time."""

    staff_id: str
    display_name: str
    roles: list[str]
    languages: list[str]
    status: str
    active: bool
    public_key: str | None
    keys: list[KeyPeriodView]
    registered_at: datetime
    registered_by: str
    revoked_at: datetime | None
    version: int

    @classmethod
    def of(cls, member: Any) -> StaffView:
        """The view of a ``Staff`` aggregate or of the directory view's entry."""
        return cls(
            staff_id=member.staff_id,
            display_name=member.display_name,
            roles=sorted(member.roles),
            languages=list(member.languages),
            status=member.status,
            active=member.active,
            public_key=member.public_key,
            keys=[KeyPeriodView.model_validate(k) for k in member.keys],
            registered_at=member.registered_at,
            registered_by=member.registered_by,
            revoked_at=member.revoked_at,
            version=member.version,
        )


def with_sender(claim: Claim, sender: str) -> Claim:
    """The claim showing ``sender`` as its transaction's sender: the address opened from its
    envelope, or a stand-in (``[sealed]``, ``[erased]``) that is no address."""
    transaction = claim.transaction.model_copy(update={"sender": sender})
    return claim.model_copy(update={"transaction": transaction})


def unopened(text: str) -> str:
    """A text as a view shows it before its sealed personal data is opened: ``[sealed]``."""
    return SEALED if text.startswith(SEALED_PREFIX) else text
