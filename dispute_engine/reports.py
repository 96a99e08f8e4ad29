"""What the read models report back to the engine: SLA report rows, linked claims,
the staff directory's members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dispute_engine.domain.actor import Role
from dispute_engine.domain.linked_claims import Commitment
from dispute_engine.domain.staff import ACTIVE, KeyPeriod, serves


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


@dataclass(frozen=True)
class DirectoryEntry:
    """One member as the directory view holds them."""

    staff_id: str
    display_name: str
    roles: frozenset[Role]
    languages: tuple[str, ...]
    status: str
    keys: tuple[KeyPeriod, ...]
    registered_at: datetime
    registered_by: str
    revoked_at: datetime | None
    version: int

    @property
    def active(self) -> bool:
        """Whether the member may act (not revoked)."""
        return self.status == ACTIVE

    @property
    def public_key(self) -> str | None:
        """The key in force now, or None once revoked."""
        current = self.keys[-1] if self.keys else None
        return None if current is None or current.valid_until is not None else current.public_key

    def serves(self, language: str) -> bool:
        """Whether the member serves a language (``zh`` serves ``zh-Hant``).

        Raises InvalidInput for a malformed tag.
        """
        return serves(self.languages, language)
