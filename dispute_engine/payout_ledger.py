"""The default payout rail: a ledger of payout instructions, one per key.

A back office (or a chain gateway) pays from this ledger. Recording the instruction under
its key, dispute id + decision number, makes a retried execution find the first one instead
of paying twice. With a master key the recipient address, the claimant's own wallet, is kept
sealed under the claimant's data key (purpose ``payout.address``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from dispute_engine.database import Database
from dispute_engine.payout_guard import PayoutGuard
from dispute_engine.personal_data import TEXT_PREFIX, PersonalData
from dispute_engine.ports import PayoutInstruction, PayoutReceipt

PAYOUT_ADDRESS = "payout.address"  # the purpose a recipient address is sealed for


class PayoutLedger:
    """A PayoutGateway that records instructions exactly once in the engine's database.

    Given ``personal`` (the claimants' data keys), it records each recipient address sealed.
    """

    def __init__(
        self, db: Database, guard: PayoutGuard | None = None, personal: PersonalData | None = None
    ) -> None:
        self.db = db
        self.guard = guard
        self.personal = personal
        self.table = db.table("payout_instructions")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "key TEXT PRIMARY KEY, dispute_id TEXT NOT NULL, decision_number INTEGER NOT NULL, "
            "outcome TEXT NOT NULL, claimant_id TEXT NOT NULL, chain_id BIGINT NOT NULL, "
            "asset TEXT NOT NULL, token_address TEXT, decimals INTEGER NOT NULL, "
            "units TEXT NOT NULL, to_address TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        )

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        """Record the instruction unless its key is already recorded; never twice.

        Raises PayoutRefused when the guard refuses it (nothing recorded).
        """
        i = instruction
        if self.guard is not None:
            self.guard.admit(i)
        to_address = i.to_address
        if self.personal is not None:
            to_address = self.personal.seal(i.claimant_id, PAYOUT_ADDRESS, to_address)
        with self.db.transaction() as cursor:
            self.db.execute(
                cursor,
                f"INSERT INTO {self.table} (key, dispute_id, decision_number, outcome, "
                "claimant_id, chain_id, asset, token_address, decimals, units, to_address, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                (
                    i.key,
                    str(i.dispute_id),
                    i.decision_number,
                    i.outcome,
                    i.claimant_id,
                    i.chain_id,
                    i.asset,
                    i.token_address,
                    i.decimals,
                    str(i.units),  # uint256 does not fit a BIGINT
                    to_address,
                    datetime.now(UTC).isoformat(),
                ),
            )
            created = cursor.fetchone() is not None
        return PayoutReceipt(key=i.key, reference=f"ledger:{i.key}", created=created)

    def instructions(self) -> list[dict[str, object]]:
        """Every recorded instruction, oldest first, its recipient address opened (``[erased]``
        once the claimant was forgotten)."""
        rows = self.db.fetchall(f"SELECT * FROM {self.table} ORDER BY recorded_at, key")
        return [self._opened(dict(row)) for row in rows]

    def _opened(self, row: dict[str, object]) -> dict[str, object]:
        address = str(row["to_address"])
        if self.personal is not None and address.startswith(TEXT_PREFIX):
            opened = self.personal.reveal(str(row["claimant_id"]), PAYOUT_ADDRESS, address)
            row["to_address"] = str(opened)
        return row
