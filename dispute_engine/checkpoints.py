"""Signed checkpoints: the log's size and root at a moment, signed by the engine's key.

The signed body is canonical text, one field a line, so any party recomputes the same bytes::

    dispute-engine/checkpoint/v1
    <tree size>
    <root hash, base64>
    <time, UTC, ISO 8601 to the microsecond>
    <key id>

A checkpoint travels as one JSON line (the witness file, a bundle).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dispute_engine.json_lines import json_line
from dispute_engine.merkle import HASH_SIZE
from dispute_engine.seals import SIGNATURE_BYTES, InvalidSeal, KeyRing

CHECKPOINT_ORIGIN = "dispute-engine/checkpoint/v1"
_FIELDS = ("tree_size", "root", "time", "key_id", "signature")


class InvalidCheckpoint(ValueError):
    """Raised when a checkpoint line cannot be read (missing field, bad encoding)."""


@dataclass(frozen=True)
class Checkpoint:
    """The log's size and root at ``time``, signed by the key ``key_id``."""

    tree_size: int
    root: bytes
    time: datetime
    key_id: str
    signature: bytes

    @staticmethod
    def body(tree_size: int, root: bytes, time: datetime, kid: str) -> bytes:
        """The canonical bytes a checkpoint's signature covers."""
        stamp = time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        root_text = base64.b64encode(root).decode("ascii")
        return f"{CHECKPOINT_ORIGIN}\n{tree_size}\n{root_text}\n{stamp}\n{kid}\n".encode("ascii")

    @classmethod
    def sign(cls, ring: KeyRing, tree_size: int, root: bytes, time: datetime) -> Checkpoint:
        """A checkpoint signed by the ring's current key.

        Raises ValueError for a negative size, a root that is not a hash or a naive time, and
        InvalidSeal when the ring cannot sign.
        """
        if tree_size < 0 or len(root) != HASH_SIZE or time.tzinfo is None:
            raise ValueError("a checkpoint needs a size >= 0, a 32-byte root and a tz-aware time")
        time = time.astimezone(UTC)
        if ring.current is None:
            raise InvalidSeal("this key ring holds no signing key")
        kid = ring.current.key_id
        return cls(
            tree_size, root, time, kid, ring.current.sign(cls.body(tree_size, root, time, kid))
        )

    def verify(self, ring: KeyRing) -> None:
        """Check the signature; raises InvalidSeal if it does not hold."""
        ring.verify(
            self.key_id,
            self.signature,
            self.body(self.tree_size, self.root, self.time, self.key_id),
        )

    def to_json(self) -> str:
        """One JSON line (no newline), keys sorted."""
        return json.dumps(
            {
                "key_id": self.key_id,
                "root": self.root.hex(),
                "signature": base64.b64encode(self.signature).decode("ascii"),
                "time": self.time.astimezone(UTC).isoformat(),
                "tree_size": self.tree_size,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str | dict[str, Any]) -> Checkpoint:
        """Read a checkpoint line; raises InvalidCheckpoint naming what is wrong."""
        try:
            data = json_line(line) if isinstance(line, str) else line
        except ValueError as error:
            raise InvalidCheckpoint(f"not JSON: {error}") from error
        if not isinstance(data, dict) or sorted(data) != sorted(_FIELDS):
            raise InvalidCheckpoint(f"a checkpoint has exactly the fields {', '.join(_FIELDS)}")
        try:
            size, kid = data["tree_size"], data["key_id"]
            root = bytes.fromhex(data["root"])
            signature = base64.b64decode(data["signature"], validate=True)
            time = datetime.fromisoformat(data["time"])
        except (TypeError, ValueError, binascii.Error) as error:
            raise InvalidCheckpoint(f"unreadable field: {error}") from error
        if type(size) is not int or size < 0 or not isinstance(kid, str):
            raise InvalidCheckpoint("tree_size must be a whole number >= 0, key_id text")
        if len(root) != HASH_SIZE or len(signature) != SIGNATURE_BYTES or time.tzinfo is None:
            raise InvalidCheckpoint("root is 32 bytes, signature 64, time has a UTC offset")
        return cls(size, root, time, kid, signature)
