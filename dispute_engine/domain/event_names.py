"""The one registry of dispute event names: what other modules match events by."""

from __future__ import annotations

from enum import StrEnum


class EventName(StrEnum):
    """The name of every event a dispute records (its event class's name)."""

    FILED = "Filed"
    ASSIGNED = "Assigned"
    IDENTITY_VERIFIED = "IdentityVerified"
    EVIDENCE_REQUESTED = "EvidenceRequested"
    EVIDENCE_ADDED = "EvidenceAdded"
    NOTE_ADDED = "NoteAdded"
    TRANSACTION_LOOKED_UP = "TransactionLookedUp"
    DECISION_PROPOSED = "DecisionProposed"
    DECISION_APPROVED = "DecisionApproved"
    DECISION_SENT_BACK = "DecisionSentBack"
    DECISION_EXECUTED = "DecisionExecuted"
    CLAIMANT_NOTIFIED = "ClaimantNotified"
    CLOSED = "Closed"
    REOPENED = "Reopened"
    WITHDRAWN = "Withdrawn"
    SLA_WARNING_RAISED = "SlaWarningRaised"
    SLA_BREACHED = "SlaBreached"
    CONTACT_ATTEMPTED = "ContactAttempted"
    ESCALATED = "Escalated"
    CLAIM_LINKED = "ClaimLinked"
    PROVISIONAL_CREDIT_GRANTED = "ProvisionalCreditGranted"
    PROVISIONAL_CREDIT_MADE_PERMANENT = "ProvisionalCreditMadePermanent"
    PROVISIONAL_CREDIT_REVERSED = "ProvisionalCreditReversed"
    PROVISIONAL_CREDIT_DUE = "ProvisionalCreditDue"
