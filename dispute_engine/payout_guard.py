"""PayoutGuard: what a payout gateway checks again just before it sends money.

The engine checked the decision against the chain when it was proposed; the gateway does
not trust that. It refuses an instruction whose decimals differ from the asset's (the
registry's, else the token contract's ``decimals()``) or that would exceed the asset's
per-payout or per-day limit from settings. Every payout it lets through is recorded under
its key, so the day's total counts each payout once, however often it is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from dispute_engine.database import Database
from dispute_engine.domain.errors import PayoutRefused
from dispute_engine.domain.money import Money
from dispute_engine.ports import AssetRegistry, PayoutInstruction, TokenDecimals
from dispute_engine.settings import PayoutLimit


class PayoutGuard:
    """Refuses payouts with the wrong decimals or over the limits; records what passes."""

    def __init__(
        self,
        db: Database,
        *,
        assets: AssetRegistry | None,
        token_decimals: TokenDecimals | None,
        limits: Mapping[str, PayoutLimit],
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.assets = assets
        self.token_decimals = token_decimals
        self.limits = {asset.upper(): limit for asset, limit in limits.items()}
        self.clock = clock
        self.table = db.table("payout_spending")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "key TEXT PRIMARY KEY, chain_id BIGINT NOT NULL, asset TEXT NOT NULL, "
            "amount TEXT NOT NULL, day TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        )

    def admit(self, instruction: PayoutInstruction) -> bool:
        """Check the instruction and record it; False when its key was admitted before (a
        retry, which is not checked or counted again).

        Raises PayoutRefused (nothing recorded), ChainUnavailable (reading ``decimals()``).
        """
        if self._admitted(instruction.key):
            return False
        self._check_decimals(instruction)
        amount = Money(instruction.units, instruction.decimals, instruction.asset).amount
        limit = self.limits.get(instruction.asset.upper())
        if limit is not None and amount > limit.per_payout:
            raise PayoutRefused(
                f"payout {instruction.key}: {amount} {instruction.asset} exceeds the limit of "
                f"{limit.per_payout} per payout",
                reason="per_payout",
                dispute_id=instruction.dispute_id,
            )
        now = self.clock()
        day = now.date().isoformat()
        with self.db.transaction() as cursor:
            if self.db.kind == "postgres":
                # Serialises admissions, so two payouts cannot both fit the same day's room.
                self.db.execute(cursor, f"LOCK TABLE {self.table} IN SHARE ROW EXCLUSIVE MODE")
            # Writing first takes SQLite's write lock before the day's total is read.
            self.db.execute(
                cursor,
                f"INSERT INTO {self.table} (key, chain_id, asset, amount, day, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key",
                (
                    instruction.key,
                    instruction.chain_id,
                    instruction.asset.upper(),
                    str(amount),
                    day,
                    now.isoformat(),
                ),
            )
            if cursor.fetchone() is None:
                return False
            if limit is not None:
                self.db.execute(
                    cursor,
                    f"SELECT amount FROM {self.table} WHERE asset = ? AND day = ?",
                    (instruction.asset.upper(), day),
                )
                total = sum((Decimal(row["amount"]) for row in cursor.fetchall()), Decimal(0))
                if total > limit.per_day:
                    # Raising rolls the insert back: the refused payout is not counted.
                    raise PayoutRefused(
                        f"payout {instruction.key}: {amount} {instruction.asset} would bring "
                        f"today's payouts to {total}, over the limit of {limit.per_day} per day",
                        reason="per_day",
                        dispute_id=instruction.dispute_id,
                    )
        return True

    def release(self, key: str) -> None:
        """Forget an admitted payout the rail could not even record (nothing was sent)."""
        with self.db.transaction() as cursor:
            self.db.execute(cursor, f"DELETE FROM {self.table} WHERE key = ?", (key,))

    def _admitted(self, key: str) -> bool:
        return bool(self.db.fetchall(f"SELECT key FROM {self.table} WHERE key = ?", (key,)))

    def _check_decimals(self, i: PayoutInstruction) -> None:
        known = (
            None
            if self.assets is None
            else self.assets.decimals(i.chain_id, i.asset, i.token_address)
        )
        source = "the chain's registry"
        if known is None and i.token_address is not None and self.token_decimals is not None:
            known = self.token_decimals(i.chain_id, i.token_address)
            source = "the token contract's decimals()"
            if known is None:
                raise PayoutRefused(
                    f"payout {i.key}: the token {i.token_address} does not say its decimals; "
                    "the amount cannot be checked",
                    reason="decimals",
                    dispute_id=i.dispute_id,
                )
        if known is not None and known != i.decimals:
            raise PayoutRefused(
                f"payout {i.key}: {i.asset} has {known} decimals by {source}, the payout "
                f"counts in {i.decimals}",
                reason="decimals",
                dispute_id=i.dispute_id,
            )
