"""Input models for the engine's commands, validated at the edge.

Every model is frozen, refuses unknown fields, and raises
:class:`~dispute_engine.errors.InvalidInput` naming the field at fault.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.casework import ContactChannel, ContactParty
from dispute_engine.domain.chain_facts import OVERRIDABLE
from dispute_engine.domain.checklist import ITEM_NAMES
from dispute_engine.domain.claim import Claim, ClaimedTransaction, ExactDecimal, LongText, ShortText
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.evidence import (
    MAX_EVIDENCE_BYTES,
    MEDIA_TYPES,
    EvidenceKind,
    EvidenceSource,
)
from dispute_engine.domain.value_object import FieldError, ValueObject

__all__ = ["AddEvidence", "ClaimedTransaction", "FileDispute", "ProposeDecision"]

MONEY_OVERRIDES: frozenset[str] = frozenset({*OVERRIDABLE, "no_lookup"})
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]


class FileDispute(Claim):
    """File a dispute: the claim, plus a key that makes a retried filing harmless."""

    idempotency_key: IdempotencyKey

    @property
    def claim(self) -> Claim:
        """The claim this filing makes."""
        fields = {name: getattr(self, name) for name in Claim.model_fields}
        return Claim.model_construct(**fields)  # already validated as part of this filing


class AddEvidence(ValueObject):
    """Attach evidence: a file from the claimant or found by the investigator."""

    kind: EvidenceKind
    media_type: str
    filename: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f\x7f]+$")]
    content: Annotated[bytes, Field(min_length=1, max_length=MAX_EVIDENCE_BYTES)]
    source: EvidenceSource = "investigator"

    @field_validator("media_type")
    @classmethod
    def _known_media_type(cls, value: str) -> str:
        media_type = value.lower()
        if media_type not in MEDIA_TYPES:
            raise ValueError(f"must be one of {', '.join(sorted(MEDIA_TYPES))}")
        return media_type


class ProposeDecision(ValueObject):
    """Propose a decision: refund, partial refund, adjustment or rejection, with reasons."""

    outcome: Outcome
    amount: ExactDecimal | None = None
    rationale: LongText
    # Each chain fact the decision goes against, on purpose: status, recipient, asset,
    # decimals, amount, or no_lookup when no lookup is recorded; each open checklist item
    # decided without, or "checklist" for all of them.
    overrides: tuple[str, ...] = ()

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(canonical_id(o, field="overrides") for o in value)
        unknown = sorted(set(names) - MONEY_OVERRIDES - ITEM_NAMES)
        if unknown:
            raise ValueError(
                f"unknown override {', '.join(unknown)}: name a chain fact "
                f"({', '.join(sorted(MONEY_OVERRIDES))}), a checklist item, or checklist"
            )
        return names

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: ExactDecimal | None) -> ExactDecimal | None:
        if value is not None and (not value.is_finite() or value <= 0):
            raise ValueError("must be a finite amount greater than zero")
        return value

    @model_validator(mode="after")
    def _rejection_pays_nothing(self) -> Self:
        if self.outcome is Outcome.REJECT and self.amount is not None:
            raise FieldError("amount", "a rejection pays nothing: leave the amount out")
        if self.outcome is Outcome.REJECT and MONEY_OVERRIDES & set(self.overrides):
            raise FieldError("overrides", "a rejection pays nothing: it overrides no chain fact")
        return self


class RecordContact(ValueObject):
    """Record an attempt to reach a party about the dispute (the recipient, an exchange...)."""

    party: ContactParty
    channel: ContactChannel
    note: LongText


class Reason(ValueObject):
    """A short free-text reason (sending back, reopening, withdrawing), validated."""

    text: LongText


class Name(ValueObject):
    """A short identifier-like text (an investigator, an identity-check method)."""

    text: ShortText
