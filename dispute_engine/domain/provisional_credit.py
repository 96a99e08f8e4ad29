"""Provisional credit: money the claimant is owed while the investigation is still running.

Where a jurisdiction's rule requires it (the Regulation E style rule in the US), a dispute not
concluded within the credit target must credit the claimant the disputed amount; the final
decision then makes the credit permanent or reverses it, exactly once. Elsewhere there is no
rule and no credit. The rules are versioned with the SLA policy the dispute was filed under,
and deadlines count on the jurisdiction's business-day calendar, from filing, without pauses
(the regulation's days run whatever the claimant does).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from dispute_engine.domain.errors import InvalidInput, InvalidTransition
from dispute_engine.domain.sla_policy import CURRENT_POLICY, Target


@dataclass(frozen=True)
class CreditRule:
    """A jurisdiction's rule: credit by ``credit_within``; conclude by ``final_within``."""

    country: str
    credit_within: Target
    final_within: Target
    permanent_at_final: bool  # an unconcluded credit becomes the claimant's at the final deadline


@dataclass(frozen=True)
class CreditSchedule:
    """When a dispute's provisional credit falls due, and its final deadline."""

    credit_due_at: datetime
    final_at: datetime
    permanent_at_final: bool


CREDIT_RULES: dict[str, tuple[CreditRule, ...]] = {
    # Keyed by SLA policy version: a dispute's filed version picks its credit rules too.
    "2026-11": (
        CreditRule(
            country="US",
            # The SLA policy's Reg E target: 10 business days, 45 calendar days with credit.
            credit_within=Target(10, "business_days"),
            final_within=Target(45, "calendar_days"),
            permanent_at_final=True,
        ),
    ),
}


def credit_rule(jurisdiction: str, version: str = CURRENT_POLICY.version) -> CreditRule | None:
    """The jurisdiction's rule under a policy version, or None where there is no such rule.

    Raises LookupError for an unknown policy version.
    """
    if version not in CREDIT_RULES:
        raise LookupError(f"no provisional credit rules for policy version {version}")
    country = jurisdiction.split("-", maxsplit=1)[0].upper()
    return next((r for r in CREDIT_RULES[version] if r.country == country), None)


def schedule(
    jurisdiction: str, filed_at: datetime, version: str = CURRENT_POLICY.version
) -> CreditSchedule | None:
    """The credit due time and final deadline of a dispute filed at ``filed_at``, if any."""
    rule = credit_rule(jurisdiction, version)
    if rule is None:
        return None
    return CreditSchedule(
        credit_due_at=rule.credit_within.due(filed_at, jurisdiction),
        final_at=rule.final_within.due(filed_at, jurisdiction),
        permanent_at_final=rule.permanent_at_final,
    )


def credit_owed(
    plan: CreditSchedule | None, *, now: datetime, concluded: bool, credited: bool
) -> bool:
    """Whether a credit is overdue: the due time passed, no decision, no credit yet."""
    return plan is not None and not concluded and not credited and now >= plan.credit_due_at


class CreditState(StrEnum):
    """Where a provisional credit stands; permanent and reversed are final."""

    GRANTED = "granted"
    PERMANENT = "permanent"
    REVERSED = "reversed"


@dataclass(frozen=True)
class ProvisionalCredit:
    """One credit paid to the claimant ahead of the decision, and how it ended."""

    units: int
    granted_by: str
    granted_at: datetime
    state: CreditState = CreditState.GRANTED
    settled_by: str | None = None
    settled_at: datetime | None = None
    reversed_units: int = 0  # what the claimant gives back; the rest stays theirs

    def __post_init__(self) -> None:
        if self.units <= 0:
            raise InvalidInput.of("units", "a provisional credit must be more than zero")

    def make_permanent(self, *, by: str, at: datetime) -> ProvisionalCredit:
        """The credit kept by the claimant for good. Raises InvalidTransition once settled."""
        self._require_granted("make permanent")
        return replace(self, state=CreditState.PERMANENT, settled_by=by, settled_at=at)

    def reverse(self, units: int, *, by: str, at: datetime) -> ProvisionalCredit:
        """The credit taken back, in whole or ``units`` of it; the rest stays the claimant's.

        Raises InvalidTransition once settled, InvalidInput for units outside 1..the credit.
        """
        self._require_granted("reverse")
        if not 0 < units <= self.units:
            raise InvalidInput.of(
                "units", f"a reversal takes back 1..{self.units} units, not {units}"
            )
        return replace(
            self, state=CreditState.REVERSED, settled_by=by, settled_at=at, reversed_units=units
        )

    def _require_granted(self, verb: str) -> None:
        if self.state is not CreditState.GRANTED:
            raise InvalidTransition(
                f"cannot {verb} a provisional credit that is already {self.state}",
                action=f"{verb.replace(' ', '_')}_provisional_credit",
                status=self.state,
                allowed=(CreditState.GRANTED,),
            )


def require_grant_allowed(
    plan: CreditSchedule | None, credits: tuple[ProvisionalCredit, ...]
) -> None:
    """Refuse a credit where no rule asks for one, or while another credit is unsettled.

    Raises InvalidTransition.
    """
    if plan is None:
        raise InvalidTransition(
            "the dispute's jurisdiction has no provisional credit rule",
            action="grant_provisional_credit",
            status="no_rule",
            allowed=(),
        )
    if any(c.state is CreditState.GRANTED for c in credits):
        raise InvalidTransition(
            "a provisional credit is already granted and not yet settled",
            action="grant_provisional_credit",
            status=CreditState.GRANTED,
            allowed=(CreditState.PERMANENT, CreditState.REVERSED),
        )


@dataclass(frozen=True)
class Settlement:
    """What the final decision does with a granted credit and how much more it pays."""

    permanent: bool
    reversed_units: int  # taken back from the claimant (0 when permanent)
    still_to_pay: int  # the decision's payout beyond what the credit already paid


def settlement(credit: ProvisionalCredit, awarded_units: int) -> Settlement:
    """Settle a credit against the units the final decision awards (0 for a rejection).

    The credit already paid counts toward the award: an award at least as large makes the
    credit permanent and pays only the difference; a smaller one reverses the excess.
    Raises InvalidInput for a negative award.
    """
    if awarded_units < 0:
        raise InvalidInput.of("units", "an award cannot be negative")
    if awarded_units >= credit.units:
        return Settlement(True, 0, awarded_units - credit.units)
    return Settlement(False, credit.units - awarded_units, 0)


def due_for_automatic_permanence(
    plan: CreditSchedule | None, credit: ProvisionalCredit, *, now: datetime
) -> bool:
    """Whether the policy makes a still-granted credit permanent now (final deadline passed)."""
    return (
        plan is not None
        and plan.permanent_at_final
        and credit.state is CreditState.GRANTED
        and now >= plan.final_at
    )
