"""The staff directory as a read model: members, roles, languages and keys with their periods.

Rebuilt from the ``Staff`` aggregates' events like any view; the aggregates stay the authority
the engine checks writes and signatures against, the view serves listings and routing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dispute_engine.database import Cursor, Database, timestamp
from dispute_engine.domain import staff_events
from dispute_engine.domain.actor import Role
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.staff import ACTIVE, REVOKED, KeyPeriod
from dispute_engine.reports import DirectoryEntry
from projections.view import Batch


def _joined(values: Sequence[str]) -> str:
    return ",".join(values)


def _split(text: str) -> tuple[str, ...]:
    return tuple(v for v in text.split(",") if v)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _maybe_at(text: str | None) -> datetime | None:
    return None if text is None else _at(text)


class StaffDirectory:
    """One row per member and one per key they ever held, kept current by their events."""

    name: str = "staff_directory"
    version: int = 1  # bump when the tables change: the view is rebuilt
    tables: tuple[str, ...] = ("staff_members", "staff_keys")

    def create(self, db: Database) -> None:
        """Create the member and key tables."""
        db.create(
            f"CREATE TABLE IF NOT EXISTS {db.table('staff_members')} ("
            "aggregate_id TEXT PRIMARY KEY, staff_id TEXT NOT NULL UNIQUE, "
            "display_name TEXT NOT NULL, roles TEXT NOT NULL, languages TEXT NOT NULL, "
            "status TEXT NOT NULL, registered_at TEXT NOT NULL, registered_by TEXT NOT NULL, "
            "revoked_at TEXT, version INTEGER NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {db.table('staff_keys')} ("
            "aggregate_id TEXT NOT NULL, public_key TEXT NOT NULL, valid_from TEXT NOT NULL, "
            "valid_until TEXT, PRIMARY KEY (aggregate_id, public_key))",
        )

    def apply(self, db: Database, cursor: Cursor, batch: Batch) -> None:
        """Apply the directory's events of the batch in order; other aggregates' are skipped."""
        for _, event in batch:
            if isinstance(event, staff_events.StaffEvent):
                self._apply(db, cursor, event)

    def _apply(self, db: Database, cursor: Cursor, event: staff_events.StaffEvent) -> None:
        member = str(event.originator_id)
        members = db.table("staff_members")
        at = timestamp(event.timestamp)
        if isinstance(event, staff_events.Registered):
            db.execute(
                cursor,
                f"INSERT INTO {members} (aggregate_id, staff_id, display_name, roles, "
                "languages, status, registered_at, registered_by, revoked_at, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                [
                    member,
                    event.staff_id,
                    event.display_name,
                    _joined(event.roles),
                    _joined(event.languages),
                    ACTIVE,
                    at,
                    event.actor,
                    event.originator_version,
                ],
            )
            self._add_key(db, cursor, member, event.public_key, at)
            return
        changes: dict[str, Any] = {"version": event.originator_version}
        if isinstance(event, staff_events.RolesChanged):
            changes["roles"] = _joined(event.roles)
        elif isinstance(event, staff_events.LanguagesChanged):
            changes["languages"] = _joined(event.languages)
        elif isinstance(event, staff_events.KeyRegistered):
            self._close_key(db, cursor, member, at)
            self._add_key(db, cursor, member, event.public_key, at)
        elif isinstance(event, staff_events.Revoked):
            self._close_key(db, cursor, member, at)
            changes.update(status=REVOKED, revoked_at=at)
        sets = ", ".join(f"{column} = ?" for column in changes)
        db.execute(
            cursor,
            f"UPDATE {members} SET {sets} WHERE aggregate_id = ?",
            [*changes.values(), member],
        )

    @staticmethod
    def _add_key(db: Database, cursor: Cursor, member: str, key: str, at: str | None) -> None:
        db.execute(
            cursor,
            f"INSERT INTO {db.table('staff_keys')} (aggregate_id, public_key, valid_from, "
            "valid_until) VALUES (?, ?, ?, NULL)",
            [member, key, at],
        )

    @staticmethod
    def _close_key(db: Database, cursor: Cursor, member: str, at: str | None) -> None:
        db.execute(
            cursor,
            f"UPDATE {db.table('staff_keys')} SET valid_until = ? "
            "WHERE aggregate_id = ? AND valid_until IS NULL",
            [at, member],
        )

    # -- reading ----------------------------------------------------------------

    @classmethod
    def members(cls, db: Database, *, include_revoked: bool = True) -> list[DirectoryEntry]:
        """Every member, by staff id; revoked ones too unless ``include_revoked`` is False."""
        clause = "" if include_revoked else "WHERE status = ?"
        params = [] if include_revoked else [ACTIVE]
        rows = db.fetchall(
            f"SELECT * FROM {db.table('staff_members')} {clause} ORDER BY staff_id", params
        )
        return cls._entries(db, rows)

    @classmethod
    def member(cls, db: Database, staff_id: str) -> DirectoryEntry | None:
        """The member under any spelling of their id, or None.

        Raises InvalidInput for an id holding control or invisible characters.
        """
        rows = db.fetchall(
            f"SELECT * FROM {db.table('staff_members')} WHERE staff_id = ?",
            [canonical_id(staff_id, field="staff_id")],
        )
        entries = cls._entries(db, rows)
        return entries[0] if entries else None

    @staticmethod
    def is_empty(db: Database) -> bool:
        """Whether the view holds no member at all."""
        return not db.fetchall(f"SELECT 1 FROM {db.table('staff_members')} LIMIT 1")

    @staticmethod
    def _entries(db: Database, rows: list[Any]) -> list[DirectoryEntry]:
        if not rows:
            return []
        ids = [str(r["aggregate_id"]) for r in rows]
        keys: dict[str, list[KeyPeriod]] = {i: [] for i in ids}
        for key in db.fetchall(
            f"SELECT * FROM {db.table('staff_keys')} "
            f"WHERE aggregate_id IN ({', '.join('?' for _ in ids)}) "
            "ORDER BY aggregate_id, valid_from",
            ids,
        ):
            keys[str(key["aggregate_id"])].append(
                KeyPeriod(key["public_key"], _at(key["valid_from"]), _maybe_at(key["valid_until"]))
            )
        entries = []
        for r in rows:
            entries.append(
                DirectoryEntry(
                    staff_id=r["staff_id"],
                    display_name=r["display_name"],
                    roles=frozenset(Role(role) for role in _split(r["roles"])),
                    languages=_split(r["languages"]),
                    status=r["status"],
                    keys=tuple(keys[str(r["aggregate_id"])]),
                    registered_at=_at(r["registered_at"]),
                    registered_by=r["registered_by"],
                    revoked_at=_maybe_at(r["revoked_at"]),
                    version=int(r["version"]),
                )
            )
        return entries
