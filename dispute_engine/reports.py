"""What the read models report back to the engine: SLA report rows, audit discrepancies."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dispute_engine.domain.linked_claims import Commitment


@dataclass(frozen=True)
class ReportRow:
    """How one metric fared for one priority over a period."""

    metric: str
    priority: str
    met: int
    breached: int
    open: int
    stopped: int

    @property
    def met_share(self) -> float | None:
        """Met clocks as a share of the clocks that ended met or breached."""
        decided = self.met + self.breached
        return None if decided == 0 else self.met / decided


@dataclass(frozen=True)
class Discrepancy:
    """Where the event store and the audit log disagree."""

    dispute_id: str
    version: int
    problem: str


@dataclass(frozen=True)
class LinkedClaim:
    """One dispute on a transaction, as the index holds it."""

    dispute_id: UUID
    status: str
    asset: str
    decimals: int
    claimed_units: int
    approved_units: int  # approved and not yet paid
    paid_units: int
    credited_units: int  # provisional credit granted and not reversed
    decision_number: int

    @property
    def committed_units(self) -> int:
        """What this dispute has paid, credited or been approved to pay on the transaction."""
        return self.approved_units + self.paid_units + self.credited_units

    def commitments(self) -> list[Commitment]:
        """The dispute's commitments as the money rules weigh them.

        The approved decision is its own commitment, so checking that decision again at
        execution can leave it out; payouts and credits are settled money.
        """
        settled = Commitment(self.dispute_id, 0, self.paid_units + self.credited_units)
        if not self.approved_units:
            return [settled]
        return [settled, Commitment(self.dispute_id, self.decision_number, self.approved_units)]
