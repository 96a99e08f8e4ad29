"""Evidence bytes in content-addressed tables beside the events.

Without a master key the bytes are kept as given, once per content. With one, each claimant's
bytes are kept sealed under their data key, once per claimant and content, under the sha256 of
the plain bytes (the digest the event records, so the content can still be checked against it
while the claimant's key lives, and the digest outlives the key).
"""

from __future__ import annotations

import hashlib

from dispute_engine.database import Database
from dispute_engine.domain.errors import EvidenceAltered

EVIDENCE = "evidence_blobs"  # the bytes kept as given


class SqlEvidenceStore:
    """Stores each distinct content once, under its sha256 (an EvidenceStore).

    The table of sealed bytes is created only for an engine that seals (``sealing``, a master
    key is set): a database that never held sealed evidence has none, and reads none.
    """

    def __init__(self, db: Database, *, sealing: bool = False) -> None:
        self.db = db
        self.sealing = sealing
        self.table = db.table(EVIDENCE)
        self.sealed_table = db.table("sealed_evidence_blobs")
        tables = [
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f"sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, content {db.blob} NOT NULL)"
        ]
        if sealing:
            tables.append(
                f"CREATE TABLE IF NOT EXISTS {self.sealed_table} ("
                "claimant_id TEXT NOT NULL, sha256 TEXT NOT NULL, size BIGINT NOT NULL, "
                f"sealed {db.blob} NOT NULL, PRIMARY KEY (claimant_id, sha256))"
            )
        db.create(*tables)

    def put(self, content: bytes) -> str:
        """Store the bytes once and return their sha256 hex digest."""
        digest = hashlib.sha256(content).hexdigest()
        with self.db.transaction() as cursor:
            self.db.execute(
                cursor,
                f"INSERT INTO {self.table} (sha256, size, content) VALUES (?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",
                (digest, len(content), content),
            )
        return digest

    def get(self, sha256: str) -> bytes:
        """The bytes stored under the digest, re-hashed.

        Raises KeyError when there are none, EvidenceAltered when they no longer hash to it.
        """
        rows = self.db.fetchall(f"SELECT content FROM {self.table} WHERE sha256 = ?", (sha256,))
        if not rows:
            raise KeyError(sha256)
        content = bytes(rows[0]["content"])
        if hashlib.sha256(content).hexdigest() != sha256:
            raise EvidenceAltered(
                f"the evidence stored under sha256 {sha256} was changed: its bytes no longer "
                "have that hash",
                sha256=sha256,
            )
        return content

    def put_sealed(self, claimant_id: str, sha256: str, size: int, sealed: bytes) -> None:
        """Keep a claimant's sealed bytes under the digest of the plain bytes (once)."""
        with self.db.transaction() as cursor:
            self.db.execute(
                cursor,
                f"INSERT INTO {self.sealed_table} (claimant_id, sha256, size, sealed) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (claimant_id, sha256) DO NOTHING",
                (claimant_id, sha256, size, sealed),
            )

    def sealed(self, sha256: str) -> list[tuple[str, bytes]]:
        """Every claimant's sealed bytes kept under the digest, as (claimant id, sealed)."""
        if not self.sealing:
            return []
        rows = self.db.fetchall(
            f"SELECT claimant_id, sealed FROM {self.sealed_table} WHERE sha256 = ? "
            "ORDER BY claimant_id",
            (sha256,),
        )
        return [(str(r["claimant_id"]), bytes(r["sealed"])) for r in rows]
