"""What an investigator must establish before deciding, per dispute reason, and what is still open.

A support desk collects the time, amount and counterparty of the transaction and the
claimant's proofs, then investigates; what exactly to check depends on why the claimant
disputes. Each reason has a checklist of items; an item is done when a recorded fact covers
it (a chain lookup, a verified identity, evidence of a kind from a source, a contact attempt),
never by a click. Checklists are versioned: a dispute keeps the version it was filed under.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.chain_facts import ChainFacts, Comparison
from dispute_engine.domain.errors import InvalidInput

ALL_OPEN_ITEMS = "checklist"  # the override that covers every open item at once
STRONG_IDENTITY_METHODS = frozenset({"wallet_signature", "document"})
PAYMENT_PROOF_KINDS = frozenset({"receipt", "screenshot", "document"})


class Proof(Protocol):
    """A piece of evidence as the checklist sees it: what it is and who supplied it."""

    @property
    def kind(self) -> str: ...

    @property
    def source(self) -> str: ...


class CaseFacts(Protocol):
    """The recorded facts of a dispute that checklist items are satisfied by (read-only)."""

    @property
    def identity_method(self) -> str | None: ...

    @property
    def evidence(self) -> Sequence[Proof]: ...

    @property
    def chain_lookups(self) -> Sequence[tuple[ChainFacts, Comparison]]: ...

    @property
    def contacted(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class RecordedFacts:
    """Case facts held as plain values (a view's copy, or a dispute's facts gathered once)."""

    identity_method: str | None = None
    evidence: tuple[Proof, ...] = ()
    chain_lookups: tuple[tuple[ChainFacts, Comparison], ...] = ()
    contacted: tuple[str, ...] = ()  # parties a contact attempt was recorded for


class Requirement(Protocol):
    """A check an item needs; ``met`` reads recorded facts only."""

    def met(self, facts: CaseFacts) -> bool: ...


@dataclass(frozen=True)
class IdentityVerified:
    """The claimant's identity was verified, by one of ``methods`` when given."""

    methods: frozenset[str] | None = None

    def met(self, facts: CaseFacts) -> bool:
        """Whether a verification by an accepted method is recorded."""
        method = facts.identity_method
        return method is not None and (self.methods is None or method in self.methods)


@dataclass(frozen=True)
class ChainLookedUp:
    """The transaction was looked up with a conclusive answer; ``final`` also needs finality.

    A ``pending`` observation settles nothing: the transaction may still succeed or vanish.
    With ``final``, a ``not_found`` answer never satisfies it (absence is never final).
    """

    final: bool = False
    recipient_known: bool = False

    def met(self, facts: CaseFacts) -> bool:
        """Whether the latest recorded observation answers the question."""
        if not facts.chain_lookups:
            return False
        latest = facts.chain_lookups[-1][0]
        if latest.status == "pending":
            return False
        if self.final and not (latest.finalized and latest.status != "not_found"):
            return False
        return not self.recipient_known or _recipient(latest) is not None


def _recipient(facts: ChainFacts) -> str | None:
    # A token transfer pays the log's recipient; the transaction's `to` is the token contract.
    if facts.token_transfers:
        return facts.token_transfers[0].recipient
    return facts.recipient


@dataclass(frozen=True)
class EvidenceOf:
    """At least ``count`` pieces of evidence of one of ``kinds`` from one of ``sources``."""

    kinds: frozenset[str]
    sources: frozenset[str] = frozenset({"claimant", "investigator"})
    count: int = 1

    def met(self, facts: CaseFacts) -> bool:
        """Whether enough matching evidence is recorded."""
        found = sum(1 for e in facts.evidence if e.kind in self.kinds and e.source in self.sources)
        return found >= self.count


@dataclass(frozen=True)
class Contacted:
    """A contact attempt with ``party`` (the recipient, the merchant...) is recorded."""

    party: str

    def met(self, facts: CaseFacts) -> bool:
        """Whether an attempt to reach the party is recorded (an answer is not required)."""
        return self.party in facts.contacted


@dataclass(frozen=True)
class Item:
    """One thing to establish: its name (what an override names) and what satisfies it."""

    name: str
    description: str
    requirement: Requirement


@dataclass(frozen=True)
class ItemStatus:
    """An item as evaluated on a dispute's facts."""

    name: str
    description: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    """The items of one reason under one checklist version."""

    version: str
    reason: str
    items: tuple[Item, ...]

    def evaluate(self, facts: CaseFacts) -> tuple[ItemStatus, ...]:
        """Each item as done or open, in checklist order."""
        return tuple(
            ItemStatus(i.name, i.description, i.requirement.met(facts)) for i in self.items
        )


@dataclass(frozen=True)
class ChecklistPolicy:
    """One version of the checklists of every reason."""

    version: str
    reasons: Mapping[str, tuple[Item, ...]] = field(hash=False)

    def checklist(self, reason: str) -> Checklist:
        """The checklist of a reason. Raises LookupError for a reason the version lacks."""
        if reason not in self.reasons:
            raise LookupError(f"checklist version {self.version} has no checklist for {reason}")
        return Checklist(self.version, reason, self.reasons[reason])


IDENTITY = Item("identity_verified", "the claimant's identity is verified", IdentityVerified())
STRONG_IDENTITY = Item(
    "identity_verified",
    "the claimant's identity is verified by wallet signature or identity document",
    IdentityVerified(STRONG_IDENTITY_METHODS),
)
LOOKUP = Item(
    "chain_lookup",
    "the transaction is looked up on chain (time, amount, counterparty)",
    ChainLookedUp(),
)
FINAL = Item(
    "chain_final",
    "the chain shows the transaction in a final block: its outcome can no longer change",
    ChainLookedUp(final=True),
)
PAYMENT_PROOF = Item(
    "payment_proof",
    "the claimant's proof of the payment (receipt, screenshot or document)",
    EvidenceOf(PAYMENT_PROOF_KINDS, sources=frozenset({"claimant"})),
)
STATEMENT = Item(
    "claimant_statement",
    "a statement from the claimant of what happened",
    EvidenceOf(frozenset({"statement"}), sources=frozenset({"claimant"})),
)

CHECKLISTS: dict[str, ChecklistPolicy] = {
    "2026-12": ChecklistPolicy(
        version="2026-12",
        reasons={
            "not_received": (IDENTITY, LOOKUP, FINAL, PAYMENT_PROOF),
            "wrong_recipient": (
                IDENTITY,
                Item(
                    "recipient_on_chain",
                    "the chain lookup shows who received the funds",
                    ChainLookedUp(recipient_known=True),
                ),
                Item(
                    "recipient_contacted",
                    "an attempt to contact the recipient is recorded",
                    Contacted("recipient"),
                ),
                PAYMENT_PROOF,
            ),
            "wrong_amount": (
                IDENTITY,
                LOOKUP,
                Item(
                    "intended_amount_proof",
                    "proof of the amount meant (a receipt, screenshot, document or chat log)",
                    EvidenceOf(
                        frozenset({"receipt", "document", "screenshot", "chat_log"}),
                        sources=frozenset({"claimant"}),
                    ),
                ),
            ),
            "duplicate": (
                IDENTITY,
                LOOKUP,
                Item(
                    "both_payments_shown",
                    "proof of both payments (two receipts, screenshots or documents)",
                    EvidenceOf(PAYMENT_PROOF_KINDS, count=2),
                ),
                Item(
                    "recipient_contacted",
                    "an attempt to ask the recipient to return the duplicate is recorded",
                    Contacted("recipient"),
                ),
            ),
            "unauthorized": (STRONG_IDENTITY, STATEMENT, LOOKUP),
            "failed_but_debited": (
                IDENTITY,
                FINAL,
                Item(
                    "debit_proof",
                    "proof that the wallet was debited (a receipt, a screenshot, the ledger entry)",
                    EvidenceOf(PAYMENT_PROOF_KINDS),
                ),
            ),
            "other": (IDENTITY, LOOKUP, STATEMENT),
        },
    )
}
CURRENT_CHECKLIST_VERSION = "2026-12"
# Every name an override may give a checklist item, across versions.
ITEM_NAMES: frozenset[str] = frozenset(
    {ALL_OPEN_ITEMS}
    | {i.name for policy in CHECKLISTS.values() for items in policy.reasons.values() for i in items}
)


def evaluate(reason: str, version: str | None, facts: CaseFacts) -> tuple[ItemStatus, ...]:
    """A dispute's items as done or open under the version it was filed with.

    A dispute filed before checklists existed (``version`` None) has no items.
    Raises LookupError for an unknown version or reason.
    """
    if version is None:
        return ()
    return checklist_for(reason, version).evaluate(facts)


def checklist_for(reason: str, version: str = CURRENT_CHECKLIST_VERSION) -> Checklist:
    """The checklist of a reason under a version. Raises LookupError for an unknown one."""
    if version not in CHECKLISTS:
        raise LookupError(f"no checklist version {version}")
    return CHECKLISTS[version].checklist(reason)


def open_items(statuses: Iterable[ItemStatus]) -> tuple[str, ...]:
    """The names of the items still open, in checklist order."""
    return tuple(s.name for s in statuses if not s.done)


def uncovered(statuses: Iterable[ItemStatus], overrides: Iterable[str]) -> tuple[str, ...]:
    """The open items that the overrides do not cover, in checklist order.

    An override names an item, or is ``"checklist"`` for all open items. Names are compared
    in canonical form; names of other rules (the money rule's ``amount``...) are ignored here.
    Raises InvalidInput for an override holding invisible characters or nothing at all.
    """
    named = {canonical_id(o, field="overrides") for o in overrides}
    if ALL_OPEN_ITEMS in named:
        return ()
    return tuple(name for name in open_items(statuses) if name not in named)


def require_covered(statuses: Iterable[ItemStatus], overrides: Iterable[str]) -> None:
    """Refuse a decision while checklist items are open and not overridden.

    Raises InvalidInput on ``overrides``, naming each uncovered item.
    """
    missing = uncovered(statuses, overrides)
    if missing:
        raise InvalidInput.of(
            "overrides",
            "open checklist items must be completed or overridden with a rationale: "
            + ", ".join(missing),
        )


def markdown_table(version: str = CURRENT_CHECKLIST_VERSION) -> str:
    """The checklists of a version as Markdown: per reason, each item and what it asks for.

    Raises LookupError for an unknown version.
    """
    if version not in CHECKLISTS:
        raise LookupError(f"no checklist version {version}")
    lines = ["| reason | item | done when |", "|---|---|---|"]
    for reason, items in CHECKLISTS[version].reasons.items():
        lines += [f"| `{reason}` | `{i.name}` | {i.description} |" for i in items]
    return "\n".join(lines) + "\n"
