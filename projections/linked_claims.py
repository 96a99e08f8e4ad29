"""The linked-claims view: every dispute on one transaction, with what each commits on it.

Each row keeps what a dispute has committed on its transaction (approved, paid, provisionally
credited), in base units of the claimed asset, so the money rules can weigh a new payout
against the others, by chain id and hash in one indexed read. The view is an index, not the
serialisation point: the payout itself is checked against the per-transaction ledger in the
payout's own transaction. (Filing finds the disputes to link in the claims index each filing
writes with its event, which never lags.)
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dispute_engine.database import Cursor, Database, timestamp
from dispute_engine.domain import events
from dispute_engine.domain.money import Money
from dispute_engine.reports import LinkedClaim
from projections.view import Batch, upsert

# Money columns are text: a uint256 amount in base units does not fit a BIGINT.
_UNITS = ("claimed_units", "proposed_units", "approved_units", "paid_units", "credited_units")
# Events that leave no decision standing: what was proposed or approved no longer counts.
_DECISION_CLEARED = (events.DecisionSentBack, events.Reopened, events.Withdrawn)


class LinkedClaimsView:
    """One row per dispute, keyed on its transaction (chain id, lower-case hash) first."""

    name: str = "linked_claims"
    version: int = 1  # bump when the tables change: the view is rebuilt
    tables: tuple[str, ...] = ("linked_claims",)

    def create(self, db: Database) -> None:
        """Create the table; its primary key serves the lookup by transaction."""
        table = db.table("linked_claims")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "chain_id BIGINT NOT NULL, tx_hash TEXT NOT NULL, dispute_id TEXT NOT NULL, "
            "status TEXT NOT NULL, asset TEXT NOT NULL, decimals INTEGER NOT NULL, "
            "claimed_units TEXT NOT NULL, proposed_units TEXT NOT NULL, "
            "approved_units TEXT NOT NULL, paid_units TEXT NOT NULL, "
            "credited_units TEXT NOT NULL, decision_number INTEGER NOT NULL, "
            "filed_at TEXT NOT NULL, version INTEGER NOT NULL, "
            "PRIMARY KEY (chain_id, tx_hash, dispute_id))",
            f"CREATE UNIQUE INDEX IF NOT EXISTS linked_claims_dispute ON {table} (dispute_id)",
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Fold the batch into each touched dispute's row, then write those rows."""
        rows = self._load(
            db, cursor, {str(e.originator_id) for _, e in batch if not isinstance(e, events.Filed)}
        )
        for _, event in batch:
            dispute_id = str(event.originator_id)
            if isinstance(event, events.Filed):
                rows[dispute_id] = self._filed(dispute_id, event)
            row = rows.get(dispute_id)
            if row is None:
                continue  # a dispute whose filing is not stored has no transaction to index
            row["status"] = event.status
            row["version"] = event.originator_version
            _move_money(row, event)
        upsert(
            db,
            cursor,
            "linked_claims",
            ["chain_id", "tx_hash", "dispute_id"],
            [{**row, **{u: str(row[u]) for u in _UNITS}} for row in rows.values()],
        )

    @staticmethod
    def _filed(dispute_id: str, event: events.Filed) -> dict[str, Any]:
        tx = event.claim["transaction"]
        money = Money.parse(str(tx["amount"]), asset=tx["asset"], decimals=int(tx["decimals"]))
        chain_id, tx_hash = event.claimed_transaction
        return {
            "chain_id": chain_id,
            "tx_hash": tx_hash,
            "dispute_id": dispute_id,
            "asset": tx["asset"],
            "decimals": money.decimals,
            "claimed_units": money.units,
            "proposed_units": 0,
            "approved_units": 0,
            "paid_units": 0,
            "credited_units": 0,
            "decision_number": 0,
            "filed_at": timestamp(event.timestamp),
        }

    @staticmethod
    def _load(db: Database, cursor: Cursor, ids: set[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        db.execute(
            cursor,
            f"SELECT * FROM {db.table('linked_claims')} WHERE dispute_id IN ({marks})",
            sorted(ids),
        )
        loaded = {}
        for found in cursor.fetchall():
            row = dict(found)
            for units in _UNITS:
                row[units] = int(row[units])
            loaded[str(row["dispute_id"])] = row
        return loaded

    @staticmethod
    def on(db: Database, chain_id: int, tx_hash: str) -> list[LinkedClaim]:
        """Every dispute on the transaction, oldest filing first."""
        rows = db.fetchall(
            f"SELECT * FROM {db.table('linked_claims')} WHERE chain_id = ? AND tx_hash = ? "
            "ORDER BY filed_at, dispute_id",
            (chain_id, tx_hash.lower()),
        )
        return [
            LinkedClaim(
                dispute_id=UUID(str(r["dispute_id"])),
                status=str(r["status"]),
                asset=str(r["asset"]),
                decimals=int(r["decimals"]),
                claimed_units=int(r["claimed_units"]),
                approved_units=int(r["approved_units"]),
                paid_units=int(r["paid_units"]),
                credited_units=int(r["credited_units"]),
                decision_number=int(r["decision_number"]),
            )
            for r in rows
        ]


def _move_money(row: dict[str, Any], event: events.DisputeEvent) -> None:
    """How one event changes what the dispute commits on its transaction."""
    if isinstance(event, events.DecisionProposed):
        row["decision_number"] = event.number
        # A rejection resolves at once and proposes nothing to pay.
        row["proposed_units"] = event.units
    elif isinstance(event, events.DecisionApproved) and event.status == "approved":
        # With two approvals required, only the one that completes them commits the money.
        row["approved_units"] = row["proposed_units"]
    elif isinstance(event, events.DecisionExecuted):
        row["paid_units"] += event.units
        row["proposed_units"] = row["approved_units"] = 0
    elif isinstance(event, _DECISION_CLEARED):
        row["proposed_units"] = row["approved_units"] = 0
    elif isinstance(event, events.ProvisionalCreditGranted):
        row["credited_units"] += event.units
    elif isinstance(event, events.ProvisionalCreditReversed):
        row["credited_units"] -= event.reversed_units
