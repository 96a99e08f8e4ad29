"""Second-level review and escalation: who may look at a decision again, and how many approve.

An appeal deserves a fresh pair of eyes: the reopened dispute goes to an investigator who did
not decide it, and its decision to an approver who did not approve the first. Large amounts
and unauthorized transfers need two distinct approvals before money moves. Escalation raises
the priority and hands the dispute to the escalation queue. Staff ids are compared in their
canonical form, so one person under two spellings is one person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import get_args

from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.claim import Priority
from dispute_engine.domain.errors import InvalidInput, NotAuthorized
from dispute_engine.domain.money import Money

PRIORITIES: tuple[Priority, ...] = get_args(Priority)  # lowest first
_RANK: dict[str, int] = {p: i for i, p in enumerate(PRIORITIES)}
ESCALATION_QUEUE = "escalation"


def _ids(people: Iterable[str]) -> set[str]:
    return {canonical_id(p, field="staff_id") for p in people}


def require_fresh_investigator(investigator: str, decided_by: Iterable[str]) -> None:
    """Refuse an appeal's investigator who decided the dispute before.

    ``decided_by`` holds whoever proposed or approved an earlier decision on it.

    Raises NotAuthorized.
    """
    who = canonical_id(investigator, field="investigator")
    if who in _ids(decided_by):
        raise NotAuthorized(
            "an appeal goes to an investigator who did not decide the dispute before", actor=who
        )


def require_fresh_approver(approver: str, approved_before: Iterable[str]) -> None:
    """Refuse an appeal's approver who approved an earlier decision on the dispute.

    Raises NotAuthorized.
    """
    who = canonical_id(approver, field="approver")
    if who in _ids(approved_before):
        raise NotAuthorized(
            "an appeal's decision needs an approver who did not approve the first one", actor=who
        )


@dataclass(frozen=True)
class ApprovalPolicy:
    """When a money-moving decision needs a second approver.

    ``second_approval_above`` maps an asset to the amount (in the asset's units) above which
    two approvals are needed; an asset not listed has no known value, so it always needs two.
    """

    second_approval_above: Mapping[str, Decimal] = field(hash=False)
    second_approval_reasons: frozenset[str] = frozenset({"unauthorized"})

    def approvals_required(self, amount: Money, reason: str) -> int:
        """How many distinct approvals the decision needs before execution: 1 or 2."""
        if reason in self.second_approval_reasons:
            return 2
        limit = self.second_approval_above.get(amount.asset.upper())
        return 2 if limit is None or amount.amount > limit else 1


DEFAULT_APPROVAL_POLICY = ApprovalPolicy(
    second_approval_above={
        "USDT": Decimal(10_000),
        "USDC": Decimal(10_000),
        "DAI": Decimal(10_000),
        "ETH": Decimal(3),
        "WETH": Decimal(3),
        "WBTC": Decimal("0.1"),
        "BNB": Decimal(15),
        "POL": Decimal(25_000),
        "MATIC": Decimal(25_000),
    }
)


def approve(
    approver: str, *, proposed_by: str, approvals: tuple[str, ...], required: int
) -> tuple[str, ...]:
    """The approvals after ``approver`` approves: distinct people, never the proposer.

    Raises NotAuthorized for the proposer, a second approval by the same person, or an
    approval beyond the number required.
    """
    who = canonical_id(approver, field="approver")
    if who == canonical_id(proposed_by, field="proposed_by"):
        raise NotAuthorized(
            "a decision that moves money needs a second approver, not its proposer", actor=who
        )
    if who in _ids(approvals):
        raise NotAuthorized(
            "the second approval must come from another approver than the first", actor=who
        )
    if len(approvals) >= required:
        raise NotAuthorized("the decision already has every approval it needs", actor=who)
    return (*approvals, who)


def fully_approved(approvals: tuple[str, ...], required: int) -> bool:
    """Whether enough distinct people approved for the decision to be executed."""
    return len(_ids(approvals)) >= required


@dataclass(frozen=True)
class Escalation:
    """Where an escalated dispute goes: its new priority and queue."""

    priority: Priority
    queue: str


def escalate(priority: str) -> Escalation:
    """Raise the priority one step (urgent stays urgent) and target the escalation queue.

    Raises InvalidInput for an unknown priority.
    """
    if priority not in _RANK:
        raise InvalidInput.of("priority", f"must be one of {', '.join(PRIORITIES)}")
    return Escalation(PRIORITIES[min(_RANK[priority] + 1, len(PRIORITIES) - 1)], ESCALATION_QUEUE)
