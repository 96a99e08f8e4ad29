"""Evidence bytes in a content-addressed table beside the events."""

from __future__ import annotations

import hashlib

from dispute_engine.database import Database
from dispute_engine.domain.errors import EvidenceAltered


class SqlEvidenceStore:
    """Stores each distinct content once, under its sha256 (an EvidenceStore)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("evidence_blobs")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f"sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, content {db.blob} NOT NULL)"
        )

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
