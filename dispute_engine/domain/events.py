"""The events a dispute records, as classes other modules read them by.

Projections, views and the engine match events with ``isinstance`` against these classes.
The aggregate names them in its ``@event`` decorators, so the library stores each under the
aggregate's topic (``dispute_engine.domain.dispute:Dispute.<Name>``), the topic every
release has written: stored events keep loading as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate


class DisputeEvent(Aggregate.Event):
    """Every dispute event records who acted and the status it left the dispute in."""

    actor: str
    status: str


class Filed(DisputeEvent, Aggregate.Created):
    """A dispute was filed: the claim as validated, and the SLA policy it is held to.

    Version 2 added ``checklist_version``; version 1 filings are read with none.
    """

    class_version = 2

    idempotency_key: str
    fingerprint: str
    claim: dict[str, Any]
    policy_version: str
    checklist_version: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A dispute filed before checklists existed has none."""
        state["checklist_version"] = None

    @property
    def claimed_transaction(self) -> tuple[int, str]:
        """The chain id and (lower-case) hash of the transaction the claim disputes."""
        tx = self.claim["transaction"]
        return int(tx["chain_id"]), str(tx["tx_hash"]).lower()


class Assigned(DisputeEvent):
    """The dispute was given to an investigator."""

    investigator: str


class IdentityVerified(DisputeEvent):
    """The claimant's identity was checked, and how."""

    method: str


class EvidenceRequested(DisputeEvent):
    """The claimant was asked for something."""

    what: str


class EvidenceAdded(DisputeEvent):
    """Stored evidence was attached (its bytes live in the evidence store under sha256)."""

    sha256: str
    size: int
    media_type: str
    filename: str
    kind: str
    source: str


class NoteAdded(DisputeEvent):
    """An internal note was kept."""

    text: str


class TransactionLookedUp(DisputeEvent):
    """What the chain says of the transaction, compared with the claim."""

    facts: dict[str, Any]
    mismatches: list[str]
    moved: int | None
    supersedes: int


class DecisionProposed(DisputeEvent):
    """A decision was proposed, naming each chain fact and checklist item it goes against.

    Version 2 added ``overrides``; version 1 events (release 0.1) are read with none.
    Version 3 added ``approvals_required``; earlier decisions needed one approval.
    """

    class_version = 3

    number: int
    outcome: str
    units: int
    rationale: str
    overrides: list[str]
    approvals_required: int

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A decision proposed before overrides existed overrode nothing."""
        state["overrides"] = []

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """A decision proposed before two approvals existed needed one."""
        state["approvals_required"] = 1


class DecisionApproved(DisputeEvent):
    """A second person approved the proposed decision.

    Version 2 added ``signature``: the approver's signature of the decision statement.
    """

    class_version = 2

    number: int
    signature: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Recorded before steps were signed: unsigned."""
        state["signature"] = None


class DecisionSentBack(DisputeEvent):
    """The proposed decision was returned to the investigator.

    Version 2 added ``signature``: the approver's signature of the decision statement.
    """

    class_version = 2

    number: int
    reason: str
    signature: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Recorded before steps were signed: unsigned."""
        state["signature"] = None


class DecisionExecuted(DisputeEvent):
    """The approved decision was paid, under the payout rail's reference.

    Version 2 added ``signature``: the executor's signature of the decision statement.
    """

    class_version = 2

    number: int
    units: int
    reference: str
    signature: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Recorded before steps were signed: unsigned."""
        state["signature"] = None


class ClaimantNotified(DisputeEvent):
    """A notice was sent to the claimant: the catalog template, language, subject and text.

    Version 2 added ``subject``; earlier notices (the templates before the catalogs) have
    none, and the outbox gives them a subject naming the dispute.
    """

    class_version = 2

    template: str
    language: str
    channel: str
    subject: str | None
    text: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Recorded before notices had subjects."""
        state["subject"] = None


class Closed(DisputeEvent):
    """A resolved dispute was closed."""


class Reopened(DisputeEvent):
    """A resolved or closed dispute was reopened on appeal."""

    reason: str


class Withdrawn(DisputeEvent):
    """The claimant withdrew the dispute."""

    reason: str


class SlaWarningRaised(DisputeEvent):
    """A clock used a warning share (50, 75 or 90 %) of its target."""

    clock: str
    threshold: int
    due_at: datetime
    detected_at: datetime


class SlaBreached(DisputeEvent):
    """A clock reached its target before its metric was met."""

    clock: str
    due_at: datetime
    detected_at: datetime


class ContactAttempted(DisputeEvent):
    """An attempt to reach a party about the dispute (an answer is not needed)."""

    party: str
    channel: str
    note: str


class Escalated(DisputeEvent):
    """The dispute was handed to the escalation queue at a raised priority."""

    reason: str
    priority: str
    queue: str


class ClaimLinked(DisputeEvent):
    """Another dispute claims the same transaction (chain id and hash)."""

    linked_to: UUID


class ProvisionalCreditGranted(DisputeEvent):
    """The claimant was credited ahead of the decision, under the payout rail's reference."""

    number: int
    units: int
    reference: str


class ProvisionalCreditMadePermanent(DisputeEvent):
    """A provisional credit became the claimant's for good."""

    number: int


class ProvisionalCreditReversed(DisputeEvent):
    """A provisional credit was taken back, in whole or in part.

    ``instruction`` keys the reversal for the wallet's ledger, which debits the claimant.
    """

    number: int
    reversed_units: int
    instruction: str


class ProvisionalCreditDue(DisputeEvent):
    """The jurisdiction's credit target passed with no credit and no decision."""

    due_at: datetime


class IdentityChallengeIssued(DisputeEvent):
    """A one-time message was issued for the claimant to sign with the claimed wallet.

    A newer challenge replaces an older one: only the latest may be answered, once.
    """

    domain: str
    address: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expires_at: datetime


class IdentityAttemptFailed(DisputeEvent):
    """An answer to the wallet challenge was refused, and why (``expired``, ``reused``,
    ``malformed`` or ``wrong_signer``); ``failures`` counts them, and five lock the method."""

    method: str
    reason: str
    failures: int


class FeedbackRecorded(DisputeEvent):
    """The claimant answered the satisfaction request of the current resolution."""

    rating: int
    comment: str
    channel: str


class ClaimantForgotten(DisputeEvent):
    """The claimant asked to be forgotten: their data key was destroyed; no notice follows."""


EVENT_CLASSES: tuple[type[DisputeEvent], ...] = (
    Filed,
    Assigned,
    IdentityVerified,
    EvidenceRequested,
    EvidenceAdded,
    NoteAdded,
    TransactionLookedUp,
    DecisionProposed,
    DecisionApproved,
    DecisionSentBack,
    DecisionExecuted,
    ClaimantNotified,
    Closed,
    Reopened,
    Withdrawn,
    SlaWarningRaised,
    SlaBreached,
    ContactAttempted,
    Escalated,
    ClaimLinked,
    ProvisionalCreditGranted,
    ProvisionalCreditMadePermanent,
    ProvisionalCreditReversed,
    ProvisionalCreditDue,
    IdentityChallengeIssued,
    IdentityAttemptFailed,
    FeedbackRecorded,
    ClaimantForgotten,
)
"""Every event a dispute records."""
