"""What the read models report back to the engine: SLA report rows, audit discrepancies."""

from __future__ import annotations

from dataclasses import dataclass


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
