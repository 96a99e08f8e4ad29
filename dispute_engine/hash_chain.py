"""The tamper-evident hash chain over a dispute's stored events."""

from __future__ import annotations

import hashlib


def chain_hash(previous: str, topic: str, version: int, state: bytes) -> str:
    """sha256 over the previous event's hash and this stored event, as the store keeps it.

    Altering or deleting an event changes its hash and every later one.
    """
    digest = hashlib.sha256()
    for part in (previous, topic, str(version)):
        digest.update(part.encode() + b"\0")
    digest.update(state)
    return digest.hexdigest()
