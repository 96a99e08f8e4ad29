"""The Dispute aggregate: commands as public methods, events as private ``@event`` methods.

Public methods check roles, the lifecycle table and the money rules, then trigger one event;
event bodies only change state, because they rerun on every replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from dispute_engine.domain import events
from dispute_engine.domain.actor import FILE, Actor, require_permission, same_actor
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.casework import ContactAttempt, EscalationRecord
from dispute_engine.domain.chain_facts import (
    ChainFacts,
    Comparison,
    compare,
    required_overrides,
    verified_units,
)
from dispute_engine.domain.checklist import (
    CURRENT_CHECKLIST_VERSION,
    ItemStatus,
    evaluate,
    require_covered,
)
from dispute_engine.domain.claim import Claim, address_pseudonym
from dispute_engine.domain.decision import Decision, Outcome, Payout
from dispute_engine.domain.decision_signing import SignedAction
from dispute_engine.domain.decision_signing import statement as signed_statement
from dispute_engine.domain.dispute_snapshot import DisputeSnapshot
from dispute_engine.domain.errors import (
    ChallengeReused,
    IdentityMethodLocked,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    PersonalDataErased,
)
from dispute_engine.domain.evidence import Evidence, EvidenceRequest
from dispute_engine.domain.lifecycle import (
    OPEN,
    Action,
    Status,
    allowed_from,
    next_status,
    refusal,
)
from dispute_engine.domain.money import AmountError, Money
from dispute_engine.domain.note import Note
from dispute_engine.domain.notice import (
    PAYOUT_HASH,
    REPLY_WINDOW,
    SATISFACTION_REQUEST,
    Notice,
    RenderedText,
    Renderer,
)
from dispute_engine.domain.provisional_credit import (
    CreditSchedule,
    CreditState,
    ProvisionalCredit,
    credit_owed,
    due_for_automatic_permanence,
    require_grant_allowed,
    schedule,
    settlement,
)
from dispute_engine.domain.quality import Feedback
from dispute_engine.domain.review import (
    ApprovalPolicy,
    approve,
    escalate,
    fully_approved,
    require_fresh_approver,
    require_fresh_investigator,
)
from dispute_engine.domain.sla_clock import (
    ClockMove,
    SlaAlert,
    SlaClock,
    SlaTracker,
    alerts_due,
    move_clocks,
)
from dispute_engine.domain.sla_policy import CURRENT_POLICY
from dispute_engine.domain.wallet_challenge import WalletChallenge

DISPUTES = UUID("6f1c6c3e-4f5e-4f43-9d0a-6d2b9a1d7c11")
WALLET_SIGNATURE = "wallet_signature"
# The claim's personal fields; ``sender`` is the claimed transaction's, which the claim
# records as a pseudonym (address_pseudonym) while the real address is kept sealed.
SEALABLE = frozenset({"description", "contact", "sender"})
SEALED_PREFIX = "pd1."  # how a sealed text begins (dispute_engine.personal_data)
SEALED = "[sealed]"  # what the claim shows in place of a sealed field
MAX_WALLET_FAILURES = 5  # failed wallet signatures that lock the method on a dispute


class Dispute(Aggregate):
    """One user's dispute about one transaction."""

    status: Status
    Snapshot = DisputeSnapshot

    class Event(events.DisputeEvent):
        """The base of every dispute event: applies it, then notes how it moves the clocks."""

        def mutate(self, aggregate: Any) -> Any:
            """Apply the event, then the status it records, then note how it moves the clocks.

            The clocks are moved when first read (:attr:`Dispute.sla`), not on every replay.
            """
            previous = None if aggregate is None else aggregate.status
            dispute = cast("Dispute", super().mutate(aggregate))
            dispute.status = Status(self.status)
            dispute._sla_pending.append(self.clock_move(previous))
            return dispute

        def clock_move(self, previous: Status | None) -> ClockMove:
            """What the event means to the dispute's SLA clocks, given the status before it."""
            clock, threshold = None, None
            if isinstance(self, events.SlaWarningRaised):
                clock, threshold = self.clock, self.threshold
            elif isinstance(self, events.SlaBreached):
                clock, threshold = self.clock, 100
            return ClockMove(
                type(self), previous, Status(self.status), self.timestamp, clock, threshold
            )

    # The event classes of domain/events.py, made the dispute's own by the library: their
    # topics stay ``dispute_engine.domain.dispute:Dispute.<Name>``, as stored by every release.
    Filed = events.Filed
    Assigned = events.Assigned
    IdentityVerified = events.IdentityVerified
    EvidenceRequested = events.EvidenceRequested
    EvidenceAdded = events.EvidenceAdded
    NoteAdded = events.NoteAdded
    TransactionLookedUp = events.TransactionLookedUp
    DecisionProposed = events.DecisionProposed
    DecisionApproved = events.DecisionApproved
    DecisionSentBack = events.DecisionSentBack
    DecisionExecuted = events.DecisionExecuted
    ClaimantNotified = events.ClaimantNotified
    Closed = events.Closed
    Reopened = events.Reopened
    Withdrawn = events.Withdrawn
    SlaWarningRaised = events.SlaWarningRaised
    SlaBreached = events.SlaBreached
    ContactAttempted = events.ContactAttempted
    Escalated = events.Escalated
    ClaimLinked = events.ClaimLinked
    ProvisionalCreditGranted = events.ProvisionalCreditGranted
    ProvisionalCreditMadePermanent = events.ProvisionalCreditMadePermanent
    ProvisionalCreditReversed = events.ProvisionalCreditReversed
    ProvisionalCreditDue = events.ProvisionalCreditDue
    IdentityChallengeIssued = events.IdentityChallengeIssued
    IdentityAttemptFailed = events.IdentityAttemptFailed
    FeedbackRecorded = events.FeedbackRecorded
    ClaimantForgotten = events.ClaimantForgotten

    # Set by the events that came with the claimant's identity, feedback and forgetting;
    # defaults here, so disputes (and snapshots) from before them read as never touched.
    _challenge: dict[str, Any] | None = None
    challenge_answered: bool = False
    wallet_failures: int = 0
    rated_cycle: int | None = None
    claimant_forgotten: bool = False
    reopened_at: datetime | None = None  # when an appeal last reopened it

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        """The dispute id for an idempotency key: a retried filing finds the same dispute."""
        return uuid5(DISPUTES, idempotency_key)

    @classmethod
    def file(
        cls,
        claim: Claim,
        *,
        idempotency_key: str,
        by: Actor,
        now: datetime,
        sealed: dict[str, str] | None = None,
    ) -> Dispute:
        """File a new dispute. Raises NotAuthorized, InvalidInput (a future transaction).

        ``sealed`` replaces personal fields of the claim (``description``, ``contact``) with
        their sealed text in the recorded event; with a sealed ``sender`` the event keeps
        that text beside the claim and records the transaction's sender as its pseudonym for
        this dispute. The fingerprint is of the claim as given, so a retried filing is
        recognised although each sealing differs.
        """
        require_permission(by, FILE)
        if claim.transaction.occurred_at > now:
            raise InvalidInput.of("transaction.occurred_at", "must not be in the future")
        if claim.jurisdiction is None:  # the default is the engine's setting, not the domain's
            raise InvalidInput.of("jurisdiction", "is required")
        data = claim.model_dump(mode="json")
        if data["contact"] is None:  # as claims were fingerprinted before contacts existed
            del data["contact"]
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        unknown = sorted(set(sealed or {}) - SEALABLE)
        if unknown:
            raise InvalidInput.of("sealed", f"only {', '.join(sorted(SEALABLE))} are sealed")
        if sealed and "sender" in sealed:
            pseudonym = address_pseudonym(cls.create_id(idempotency_key), claim.transaction.sender)
            data["transaction"] = {**data["transaction"], "sender": pseudonym}
        dispute = cls(
            idempotency_key=idempotency_key,
            fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
            claim={**data, **(sealed or {})},
            policy_version=CURRENT_POLICY.version,
            actor=by.id,
            status=Status.FILED,
            timestamp=now,
            checklist_version=CURRENT_CHECKLIST_VERSION,
        )
        if not sealed:  # recorded as given: the validated claim is what replay would give
            dispute._claim = claim
        return dispute

    @event(events.Filed)
    def __init__(
        self,
        idempotency_key: str,
        fingerprint: str,
        claim: dict[str, Any],
        policy_version: str,
        actor: str,
        status: str,
        timestamp: datetime,
        checklist_version: str | None,  # None for disputes filed before checklists
    ) -> None:
        self.idempotency_key = idempotency_key
        self.fingerprint = fingerprint
        self._claim_data = claim
        self._claim: Claim | None = None
        self.filed_by = actor
        self.filed_at = timestamp
        self.assignee: str | None = None
        self.identity_verified_by: str | None = None
        self.identity_method: str | None = None
        self.evidence: list[Evidence] = []
        self.evidence_requests: list[EvidenceRequest] = []
        self.notes: list[Note] = []
        self.decision: Decision | None = None
        self.decisions_proposed = 0
        self.payouts: list[Payout] = []
        self.notices: list[Notice] = []
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.reopen_count = 0
        self._sla = SlaTracker.for_claim(claim, policy_version)
        self._sla_pending: list[ClockMove] = []  # moves not yet applied: see the sla property
        self.chain_lookups: list[tuple[ChainFacts, Comparison]] = []
        self.policy_version = policy_version
        self.checklist_version = checklist_version
        self.contacts: list[ContactAttempt] = []
        self.escalations: list[EscalationRecord] = []
        self.priority: str = claim["priority"]
        self.linked: list[UUID] = []
        self.credits: list[ProvisionalCredit] = []
        self.credit_due_recorded = False
        # Who proposed or approved a decision that stood before an appeal reopened it.
        self.decided_by: list[str] = []
        self.approved_before: list[str] = []

    @property
    def claim(self) -> Claim:
        """The claim as filed (validated once when first needed, not on every replay)."""
        if self._claim is None:
            # A sealed field is longer than the field allows and means nothing here: the
            # claim holds a stand-in, and whoever holds the key reveals it (sealed_fields).
            # The sealed sender is kept beside the claim, whose transaction names its pseudonym.
            shown = {
                k: SEALED if k in self.sealed_fields else v
                for k, v in self._claim_data.items()
                if k != "sender"
            }
            self._claim = Claim.model_validate(shown)
        return self._claim

    @property
    def sealed_fields(self) -> dict[str, str]:
        """The claim's fields recorded sealed (``pd1.`` text), by name."""
        return {
            k: v
            for k in SEALABLE
            if isinstance(v := self._claim_data.get(k), str) and v.startswith(SEALED_PREFIX)
        }

    @property
    def sla(self) -> SlaTracker:
        """The dispute's SLA clocks, brought up to date with its events when first needed.

        Clock arithmetic (business-day calendars) is deferred, so loading a dispute to act on
        it costs nothing for the clocks unless they are read.
        """
        for move in self._sla_pending:
            move_clocks(self._sla, move)
        self._sla_pending.clear()
        return self._sla

    @property
    def reference(self) -> str:
        """How notices name the dispute to the claimant: the start of its id."""
        return str(self.id)[:8]

    # -- money ---------------------------------------------------------------

    @property
    def disputed(self) -> Money:
        """The amount the claimant disputes."""
        return self.claim.transaction.money

    @property
    def paid(self) -> Money:
        """Everything paid to the claimant so far, across decisions and reopenings."""
        total = Money.zero(asset=self.disputed.asset, decimals=self.disputed.decimals)
        for payout in self.payouts:
            total += Money(payout.units, total.decimals, total.asset)
        for credit in self.credits:
            if credit.state is not CreditState.GRANTED:  # what the claimant keeps of it
                total += Money(credit.units - credit.reversed_units, total.decimals, total.asset)
        return total

    @property
    def credited(self) -> Money:
        """Provisional credit paid and not yet settled by a final decision."""
        units = sum(c.units for c in self.credits if c.state is CreditState.GRANTED)
        return Money(units, self.disputed.decimals, self.disputed.asset)

    @property
    def transaction_cap(self) -> Money:
        """What every dispute on this transaction may be paid together.

        The amount the chain verified; where it verified no transfer (no lookup yet, a failed
        transaction) or the standing decision overrides the amount on purpose, the amount the
        claimant's wallet recorded as debited, which the claim states.
        """
        latest = self.chain_facts
        units = verified_units(latest[1] if latest is not None else None)
        decision = self.decision
        if units == 0 or (decision is not None and "amount" in decision.overrides):
            units = max(units, self.disputed.units)
        return Money(units, self.disputed.decimals, self.disputed.asset)

    @property
    def refundable(self) -> Money:
        """What may still be paid: the disputed amount less what was already paid."""
        return self.disputed - self.paid

    # -- rules ---------------------------------------------------------------

    def _next(self, action: Action, by: Actor) -> Status:
        require_permission(by, action)
        to = next_status(action, self.status)
        if to is None:
            raise InvalidTransition(
                refusal(action, self.status),
                action=action,
                status=self.status,
                allowed=allowed_from(action),
                dispute_id=self.id,
            )
        return to

    def _require_decision(self) -> Decision:
        assert self.decision is not None  # the lifecycle table only allows this with one
        return self.decision

    # -- investigation -------------------------------------------------------

    def assign(self, investigator: str, *, by: Actor, now: datetime) -> None:
        """Give the dispute to an investigator. Raises InvalidTransition, NotAuthorized."""
        status = self._next(Action.ASSIGN, by)
        if self.reopen_count:
            require_fresh_investigator(investigator, self.decided_by)
        self._assigned(investigator=investigator, actor=by.id, status=status, timestamp=now)

    @event(events.Assigned)
    def _assigned(self, investigator: str, actor: str, status: str, timestamp: datetime) -> None:
        self.assignee = investigator

    def verify_identity(self, method: str, *, by: Actor, now: datetime) -> None:
        """Record that the claimant's identity was checked, and how.

        Raises InvalidInput for ``wallet_signature``, which only a checked signature records.
        """
        if method == WALLET_SIGNATURE:
            raise InvalidInput.of("method", "a wallet signature is recorded by checking it")
        status = self._next(Action.VERIFY_IDENTITY, by)
        self._identity_verified(method=method, actor=by.id, status=status, timestamp=now)

    @event(events.IdentityVerified)
    def _identity_verified(self, method: str, actor: str, status: str, timestamp: datetime) -> None:
        self.identity_verified_by = actor
        self.identity_method = method
        if method == WALLET_SIGNATURE:
            self.challenge_answered = True

    def request_evidence(self, what: str, *, by: Actor, now: datetime) -> None:
        """Ask the claimant for something; the dispute then awaits the claimant."""
        status = self._next(Action.REQUEST_EVIDENCE, by)
        self._evidence_requested(what=what, actor=by.id, status=status, timestamp=now)

    @event(events.EvidenceRequested)
    def _evidence_requested(self, what: str, actor: str, status: str, timestamp: datetime) -> None:
        self.evidence_requests.append(EvidenceRequest(what, actor, timestamp))

    def add_evidence(
        self,
        *,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        kind: str,
        source: str,
        by: Actor,
        now: datetime,
    ) -> None:
        """Attach stored evidence; the claimant's answer moves the dispute back to work."""
        status = self.require_evidence_allowed(source, by=by)
        self._evidence_added(
            sha256=sha256,
            size=size,
            media_type=media_type,
            filename=filename,
            kind=kind,
            source=source,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    def require_evidence_allowed(self, source: str, *, by: Actor) -> Status:
        """The status after adding evidence from the source; raises when not allowed now."""
        action = Action.RECEIVE_CLAIMANT_EVIDENCE if source == "claimant" else Action.ADD_EVIDENCE
        return self._next(action, by)

    @event(events.EvidenceAdded)
    def _evidence_added(
        self,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        kind: str,
        source: str,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        self.evidence.append(
            Evidence(sha256, size, media_type, filename, kind, source, actor, timestamp)
        )
        if source == "claimant":
            self.evidence_requests = [
                r if r.answered_at else replace(r, answered_at=timestamp)
                for r in self.evidence_requests
            ]

    def add_note(self, text: str, *, by: Actor, now: datetime) -> None:
        """Keep an internal note on the dispute."""
        status = self._next(Action.ADD_NOTE, by)
        self._note_added(text=text, actor=by.id, status=status, timestamp=now)

    @event(events.NoteAdded)
    def _note_added(self, text: str, actor: str, status: str, timestamp: datetime) -> None:
        self.notes.append(Note(actor, text, timestamp))

    # -- the chain ------------------------------------------------------------

    def require_lookup_allowed(self, *, by: Actor) -> None:
        """Raises unless the actor may look up the transaction now (checked before the node)."""
        self._next(Action.LOOK_UP_TRANSACTION, by)

    @property
    def chain_facts(self) -> tuple[ChainFacts, Comparison] | None:
        """The latest facts from the chain and how they compare with the claim."""
        return self.chain_lookups[-1] if self.chain_lookups else None

    @property
    def needs_recheck(self) -> bool:
        """Whether the latest facts could still change (a block that is not final yet)."""
        latest = self.chain_facts
        return latest is not None and not latest[0].finalized and latest[0].status != "not_found"

    def record_chain_facts(
        self, facts: ChainFacts, *, by: Actor, now: datetime, time_tolerance: timedelta
    ) -> bool:
        """Record what the chain says, compared with the claim; True when it was recorded.

        Facts that say nothing new (same outcome, same finality) are not recorded again.
        """
        status = self._next(Action.LOOK_UP_TRANSACTION, by)
        latest = self.chain_facts
        if (
            latest is not None
            and latest[0].same_outcome(facts)
            and (latest[0].finalized == facts.finalized)
        ):
            return False
        comparison = compare(self.claim.transaction, facts, time_tolerance=time_tolerance)
        self._transaction_looked_up(
            facts=facts.model_dump(mode="json"),
            mismatches=list(comparison.mismatches),
            moved=comparison.moved,
            supersedes=len(self.chain_lookups) if latest is not None else 0,
            actor=by.id,
            status=status,
            timestamp=now,
        )
        return True

    @event(events.TransactionLookedUp)
    def _transaction_looked_up(
        self,
        facts: dict[str, Any],
        mismatches: list[str],
        moved: int | None,
        supersedes: int,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        comparison = Comparison.model_validate({"mismatches": mismatches, "moved": moved})
        self.chain_lookups.append((ChainFacts.model_validate(facts), comparison))

    # -- decision ------------------------------------------------------------

    def propose_decision(
        self,
        outcome: Outcome,
        amount: Decimal | None,
        rationale: str,
        *,
        by: Actor,
        now: datetime,
        overrides: Sequence[str] = (),
        approval_policy: ApprovalPolicy | None = None,
    ) -> None:
        """Propose what to do. A rejection resolves at once; money waits for an approver.

        Nothing is decided unchecked: while items of the dispute's checklist are open, each
        must be named in ``overrides`` (or ``checklist`` for all of them). On appeal the
        proposer must not have decided the dispute before. A money-moving decision waits
        for as many distinct approvers as ``approval_policy`` asks (one without a policy).

        Money moves only as far as the chain vouches: each chain fact the decision goes
        against (or ``no_lookup``) must be named in ``overrides``, and without an ``amount``
        override the total paid stays within the transfer the chain verified.
        Raises InvalidInput when the amount breaks the money rules or an override is missing.
        """
        action = Action.PROPOSE_DECISION if outcome.moves_money else Action.PROPOSE_REJECTION
        status = self._next(action, by)
        if self.reopen_count:
            require_fresh_investigator(by.id, self.decided_by)
        named = sorted({canonical_id(o, field="overrides") for o in overrides})
        units = 0
        if outcome.moves_money:
            units = self._decision_units(outcome, amount)
            self._require_chain_backing(units, named)
        require_covered(self.checklist, named)
        self._decision_proposed(
            number=self.decisions_proposed + 1,
            outcome=outcome.value,
            units=units,
            rationale=rationale,
            actor=by.id,
            status=status,
            timestamp=now,
            overrides=named,
            approvals_required=1
            if approval_policy is None or not outcome.moves_money
            else approval_policy.approvals_required(
                Money(units, self.disputed.decimals, self.disputed.asset), self.claim.reason
            ),
        )
        credit = self.unsettled_credit
        if credit is not None and status == Status.RESOLVED:
            # A rejection concludes the investigation: the claimant gives the credit back.
            self._settle_credit(credit, 0, by=by, now=now)

    def _decision_units(self, outcome: Outcome, amount: Decimal | None) -> int:
        remaining = self.refundable
        if remaining.units == 0:
            raise InvalidInput.of("amount", "the disputed amount has already been paid in full")
        if amount is None:
            if outcome is not Outcome.REFUND:
                raise InvalidInput.of("amount", f"a {outcome} needs an amount")
            return remaining.units
        try:
            money = Money.parse(amount, asset=remaining.asset, decimals=remaining.decimals)
        except AmountError as exc:
            raise InvalidInput.of("amount", str(exc)) from None
        if money.units > remaining.units:
            raise InvalidInput.of(
                "amount", f"{money} exceeds what may still be paid on this dispute: {remaining}"
            )
        if outcome is Outcome.REFUND and money != remaining:
            raise InvalidInput.of(
                "amount", f"a refund pays {remaining}; use partial_refund for less"
            )
        if outcome is Outcome.PARTIAL_REFUND and money == remaining:
            raise InvalidInput.of("amount", "a partial refund must be less than the full amount")
        return money.units

    def _require_chain_backing(self, units: int, overrides: Sequence[str]) -> None:
        latest = self.chain_facts
        comparison = latest[1] if latest is not None else None
        missing = [o for o in required_overrides(comparison) if o not in overrides]
        if missing:
            why = (
                "no chain lookup is recorded: look the transaction up, or name no_lookup"
                if comparison is None
                else f"the chain contradicts the claim's {', '.join(missing)}: name "
                + ("it" if len(missing) == 1 else "each")
            )
            raise InvalidInput.of(
                "overrides",
                f"{why} in overrides and say why in the rationale",
                dispute_id=self.id,
            )
        if "amount" in overrides:
            return
        verified = Money(verified_units(comparison), self.disputed.decimals, self.disputed.asset)
        if self.paid.units + units > verified.units:
            raise InvalidInput.of(
                "overrides",
                f"the chain vouches for {verified} moved and {self.paid} is paid already: paying "
                f"{Money(units, verified.decimals, verified.asset)} more needs the override amount",
                dispute_id=self.id,
            )

    @event(events.DecisionProposed)
    def _decision_proposed(
        self,
        number: int,
        outcome: str,
        units: int,
        rationale: str,
        actor: str,
        status: str,
        timestamp: datetime,
        overrides: list[str],
        approvals_required: int,
    ) -> None:
        self.decisions_proposed = number
        self.decision = Decision(
            number,
            Outcome(outcome),
            units,
            rationale,
            actor,
            timestamp,
            overrides=tuple(overrides),
            approvals_required=approvals_required,
        )
        if status == Status.RESOLVED:
            self.resolved_at = timestamp

    def statement(self, action: SignedAction) -> bytes:
        """The bytes a member signs to take ``action`` on the current decision.

        Raises InvalidTransition when there is no decision to act on.
        """
        if self.decision is None:
            raise InvalidTransition(
                f"there is no decision to {action.replace('_', ' ')}",
                action=str(action),
                status=self.status,
                allowed=(Status.PENDING_APPROVAL, Status.APPROVED),
                dispute_id=self.id,
            )
        return signed_statement(
            action,
            dispute_id=self.id,
            decision=self.decision,
            transaction=self.claim.transaction,
            decimals=self.disputed.decimals,
        )

    def approve_decision(self, *, by: Actor, now: datetime, signature: str | None = None) -> None:
        """Approve the proposed decision, with the approver's ``signature`` of its statement
        where there is one; it is approved once enough distinct people approve.

        Raises NotAuthorized for the proposer (four eyes), a second approval by the same
        person, or, on appeal, an approver of an earlier decision.
        """
        status = self._next(Action.APPROVE_DECISION, by)
        decision = self._require_decision()
        if same_actor(decision.proposed_by, by):
            raise NotAuthorized(
                "a decision that moves money needs a second approver, not its proposer",
                actor=by.id,
                dispute_id=self.id,
            )
        if self.reopen_count:
            require_fresh_approver(by.id, self.approved_before)
        approvals = approve(
            by.id,
            proposed_by=decision.proposed_by,
            approvals=decision.approvals,
            required=decision.approvals_required,
        )
        if not fully_approved(approvals, decision.approvals_required):
            status = Status.PENDING_APPROVAL  # the first of two approvals: still waiting
        self._decision_approved(
            number=decision.number, signature=signature, actor=by.id, status=status, timestamp=now
        )

    @event(events.DecisionApproved)
    def _decision_approved(
        self, number: int, signature: str | None, actor: str, status: str, timestamp: datetime
    ) -> None:
        decision = self._require_decision()
        approvals = (*decision.approvals, actor)
        if status == Status.APPROVED:
            decision = replace(
                decision, approved_by=actor, approved_at=timestamp, approval_signature=signature
            )
        self.decision = replace(decision, approvals=approvals)

    def send_back(
        self, reason: str, *, by: Actor, now: datetime, signature: str | None = None
    ) -> None:
        """Return the proposed decision to the investigator with a reason (and the approver's
        ``signature`` of its statement where there is one)."""
        status = self._next(Action.SEND_BACK, by)
        number = self._require_decision().number
        self._decision_sent_back(
            number=number,
            reason=reason,
            signature=signature,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    @event(events.DecisionSentBack)
    def _decision_sent_back(
        self,
        number: int,
        reason: str,
        signature: str | None,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        self.decision = None

    def require_executable(self, *, by: Actor) -> Decision:
        """The approved decision to execute. Raises InvalidTransition, NotAuthorized."""
        self._next(Action.EXECUTE_DECISION, by)
        decision = self._require_decision()
        if decision.units > self.refundable.units:
            raise InvalidInput.of("amount", "the payout would exceed the disputed amount")
        return decision

    def units_to_pay(self, decision: Decision) -> int:
        """What executing the decision still pays: its award less an unsettled credit."""
        credit = self.unsettled_credit
        if credit is None:
            return decision.units
        return settlement(credit, decision.units).still_to_pay

    def record_execution(
        self, reference: str, *, by: Actor, now: datetime, signature: str | None = None
    ) -> None:
        """Record that the approved decision was paid, under the payout rail's reference, with
        the executor's ``signature`` of its statement where there is one.

        An unsettled provisional credit counts toward the award: it becomes permanent and
        only the difference was paid, or the excess over a smaller award is reversed.
        """
        status = self._next(Action.EXECUTE_DECISION, by)
        decision = self.require_executable(by=by)
        units = self.units_to_pay(decision)
        credit = self.unsettled_credit
        if credit is not None:
            self._settle_credit(credit, decision.units, by=by, now=now)
        self._decision_executed(
            number=decision.number,
            units=units,
            reference=reference,
            signature=signature,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    @event(events.DecisionExecuted)
    def _decision_executed(
        self,
        number: int,
        units: int,
        reference: str,
        signature: str | None,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        self.payouts.append(Payout(number, units, reference, actor, timestamp))
        self.resolved_at = timestamp

    # -- the claimant ------------------------------------------------------------

    def notify_claimant(
        self, *, by: Actor, now: datetime, appeal_window: timedelta, render: Renderer
    ) -> str:
        """Record the catalog notice that fits the dispute now, in the claimant's language;
        returns its text.

        A dispute at work gets its acknowledgement (or, after an appeal, its reopening); one
        awaiting the claimant the evidence request, then reminders; an approved or resolved one
        its decision with the reason, or the refund sent with its explorer link once paid.
        Raises PersonalDataErased once the claimant was forgotten: no notice goes to them.
        """
        status = self._next(Action.NOTIFY_CLAIMANT, by)
        if self.claimant_forgotten:
            raise PersonalDataErased(
                "the claimant was forgotten: no notice is sent to them",
                claimant_id=self.claim.claimant_id,
            )
        template, values = self._notice(now, appeal_window)
        notice = render(template, self.claim.language, ref=self.reference, **values)
        return self._send(notice, by=by, status=status, now=now)

    def _notice(self, now: datetime, appeal_window: timedelta) -> tuple[str, dict[str, Any]]:
        """The template fitting the dispute now, and its values."""
        decision = self.decision
        if self.status is Status.AWAITING_CLAIMANT:
            request = self.evidence_requests[-1]
            asked = any(n.sent_at >= request.requested_at for n in self.notices)
            values = {"what": request.what, "reply_by": request.requested_at + REPLY_WINDOW}
            return ("reminder" if asked else "evidence_request"), values
        if self.status in (Status.APPROVED, Status.RESOLVED) and decision is not None:
            payout = next((p for p in self.payouts if p.decision_number == decision.number), None)
            if payout is not None and PAYOUT_HASH.fullmatch(payout.reference):
                return "refund_sent", {
                    "amount": self._money(payout.units),
                    "sent_at": payout.executed_at,
                    "payout_hash": payout.reference,
                    "chain_id": self.claim.transaction.chain_id,
                }
            values = {"outcome": decision.outcome.value, "reason": decision.rationale}
            if decision.outcome is Outcome.REJECT:
                return "decision", {
                    **values,
                    "appeal_by": (self.resolved_at or now) + appeal_window,
                }
            values["amount"] = self._money(decision.units)
            if decision.outcome is Outcome.PARTIAL_REFUND:
                values["claimed"] = self.disputed
            return "decision", values
        reopened = self.reopened_at
        if reopened is not None and not any(n.sent_at >= reopened for n in self.notices):
            return "reopened", {"reopened_at": reopened}
        return "acknowledgement", {"amount": self.disputed, "filed_at": self.filed_at}

    def _money(self, units: int) -> Money:
        return Money(units, self.disputed.decimals, self.disputed.asset)

    def _send(self, notice: RenderedText, *, by: Actor, status: Status, now: datetime) -> str:
        self._claimant_notified(
            template=notice.template,
            language=notice.language,
            channel=self.claim.channel,
            subject=notice.subject,
            text=notice.body,
            actor=by.id,
            status=status,
            timestamp=now,
        )
        return notice.body

    @event(events.ClaimantNotified)
    def _claimant_notified(
        self,
        template: str,
        language: str,
        channel: str,
        subject: str | None,
        text: str,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        self.notices.append(Notice(template, language, text, timestamp))

    # -- the claimant's identity by wallet signature ----------------------------

    def issue_identity_challenge(
        self, *, domain: str, nonce: str, by: Actor, now: datetime
    ) -> WalletChallenge:
        """A one-time message for the claimed sender to sign; it replaces any earlier one.

        Raises InvalidTransition, NotAuthorized, IdentityMethodLocked, InvalidInput.
        """
        status = self.require_wallet_open(by)
        tx = self.claim.transaction
        challenge = WalletChallenge.issue(
            domain=domain,
            address=tx.sender,
            chain_id=tx.chain_id,
            dispute_id=self.id,
            nonce=nonce,
            now=now,
        )
        self._identity_challenge_issued(
            domain=challenge.domain,
            address=challenge.address,
            chain_id=challenge.chain_id,
            nonce=challenge.nonce,
            issued_at=challenge.issued_at,
            expires_at=challenge.expires_at,
            actor=by.id,
            status=status,
            timestamp=now,
        )
        return challenge

    def require_wallet_open(self, by: Actor) -> Status:
        """The status a wallet-signature step leaves; raises IdentityMethodLocked after five
        failed attempts, InvalidTransition, NotAuthorized."""
        status = self._next(Action.VERIFY_IDENTITY, by)
        if self.wallet_failures >= MAX_WALLET_FAILURES:
            raise IdentityMethodLocked(
                f"{MAX_WALLET_FAILURES} wallet signatures failed on this dispute: the method is "
                "locked; verify the claimant another way",
                actor=by.id,
                dispute_id=self.id,
            )
        return status

    @property
    def wallet_challenge(self) -> WalletChallenge | None:
        """The latest challenge issued, or None."""
        if self._challenge is None:
            return None
        return WalletChallenge.model_validate({**self._challenge, "dispute_id": self.id})

    def verify_wallet_identity(self, nonce: str, *, by: Actor, now: datetime) -> None:
        """Record the claimant verified by a signature over the challenge ``nonce``.

        Raises ChallengeReused when that challenge is not the latest or was answered already
        (another answer won the race), IdentityMethodLocked, InvalidTransition, NotAuthorized.
        """
        status = self.require_wallet_open(by)
        challenge = self.wallet_challenge
        if challenge is None or challenge.nonce != nonce or self.challenge_answered:
            raise ChallengeReused(
                "this challenge was already answered; ask for a new one",
                actor=by.id,
                dispute_id=self.id,
            )
        self._identity_verified(method=WALLET_SIGNATURE, actor=by.id, status=status, timestamp=now)

    def record_identity_failure(self, reason: str, *, by: Actor, now: datetime) -> None:
        """Record a refused wallet signature; the fifth locks the method."""
        status = self.require_wallet_open(by)
        self._identity_attempt_failed(
            method=WALLET_SIGNATURE,
            reason=reason,
            failures=self.wallet_failures + 1,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    @event(events.IdentityChallengeIssued)
    def _identity_challenge_issued(
        self,
        domain: str,
        address: str,
        chain_id: int,
        nonce: str,
        issued_at: datetime,
        expires_at: datetime,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        self._challenge = {
            "domain": domain,
            "address": address,
            "chain_id": chain_id,
            "nonce": nonce,
            "issued_at": issued_at,
            "expires_at": expires_at,
        }
        self.challenge_answered = False

    @event(events.IdentityAttemptFailed)
    def _identity_attempt_failed(
        self, method: str, reason: str, failures: int, actor: str, status: str, timestamp: datetime
    ) -> None:
        self.wallet_failures = failures
        self.challenge_answered = True

    # -- feedback and forgetting -----------------------------------------------------

    def record_feedback(self, feedback: Feedback, *, by: Actor, now: datetime) -> None:
        """Record the claimant's answer, once per resolution (a reopened dispute asks again).

        Raises InvalidTransition (not resolved, or answered already), NotAuthorized.
        """
        status = self._next(Action.RECORD_FEEDBACK, by)
        if self.rated_cycle == self.reopen_count:
            raise InvalidTransition(
                "the claimant's feedback on this resolution was already recorded",
                action=Action.RECORD_FEEDBACK,
                status=self.status,
                allowed=allowed_from(Action.RECORD_FEEDBACK),
                dispute_id=self.id,
            )
        self._feedback_recorded(
            rating=feedback.rating,
            comment=feedback.comment,
            channel=feedback.channel,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    @event(events.FeedbackRecorded)
    def _feedback_recorded(
        self, rating: int, comment: str, channel: str, actor: str, status: str, timestamp: datetime
    ) -> None:
        self.rated_cycle = self.reopen_count

    def forget_claimant(self, *, by: Actor, now: datetime) -> bool:
        """Record that the claimant was forgotten; False when it was recorded before.

        Raises NotAuthorized unless ``by`` is an approver.
        """
        status = self._next(Action.FORGET_CLAIMANT, by)
        if self.claimant_forgotten:
            return False
        self._claimant_forgotten(actor=by.id, status=status, timestamp=now)
        return True

    @event(events.ClaimantForgotten)
    def _claimant_forgotten(self, actor: str, status: str, timestamp: datetime) -> None:
        self.claimant_forgotten = True

    # -- ending and appeal -------------------------------------------------------

    def close(
        self, *, by: Actor, now: datetime, appeal_window: timedelta, render: Renderer
    ) -> None:
        """Close a resolved dispute; it can be reopened within the appeal window.

        The claimant is told, then asked how the help was: once per resolution, as a reopened
        dispute closes again; never once they were forgotten.
        """
        status = self._next(Action.CLOSE, by)
        language = self.claim.language
        notices = (
            []
            if self.claimant_forgotten
            else [
                render("closed", language, ref=self.reference, appeal_by=now + appeal_window),
                render(SATISFACTION_REQUEST, language, ref=self.reference),
            ]
        )
        self._closed(actor=by.id, status=status, timestamp=now)
        for notice in notices:
            self._send(notice, by=by, status=status, now=now)

    @event(events.Closed)
    def _closed(self, actor: str, status: str, timestamp: datetime) -> None:
        self.closed_at = timestamp

    def reopen(self, reason: str, *, by: Actor, now: datetime, appeal_window: timedelta) -> None:
        """Reopen a resolved or closed dispute on appeal, within the appeal window."""
        status = self._next(Action.REOPEN, by)
        ended = self.closed_at or self.resolved_at
        if ended is not None and now - ended > appeal_window:
            raise InvalidTransition(
                f"the appeal window of {appeal_window.days} days closed on "
                f"{(ended + appeal_window).isoformat()}",
                action=Action.REOPEN,
                status=self.status,
                allowed=allowed_from(Action.REOPEN),
                dispute_id=self.id,
            )
        self._reopened(reason=reason, actor=by.id, status=status, timestamp=now)

    @event(events.Reopened)
    def _reopened(self, reason: str, actor: str, status: str, timestamp: datetime) -> None:
        self.reopen_count += 1
        self.reopened_at = timestamp
        if self.decision is not None:
            self.decided_by += [self.decision.proposed_by, *self.decision.approvals]
            self.approved_before += list(self.decision.approvals)
        self.decision = None
        self.resolved_at = None
        self.closed_at = None

    def withdraw(self, reason: str, *, by: Actor, now: datetime) -> None:
        """Withdraw the dispute at the claimant's request; nothing more can happen to it."""
        status = self._next(Action.WITHDRAW, by)
        self._withdrawn(reason=reason, actor=by.id, status=status, timestamp=now)

    @event(events.Withdrawn)
    def _withdrawn(self, reason: str, actor: str, status: str, timestamp: datetime) -> None:
        self.decision = None

    # -- the checklist, contacts, escalation -------------------------------------

    @property
    def contacted(self) -> tuple[str, ...]:
        """The parties a contact attempt is recorded for."""
        return tuple(c.party for c in self.contacts)

    @property
    def checklist(self) -> tuple[ItemStatus, ...]:
        """The checklist of the dispute's reason, under the version it was filed with."""
        return evaluate(self.claim.reason, self.checklist_version, self)

    def record_contact_attempt(
        self, party: str, channel: str, note: str, *, by: Actor, now: datetime
    ) -> None:
        """Record an attempt to reach a party (the recipient...); an answer is not needed."""
        status = self._next(Action.RECORD_CONTACT, by)
        self._contact_attempted(
            party=party, channel=channel, note=note, actor=by.id, status=status, timestamp=now
        )

    @event(events.ContactAttempted)
    def _contact_attempted(
        self, party: str, channel: str, note: str, actor: str, status: str, timestamp: datetime
    ) -> None:
        self.contacts.append(ContactAttempt(party, channel, note, actor, timestamp))

    def escalate(self, reason: str, *, by: Actor, now: datetime) -> None:
        """Raise the priority one step and hand the dispute to the escalation queue."""
        status = self._next(Action.ESCALATE, by)
        target = escalate(self.priority)
        self._escalated(
            reason=reason,
            priority=target.priority,
            queue=target.queue,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    @event(events.Escalated)
    def _escalated(
        self, reason: str, priority: str, queue: str, actor: str, status: str, timestamp: datetime
    ) -> None:
        self.priority = priority
        self.escalations.append(EscalationRecord(reason, priority, queue, actor, timestamp))

    @property
    def queue(self) -> str | None:
        """The queue the dispute was handed to, if it was escalated."""
        return self.escalations[-1].queue if self.escalations else None

    # -- linked claims -------------------------------------------------------------

    def link_claim(self, other: UUID, *, by: Actor, now: datetime) -> bool:
        """Record that another dispute claims the same transaction; False when known already."""
        status = self._next(Action.LINK_CLAIM, by)
        if other == self.id or other in self.linked:
            return False
        self._claim_linked(linked_to=other, actor=by.id, status=status, timestamp=now)
        return True

    @event(events.ClaimLinked)
    def _claim_linked(self, linked_to: UUID, actor: str, status: str, timestamp: datetime) -> None:
        self.linked.append(linked_to)

    # -- provisional credit ----------------------------------------------------------

    @property
    def credit_plan(self) -> CreditSchedule | None:
        """When a provisional credit falls due under the jurisdiction's rule, if it has one."""
        jurisdiction = self.claim.jurisdiction
        if jurisdiction is None:
            return None
        return schedule(jurisdiction, self.filed_at, self.policy_version)

    @property
    def unsettled_credit(self) -> ProvisionalCredit | None:
        """The provisional credit granted and not yet made permanent or reversed."""
        return next((c for c in self.credits if c.state is CreditState.GRANTED), None)

    @property
    def concluded(self) -> bool:
        """Whether the investigation reached its final decision (or ended without one)."""
        return self.status in (Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN)

    def require_credit_grantable(self, *, by: Actor) -> int:
        """The units a provisional credit would pay now: what is disputed and not yet paid.

        Raises NotAuthorized (an approver grants), InvalidTransition (no rule for the
        jurisdiction, a credit already unsettled, a concluded dispute), InvalidInput
        (nothing left to credit).
        """
        self._next(Action.GRANT_PROVISIONAL_CREDIT, by)
        require_grant_allowed(self.credit_plan, tuple(self.credits))
        units = self.refundable.units
        if units <= 0:
            raise InvalidInput.of("amount", "the disputed amount has already been paid in full")
        return units

    def credit_key(self) -> str:
        """The payout key of the next provisional credit: the same on every retry."""
        return f"{self.id}:credit:{len(self.credits) + 1}"

    def decision_key(self, decision: Decision) -> str:
        """The payout key of executing ``decision``: the same on every retry."""
        return f"{self.id}:{decision.number}"

    def unrecorded_payouts(self) -> list[tuple[Action, str]]:
        """The payouts that, begun, are not recorded yet, by the command that completes each
        and the key it pays under: the next provisional credit, and the approved decision
        until it is executed."""
        payouts = [(Action.GRANT_PROVISIONAL_CREDIT, self.credit_key())]
        if self.status is Status.APPROVED and self.decision is not None:
            payouts.append((Action.EXECUTE_DECISION, self.decision_key(self.decision)))
        return payouts

    def record_provisional_credit(
        self, units: int, reference: str, *, by: Actor, now: datetime
    ) -> None:
        """Record a provisional credit paid under the payout rail's reference."""
        status = self._next(Action.GRANT_PROVISIONAL_CREDIT, by)
        if units != self.require_credit_grantable(by=by):
            raise InvalidInput.of("units", "the credit must pay what is disputed and unpaid")
        self._provisional_credit_granted(
            number=len(self.credits) + 1,
            units=units,
            reference=reference,
            actor=by.id,
            status=status,
            timestamp=now,
        )

    @event(events.ProvisionalCreditGranted)
    def _provisional_credit_granted(
        self, number: int, units: int, reference: str, actor: str, status: str, timestamp: datetime
    ) -> None:
        self.credits.append(ProvisionalCredit(units, actor, timestamp))

    def _settle_credit(
        self, credit: ProvisionalCredit, awarded: int, *, by: Actor, now: datetime
    ) -> None:
        outcome = settlement(credit, awarded)
        number = self.credits.index(credit) + 1
        if outcome.permanent:
            self._provisional_credit_made_permanent(
                number=number, actor=by.id, status=self.status, timestamp=now
            )
        else:
            self._provisional_credit_reversed(
                number=number,
                reversed_units=outcome.reversed_units,
                instruction=f"{self.id}:credit:{number}:reversal",
                actor=by.id,
                status=self.status,
                timestamp=now,
            )

    @event(events.ProvisionalCreditMadePermanent)
    def _provisional_credit_made_permanent(
        self, number: int, actor: str, status: str, timestamp: datetime
    ) -> None:
        credit = self.credits[number - 1]
        self.credits[number - 1] = credit.make_permanent(by=actor, at=timestamp)

    @event(events.ProvisionalCreditReversed)
    def _provisional_credit_reversed(
        self,
        number: int,
        reversed_units: int,
        instruction: str,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        credit = self.credits[number - 1]
        self.credits[number - 1] = credit.reverse(reversed_units, by=actor, at=timestamp)

    def record_due_credit_events(self, *, by: Actor, now: datetime) -> list[str]:
        """Record, once each, a credit fallen due and not granted, and a credit made permanent
        by the policy at the final deadline; returns the names of the events recorded.

        Raises NotAuthorized unless ``by`` may record SLA events.
        """
        require_permission(by, Action.RECORD_SLA)
        if self.status not in OPEN:
            return []
        status = self._next(Action.RECORD_SLA, by)
        plan = self.credit_plan
        recorded: list[str] = []
        owed = credit_owed(plan, now=now, concluded=self.concluded, credited=bool(self.credits))
        if owed and plan is not None and not self.credit_due_recorded:
            self._provisional_credit_due(
                due_at=plan.credit_due_at, actor=by.id, status=status, timestamp=now
            )
            recorded.append("ProvisionalCreditDue")
        credit = self.unsettled_credit
        if credit is not None and due_for_automatic_permanence(plan, credit, now=now):
            self._settle_credit(credit, credit.units, by=by, now=now)
            recorded.append("ProvisionalCreditMadePermanent")
        return recorded

    @event(events.ProvisionalCreditDue)
    def _provisional_credit_due(
        self, due_at: datetime, actor: str, status: str, timestamp: datetime
    ) -> None:
        self.credit_due_recorded = True

    # -- service levels ----------------------------------------------------------

    def record_sla_alert(
        self,
        clock: str,
        threshold: int,
        due_at: datetime,
        *,
        by: Actor,
        now: datetime,
    ) -> bool:
        """Record a warning (threshold < 100 %) or the breach (100 %) of a clock, once.

        Returns False, recording nothing, when that alert is already recorded.
        """
        status = self._next(Action.RECORD_SLA, by)
        if clock not in self.sla.clocks or threshold in self.sla.clocks[clock].alerts:
            return False
        if threshold >= 100:
            self._sla_breached(
                clock=clock,
                due_at=due_at,
                detected_at=now,
                actor=by.id,
                status=status,
                timestamp=now,
            )
        else:
            self._sla_warning_raised(
                clock=clock,
                threshold=threshold,
                due_at=due_at,
                detected_at=now,
                actor=by.id,
                status=status,
                timestamp=now,
            )
        return True

    def record_due_sla_alerts(self, *, by: Actor, now: datetime) -> list[SlaAlert]:
        """Record every warning and breach due by ``now`` and not yet recorded; returns them."""
        if self.status not in OPEN:
            return []
        return [
            alert
            for alert in self.sla.alerts_due(now)
            if self.record_sla_alert(alert.clock, alert.threshold, alert.due_at, by=by, now=now)
        ]

    @event(events.SlaWarningRaised)
    def _sla_warning_raised(
        self,
        clock: str,
        threshold: int,
        due_at: datetime,
        detected_at: datetime,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        """The clock moves in :meth:`Event.mutate`, as for every event."""

    @event(events.SlaBreached)
    def _sla_breached(
        self,
        clock: str,
        due_at: datetime,
        detected_at: datetime,
        actor: str,
        status: str,
        timestamp: datetime,
    ) -> None:
        """The clock moves in :meth:`Event.mutate`, as for every event."""


@dataclass(frozen=True)
class SlaCopy:
    """What the SLA view holds of a dispute with alerts due: its status and version, and its
    clocks with an alert due, as they stood at that version."""

    dispute_id: UUID
    status: Status
    version: int
    clocks: tuple[SlaClock, ...]


def due_sla_alerts(
    copy: SlaCopy, *, by: Actor, now: datetime
) -> list[tuple[SlaAlert, events.DisputeEvent]]:
    """The warnings and breaches due by ``now`` on a view's copy, each with its event.

    The events are numbered from ``copy.version + 1``: saved through the store, they are
    refused as a version conflict when the copy is stale (the dispute changed after the view
    read it). They are the events :meth:`Dispute.record_due_sla_alerts` records on the
    dispute itself. Raises NotAuthorized unless ``by`` may record SLA events.
    """
    require_permission(by, Action.RECORD_SLA)
    status = next_status(Action.RECORD_SLA, copy.status)
    if status is None:
        return []
    due: list[tuple[SlaAlert, events.DisputeEvent]] = []
    for version, alert in enumerate(alerts_due(copy.clocks, now), start=copy.version + 1):
        fields: dict[str, Any] = {
            "originator_id": copy.dispute_id,
            "originator_version": version,
            "timestamp": now,
            "clock": alert.clock,
            "due_at": alert.due_at,
            "detected_at": now,
            "actor": by.id,
            "status": status,
        }
        if alert.threshold >= 100:
            due.append((alert, Dispute.SlaBreached(**fields)))
        else:
            fields["threshold"] = alert.threshold
            due.append((alert, Dispute.SlaWarningRaised(**fields)))
    return due
