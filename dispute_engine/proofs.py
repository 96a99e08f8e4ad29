"""Proofs from the audit log, and their verifiers: they need only the proof, a root or signed
checkpoint, and the engine's public key, never the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dispute_engine.checkpoints import Checkpoint
from dispute_engine.merkle import InvalidProof, verify_consistency, verify_inclusion
from dispute_engine.seals import InvalidSeal, KeyRing, event_leaf_hash


@dataclass(frozen=True)
class InclusionProof:
    """That the event ``(dispute_id, version)`` is leaf ``leaf_index`` of the log of
    ``tree_size`` leaves, whose root is ``root``."""

    dispute_id: UUID
    version: int
    leaf_index: int
    tree_size: int
    leaf: bytes
    path: tuple[bytes, ...]
    root: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    """That the log of ``old_size`` leaves (root ``old_root``) is a prefix of the log of
    ``new_size`` leaves (root ``new_root``)."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]
    old_root: bytes
    new_root: bytes


def _trusted_root(
    size: int, root: bytes | Checkpoint, public_key: bytes | None, what: str
) -> bytes:
    """The root to check against: given, or from a checkpoint whose signature holds."""
    if not isinstance(root, Checkpoint):
        return root
    if public_key is None:
        raise InvalidProof("a checkpoint needs the engine's public key to be trusted")
    try:
        root.verify(KeyRing(None, [public_key]))
    except InvalidSeal as error:
        raise InvalidProof(f"the checkpoint's signature does not hold: {error}") from error
    if root.tree_size != size:
        raise InvalidProof(f"the checkpoint is of size {root.tree_size}, the {what} of {size}")
    return root.root


def verify_inclusion_proof(
    proof: InclusionProof,
    root: bytes | Checkpoint,
    *,
    public_key: bytes | None = None,
    event: tuple[str, bytes] | None = None,
) -> None:
    """Check that the proof leads from its leaf to ``root`` (or a signed checkpoint's root).

    With ``event`` (the stored topic and state bytes), also check that the leaf is that event.
    Raises InvalidProof when anything does not hold.
    """
    trusted = _trusted_root(proof.tree_size, root, public_key, "proof")
    if event is not None:
        topic, state = event
        if event_leaf_hash(proof.dispute_id, proof.version, topic, state) != proof.leaf:
            raise InvalidProof("the leaf is not the hash of the given event")
    verify_inclusion(proof.leaf_index, proof.tree_size, proof.leaf, proof.path, trusted)


def verify_consistency_proof(
    proof: ConsistencyProof,
    old: bytes | Checkpoint | None = None,
    new: bytes | Checkpoint | None = None,
    *,
    public_key: bytes | None = None,
) -> None:
    """Check that the old log is a prefix of the new one.

    ``old`` and ``new`` are the roots (or signed checkpoints) to trust; the proof's own roots
    are used where none is given. Raises InvalidProof when anything does not hold.
    """
    old_root = _trusted_root(
        proof.old_size, proof.old_root if old is None else old, public_key, "old size"
    )
    new_root = _trusted_root(
        proof.new_size, proof.new_root if new is None else new, public_key, "new size"
    )
    verify_consistency(proof.old_size, proof.new_size, proof.path, old_root, new_root)
