"""CommitmentLedger: the money committed on each transaction, across all of its disputes.

Disputes on one transaction (chain id + hash) share one cap: together they never pay more than
the chain verified. Views and the aggregate see each other's payouts late, so the cap is held
here, where a payout is recorded: every payout, provisional credit and reversal is a row under
its own key, and a row per transaction is locked (on SQLite, the first write takes the database's
write lock) while the total is read and the new row written, in one transaction. Two processes
paying two linked disputes at once thus take turns, and the second sees the first's money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dispute_engine.database import Cursor, Database
from dispute_engine.domain.errors import PayoutRefused
from dispute_engine.domain.money import Money


@dataclass(frozen=True)
class Commitment:
    """Money promised to a claimant on one transaction under one key (negative: given back)."""

    key: str
    chain_id: int
    tx_hash: str
    dispute_id: UUID
    units: int


class CommitmentLedger:
    """Records commitments once per key, refusing those that would pass a transaction's cap."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("transaction_commitments")
        self.locks = db.table("transaction_locks")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "key TEXT PRIMARY KEY, chain_id BIGINT NOT NULL, tx_hash TEXT NOT NULL, "
            "dispute_id TEXT NOT NULL, units TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS transaction_commitments_tx "
            f"ON {self.table} (chain_id, tx_hash)",
            f"CREATE TABLE IF NOT EXISTS {self.locks} ("
            "chain_id BIGINT NOT NULL, tx_hash TEXT NOT NULL, taken INTEGER NOT NULL, "
            "PRIMARY KEY (chain_id, tx_hash))",
        )

    def commit(self, commitment: Commitment, *, cap: Money) -> bool:
        """Record the commitment; False when its key is recorded already (a retry).

        A commitment that gives money back (``units`` below zero) is never refused.
        Raises PayoutRefused (reason ``linked_cap``, nothing recorded) when the transaction's
        total would pass ``cap``.
        """
        c = commitment
        tx_hash = c.tx_hash.lower()
        with self.db.transaction() as cursor:
            self._lock(cursor, c.chain_id, tx_hash)
            self.db.execute(
                cursor,
                f"INSERT INTO {self.table} (key, chain_id, tx_hash, dispute_id, units, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING "
                "RETURNING key",
                (c.key, c.chain_id, tx_hash, str(c.dispute_id), str(c.units), _now()),
            )
            if cursor.fetchone() is None:
                return False
            total = self._total(cursor, c.chain_id, tx_hash)
            if c.units > 0 and total > cap.units:
                before = Money(total - c.units, cap.decimals, cap.asset)
                # Raising rolls the insert back: the refused commitment is not counted.
                raise PayoutRefused(
                    f"payout {c.key}: {Money(c.units, cap.decimals, cap.asset)} would bring "
                    f"what the disputes on transaction {tx_hash} were paid to "
                    f"{Money(total, cap.decimals, cap.asset)}, past the {cap} the chain "
                    f"verified ({before} committed already)",
                    reason="linked_cap",
                    dispute_id=c.dispute_id,
                )
        return True

    def release(self, key: str) -> None:
        """Forget a commitment whose payout was refused before any money moved."""
        with self.db.transaction() as cursor:
            self.db.execute(cursor, f"DELETE FROM {self.table} WHERE key = ?", (key,))

    def holds(self, key: str) -> bool:
        """Whether a commitment is recorded under the key (its payout was begun)."""
        return bool(self.db.fetchall(f"SELECT 1 FROM {self.table} WHERE key = ?", (key,)))

    def committed(self, chain_id: int, tx_hash: str) -> int:
        """The units committed on a transaction, across every dispute on it."""
        with self.db.transaction() as cursor:
            return self._total(cursor, chain_id, tx_hash.lower())

    def _lock(self, cursor: Cursor, chain_id: int, tx_hash: str) -> None:
        # An upsert locks the transaction's row on PostgreSQL (until commit) and, as the
        # transaction's first write, takes SQLite's write lock before the total is read.
        self.db.execute(
            cursor,
            f"INSERT INTO {self.locks} (chain_id, tx_hash, taken) VALUES (?, ?, 1) "
            "ON CONFLICT (chain_id, tx_hash) DO UPDATE SET taken = excluded.taken",
            (chain_id, tx_hash),
        )

    def _total(self, cursor: Cursor, chain_id: int, tx_hash: str) -> int:
        self.db.execute(
            cursor,
            f"SELECT units FROM {self.table} WHERE chain_id = ? AND tx_hash = ?",
            (chain_id, tx_hash),
        )
        return sum(int(row["units"]) for row in cursor.fetchall())


def _now() -> str:
    return datetime.now(UTC).isoformat()
