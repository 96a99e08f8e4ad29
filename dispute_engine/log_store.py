"""The transparency log's tables: its leaves, the nodes of its Merkle tree, its checkpoints.

- ``audit_leaves``: one row per logged event, dense ``leaf_index`` from 0 in notification order,
  with the event's position, originator id, version and topic, its RFC 6962 leaf hash (over
  what its seal covers), the event's name, actor and time. No event data: that stays in the
  (possibly encrypted) store. Indexed for the questions auditors ask (by actor, dispute,
  event name, time).
- ``audit_nodes``: every complete node of the tree by ``(level, idx)``, written once; level 0
  holds the leaf hashes. The frontier (the right edge) is read from it, so appending needs
  ``log2(size)`` rows, never the whole tree.
- ``audit_checkpoints``: signed checkpoints (tree size, root, time, key id, signature).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from dispute_engine.checkpoints import Checkpoint
from dispute_engine.database import Cursor, Database
from dispute_engine.merkle import Frontier, Node

LOG_VERSION = 2  # the audit log's version in projection_versions (1 was a sha256 chain)
LEAVES, NODES, CHECKPOINTS = "audit_leaves", "audit_nodes", "audit_checkpoints"
LOG_TABLES = (LEAVES, NODES, CHECKPOINTS)
_SIZE = "COALESCE(MAX(leaf_index) + 1, 0)"  # read from the primary key, not a count of rows
_LEAF_COLUMNS = (
    "leaf_index",
    "notification_id",
    "originator_id",
    "version",
    "topic",
    "leaf",
    "event",
    "actor",
    "at",
)


def utc_text(moment: datetime) -> str:
    """A fixed-width UTC text that sorts like the time it stands for (on both databases)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LogLeaf:
    """One logged event: where it is in the log and the store, its leaf hash, who and when."""

    leaf_index: int
    notification_id: int
    dispute_id: UUID
    version: int
    topic: str
    leaf: bytes
    event: str
    actor: str
    at: datetime

    def row(self) -> tuple[Any, ...]:
        """The leaf as the table stores it."""
        return (
            self.leaf_index,
            self.notification_id,
            str(self.dispute_id),
            self.version,
            self.topic,
            self.leaf,
            self.event,
            self.actor,
            utc_text(self.at),
        )

    def export(self) -> dict[str, Any]:
        """The leaf as an export row (the hash in hex)."""
        return {
            "leaf_index": self.leaf_index,
            "position": self.notification_id,
            "dispute_id": str(self.dispute_id),
            "version": self.version,
            "event": self.event,
            "actor": self.actor,
            "at": utc_text(self.at),
            "leaf_hash": self.leaf.hex(),
        }

    @classmethod
    def of(cls, row: Any) -> LogLeaf:
        """A leaf from a row of ``audit_leaves``."""
        return cls(
            int(row["leaf_index"]),
            int(row["notification_id"]),
            UUID(str(row["originator_id"])),
            int(row["version"]),
            str(row["topic"]),
            bytes(row["leaf"]),
            str(row["event"]),
            str(row["actor"]),
            datetime.fromisoformat(str(row["at"])),
        )


@dataclass(frozen=True)
class LeafFilter:
    """Which leaves to read: each given field narrows the rows (times are inclusive)."""

    dispute_id: UUID | None = None
    actor: str | None = None
    event: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("originator_id", None if self.dispute_id is None else str(self.dispute_id)),
            ("actor", self.actor),
            ("event", self.event),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append("at >= ?")
            params.append(utc_text(self.since))
        if self.until is not None:
            clauses.append("at <= ?")
            params.append(utc_text(self.until))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class LogStore:
    """Reads and appends the transparency log's tables; a NodeSource for proofs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self) -> None:
        """Create the log's tables and the indexes auditors query by, if missing."""
        leaves, nodes, checkpoints = (self.db.table(t) for t in LOG_TABLES)
        blob = self.db.blob
        self.db.create(
            f"CREATE TABLE IF NOT EXISTS {leaves} ("
            "leaf_index BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL UNIQUE, "
            "originator_id TEXT NOT NULL, version INTEGER NOT NULL, topic TEXT NOT NULL, "
            f"leaf {blob} NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, "
            "UNIQUE (originator_id, version))",
            f"CREATE INDEX IF NOT EXISTS audit_leaves_actor ON {leaves} (actor, at)",
            f"CREATE INDEX IF NOT EXISTS audit_leaves_event ON {leaves} (event, at)",
            f"CREATE INDEX IF NOT EXISTS audit_leaves_at ON {leaves} (at)",
            f"CREATE TABLE IF NOT EXISTS {nodes} ("
            f"level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL, "
            "PRIMARY KEY (level, idx))",
            f"CREATE TABLE IF NOT EXISTS {checkpoints} ("
            f"tree_size BIGINT PRIMARY KEY, root {blob} NOT NULL, at TEXT NOT NULL, "
            f"key_id TEXT NOT NULL, signature {blob} NOT NULL)",
        )

    # -- reading ----------------------------------------------------------------

    def size(self) -> int:
        """How many leaves the log holds (its indices are dense: the last one plus one)."""
        rows = self.db.fetchall(f"SELECT {_SIZE} AS n FROM {self.db.table(LEAVES)}")
        return int(rows[0]["n"])

    def node(self, level: int, index: int) -> bytes:
        """The hash of the stored node at ``(level, index)``; raises LookupError if absent."""
        rows = self.db.fetchall(
            f"SELECT hash FROM {self.db.table(NODES)} WHERE level = ? AND idx = ?",
            [level, index],
        )
        if not rows:
            raise LookupError(f"the log has no node at level {level}, index {index}")
        return bytes(rows[0]["hash"])

    def nodes(self) -> list[Node]:
        """Every stored node, by level then index."""
        rows = self.db.fetchall(
            f"SELECT level, idx, hash FROM {self.db.table(NODES)} ORDER BY level, idx"
        )
        return [Node(int(r["level"]), int(r["idx"]), bytes(r["hash"])) for r in rows]

    def leaves(
        self, where: LeafFilter | None = None, *, start: int = 0, limit: int | None = None
    ) -> list[LogLeaf]:
        """Leaves in log order from ``start``, optionally filtered and limited."""
        condition, params = (where or LeafFilter()).where()
        condition += (" AND" if condition else " WHERE") + " leaf_index >= ?"
        params.append(start)
        tail = "" if limit is None else f" LIMIT {int(limit)}"
        rows = self.db.fetchall(
            f"SELECT {', '.join(_LEAF_COLUMNS)} FROM {self.db.table(LEAVES)}{condition} "
            f"ORDER BY leaf_index{tail}",
            params,
        )
        return [LogLeaf.of(r) for r in rows]

    def all_leaves(self, page: int = 50_000) -> Iterator[LogLeaf]:
        """Every leaf in log order, a page at a time."""
        start = 0
        while True:
            batch = self.leaves(start=start, limit=page)
            yield from batch
            if len(batch) < page:
                return
            start = batch[-1].leaf_index + 1

    def leaf_hashes(self, page: int = 50_000) -> Iterator[tuple[int, str, int, bytes]]:
        """Every leaf's index, originator id (text), version and hash in log order: what
        rebuilding the tree needs, read lean."""
        start = 0
        table = self.db.table(LEAVES)
        while True:
            rows = self.db.fetchall(
                f"SELECT leaf_index, originator_id, version, leaf FROM {table} "
                f"WHERE leaf_index >= ? ORDER BY leaf_index LIMIT {int(page)}",
                [start],
            )
            for r in rows:
                yield int(r["leaf_index"]), str(r["originator_id"]), int(r["version"]), r["leaf"]
            if len(rows) < page:
                return
            start = int(rows[-1]["leaf_index"]) + 1

    def leaf_of(self, dispute_id: UUID, version: int) -> LogLeaf | None:
        """The leaf of one event, or None when it is not logged."""
        rows = self.db.fetchall(
            f"SELECT {', '.join(_LEAF_COLUMNS)} FROM {self.db.table(LEAVES)} "
            "WHERE originator_id = ? AND version = ?",
            [str(dispute_id), version],
        )
        return LogLeaf.of(rows[0]) if rows else None

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, smallest tree first."""
        rows = self.db.fetchall(
            f"SELECT tree_size, root, at, key_id, signature FROM {self.db.table(CHECKPOINTS)} "
            "ORDER BY tree_size"
        )
        return [
            Checkpoint(
                int(r["tree_size"]),
                bytes(r["root"]),
                datetime.fromisoformat(str(r["at"])),
                str(r["key_id"]),
                bytes(r["signature"]),
            )
            for r in rows
        ]

    # -- appending (inside the caller's transaction) ----------------------------

    def frontier(self, cursor: Cursor) -> Frontier:
        """The log's frontier as the transaction sees it (its size from the leaves)."""
        self.db.execute(cursor, f"SELECT {_SIZE} AS n FROM {self.db.table(LEAVES)}")
        size = int(cursor.fetchone()["n"])
        hashes = []
        for level, index in Frontier.positions(size):
            self.db.execute(
                cursor,
                f"SELECT hash FROM {self.db.table(NODES)} WHERE level = ? AND idx = ?",
                [level, index],
            )
            row = cursor.fetchone()
            if row is None:
                raise LookupError(f"the log has no node at level {level}, index {index}")
            hashes.append(bytes(row["hash"]))
        return Frontier(size, hashes)

    @staticmethod
    def extend(frontier: Frontier, leaves: Sequence[LogLeaf]) -> list[Node]:
        """Move ``frontier`` on by the leaves (numbered from its size); returns every node they
        complete, for :meth:`insert`. Raises ValueError when a leaf's index is not next."""
        nodes: list[Node] = []
        for leaf in leaves:
            if leaf.leaf_index != frontier.size:
                raise ValueError(f"leaf {leaf.leaf_index} is not next after {frontier.size}")
            nodes += frontier.append(leaf.leaf)
        return nodes

    def insert(self, cursor: Cursor, leaves: Sequence[LogLeaf], nodes: Sequence[Node]) -> None:
        """Store leaves and the nodes :meth:`extend` gave for them (one write each)."""
        self.db.insert_rows(
            cursor, self.db.table(LEAVES), _LEAF_COLUMNS, [leaf.row() for leaf in leaves]
        )
        rows = [(n.level, n.index, n.hash) for n in nodes]
        self.db.insert_rows(cursor, self.db.table(NODES), ("level", "idx", "hash"), rows)

    def add_checkpoint(self, cursor: Cursor, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint."""
        self.db.execute(
            cursor,
            f"INSERT INTO {self.db.table(CHECKPOINTS)} (tree_size, root, at, key_id, signature) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                checkpoint.tree_size,
                checkpoint.root,
                checkpoint.time.astimezone(UTC).isoformat(),
                checkpoint.key_id,
                checkpoint.signature,
            ],
        )

    def last_checkpoint(self, cursor: Cursor) -> tuple[int, datetime] | None:
        """The size and time of the newest checkpoint as the transaction sees it."""
        self.db.execute(
            cursor,
            f"SELECT tree_size, at FROM {self.db.table(CHECKPOINTS)} "
            "ORDER BY tree_size DESC LIMIT 1",
        )
        row = cursor.fetchone()
        return None if row is None else (int(row["tree_size"]), datetime.fromisoformat(row["at"]))
