"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verifiers.

A log of leaf hashes grows by appending; every node of a perfect subtree, once complete, never
changes, so a store keeps nodes by ``(level, index)`` (level 0 holds the leaf hashes) and
writes each exactly once. :class:`Frontier` (a compact range over ``[0, size)``) gives the root
after each append from ``log2(size)`` hashes; :func:`inclusion_proof`, :func:`consistency_proof`
and :func:`root_at` read nodes from any :class:`NodeSource`. The verifiers need only the proof,
the sizes, the leaf hash and the roots (RFC 9162 sections 2.1.3.2 and 2.1.4.2), and raise
:class:`InvalidProof` for anything that does not prove what it claims.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class MerkleError(ValueError):
    """Raised when a tree is asked for something it cannot give (an index beyond its size)."""


class InvalidProof(MerkleError):
    """Raised when a proof does not prove what it claims; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid proof: {reason}")
        self.reason = reason


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: ``sha256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: ``sha256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


@dataclass(frozen=True)
class Node:
    """One node of a perfect subtree: ``2**level`` leaves from ``index * 2**level``."""

    level: int
    index: int
    hash: bytes


class NodeSource(Protocol):
    """Where complete nodes are read from (memory, a database table)."""

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete node at ``(level, index)``; raises LookupError if absent."""
        ...


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def _range_hash(source: NodeSource, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``, where ``start`` is aligned as the RFC's splits leave it."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return source.node(level, start >> level)
    k = _split(size)
    return node_hash(_range_hash(source, start, start + k), _range_hash(source, start + k, end))


def root_at(source: NodeSource, size: int) -> bytes:
    """The root of the first ``size`` leaves (``EMPTY_ROOT`` for size 0)."""
    if size < 0:
        raise MerkleError(f"tree size must not be negative, got {size}")
    return EMPTY_ROOT if size == 0 else _range_hash(source, 0, size)


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 2.1.1).

    Raises MerkleError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise MerkleError(f"leaf index {index} is not in a tree of {size} leaves")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(_range_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(_range_hash(source, start, start + k))
            start += k
    proof.reverse()
    return proof


def consistency_proof(source: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of ``new_size`` (RFC 6962 2.1.2).

    Empty when the sizes are equal. Raises MerkleError unless ``0 < old_size <= new_size``.
    """
    if not 0 < old_size <= new_size:
        raise MerkleError(f"no consistency proof from size {old_size} to {new_size}")
    proof: list[bytes] = []
    start, end, whole = 0, new_size, True
    m = old_size
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_range_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(_range_hash(source, start, start + k))
            m -= k
            start += k
            whole = False
    if not whole:
        proof.append(_range_hash(source, start, end))
    proof.reverse()
    return proof


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` at ``index`` (RFC 9162 2.1.3.2).

    Raises InvalidProof when the index is outside the tree or the proof has the wrong length.
    """
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of {size} leaves")
    _check_hash(leaf, "the leaf hash")
    fn, sn, r = index, size - 1, leaf
    for n, p in enumerate(proof):
        _check_hash(p, f"proof element {n}")
        if sn == 0:
            raise InvalidProof("the proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof("the proof is shorter than the path")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Raises InvalidProof otherwise.
    """
    _check_hash(root, "the root")
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise InvalidProof(f"leaf {index} does not lead to the root of size {size}")


def _consistency_roots(old_size: int, new_size: int, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The old and new roots a consistency path leads to (RFC 9162 2.1.4.2, steps 3 to 7)."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("the proof is longer than the path")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof("the proof is shorter than the path")
    return fr, sr


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree of ``old_size`` leaves is a prefix of the one of ``new_size``.

    Equal sizes need an empty proof and equal roots. Raises InvalidProof otherwise, and for
    ``old_size`` 0 (the empty tree is a prefix of every tree: such a proof proves nothing).
    """
    _check_hash(old_root, "the old root")
    _check_hash(new_root, "the new root")
    if old_size <= 0:
        raise InvalidProof(f"old size must be positive, got {old_size}")
    if old_size > new_size:
        raise InvalidProof(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise InvalidProof("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise InvalidProof(f"two different roots for size {old_size}")
        return
    if not proof:
        raise InvalidProof("the proof is empty")
    for n, p in enumerate(proof):
        _check_hash(p, f"proof element {n}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fr, sr = _consistency_roots(old_size, new_size, path)
    if fr != old_root:
        raise InvalidProof(f"the proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise InvalidProof(f"the proof does not lead to the new root of size {new_size}")


class Frontier:
    """The compact range ``[0, size)``: the roots of the perfect subtrees along the right edge.

    Appending a leaf costs one hash plus one per subtree it completes; the root costs one hash
    per set bit of ``size``. Load it from a store with :meth:`from_source`.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise MerkleError(f"a frontier of size {size} holds {size.bit_count()} hashes")
        self.size = size
        self._hashes = list(hashes)  # largest subtree first

    @staticmethod
    def positions(size: int) -> list[tuple[int, int]]:
        """The ``(level, index)`` of each frontier node of a tree of ``size``, largest first."""
        found = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                found.append((level, start >> level))
                start += 1 << level
        return found

    @classmethod
    def from_source(cls, source: NodeSource, size: int) -> Frontier:
        """The frontier of the first ``size`` leaves, read from stored nodes."""
        return cls(size, [source.node(level, index) for level, index in cls.positions(size)])

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier's subtree roots, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[Node]:
        """Add one leaf hash; returns the nodes it completes, the leaf itself first.

        Raises MerkleError for a leaf hash that is not 32 bytes.
        """
        if len(leaf) != HASH_SIZE:
            raise MerkleError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
        completed = [Node(0, self.size, leaf)]
        current, level, index = leaf, 0, self.size
        while index & 1:
            current = node_hash(self._hashes.pop(), current)
            level, index = level + 1, index >> 1
            completed.append(Node(level, index, current))
        self._hashes.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """The root of the tree of ``size`` leaves."""
        if not self._hashes:
            return EMPTY_ROOT
        current = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            current = node_hash(left, current)
        return current


class MerkleTree:
    """An in-memory log: every complete node by level, a frontier for the root.

    The reference a stored log is checked against, and the source of a bundle's proofs.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = []
        self._frontier = Frontier()
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return self._frontier.size

    def append(self, leaf: bytes) -> list[Node]:
        """Add one leaf hash; returns the nodes it completes (for a store to persist)."""
        completed = self._frontier.append(leaf)
        for node in completed:
            if node.level == len(self._levels):
                self._levels.append([])
            self._levels[node.level].append(node.hash)
        return completed

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete node at ``(level, index)``; raises LookupError if absent."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise LookupError(f"no complete node at level {level}, index {index}")

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all of them by default)."""
        if size is None:
            return self._frontier.root()
        if size > self.size:
            raise MerkleError(f"the tree has {self.size} leaves, not {size}")
        return root_at(self, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the first ``size`` leaves."""
        size = self.size if size is None else size
        if size > self.size:
            raise MerkleError(f"the tree has {self.size} leaves, not {size}")
        return inclusion_proof(self, index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the first ``old_size`` leaves are a prefix of the first ``new_size``."""
        new_size = self.size if new_size is None else new_size
        if new_size > self.size:
            raise MerkleError(f"the tree has {self.size} leaves, not {new_size}")
        return consistency_proof(self, old_size, new_size)
