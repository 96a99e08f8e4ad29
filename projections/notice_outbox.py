"""The outbox projection: each recorded ``ClaimantNotified`` event becomes one outbox row.

The row is written in the runner's transaction with the view's tracked position, and its id
comes from the dispute and the event's version, so each notice is recorded once however often
the events are read. Only the recipients table belongs to the view: rebuilding it replays the
notices into the outbox, where the rows already there (sent or not) stay as they are, so a
rebuild never sends a notice twice.
"""

from __future__ import annotations

from typing import Any

from dispute_engine.database import Cursor, Database
from dispute_engine.delivery.outbox import Outbox
from dispute_engine.domain import events
from projections.view import Batch, upsert

FORGOTTEN = "the claimant was forgotten"


class NoticeOutbox:
    """Records notices into the outbox, addressed to the claimant who filed the dispute."""

    name: str = "outbox"
    version: int = 1  # bump when the recipients table changes: it is rebuilt
    tables: tuple[str, ...] = ("notice_recipients",)

    def create(self, db: Database) -> None:
        """Create the outbox (kept across rebuilds) and the recipients table."""
        Outbox(db).create()
        db.create(
            f"CREATE TABLE IF NOT EXISTS {db.table('notice_recipients')} ("
            "dispute_id TEXT PRIMARY KEY, claimant_id TEXT NOT NULL, recipient TEXT NOT NULL)"
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Note who filed each new dispute; put each notice into the outbox; give up the
        unsent notices of a claimant who was forgotten."""
        outbox = Outbox(db)
        filed: dict[str, dict[str, Any]] = {}
        for _, event in batch:
            dispute_id = str(event.originator_id)
            if isinstance(event, events.Filed):
                claimant = event.claim["claimant_id"]
                filed[dispute_id] = {
                    "dispute_id": dispute_id,
                    "claimant_id": claimant,
                    "recipient": claimant,
                }
            elif isinstance(event, events.ClaimantForgotten):
                outbox.cancel(cursor, event.originator_id, FORGOTTEN)
            elif isinstance(event, events.ClaimantNotified):
                recipient = filed.get(dispute_id) or self._recipient(db, cursor, dispute_id)
                outbox.record_notice(
                    cursor,
                    dispute_id=event.originator_id,
                    position=event.originator_version,
                    data={**vars(event), "timestamp": event.timestamp},
                    recipient=recipient["recipient"],
                )
        upsert(db, cursor, "notice_recipients", ["dispute_id"], list(filed.values()))

    @staticmethod
    def _recipient(db: Database, cursor: Cursor, dispute_id: str) -> dict[str, Any]:
        db.execute(
            cursor,
            f"SELECT dispute_id, claimant_id, recipient FROM {db.table('notice_recipients')} "
            "WHERE dispute_id = ?",
            [dispute_id],
        )
        row = cursor.fetchone()
        return {k: row[k] for k in ("dispute_id", "claimant_id", "recipient")}
