"""For every tree: proofs from the tree verify, and prove nothing about any other leaf or size."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.merkle import (
    Frontier,
    InvalidProof,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 section 2.1 defines it, by recursion over the whole list."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70).map(
    lambda data: [leaf_hash(d) for d in data]
)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    leaves = draw(leaf_lists)
    size = draw(st.integers(1, len(leaves)))
    return leaves, size, draw(st.integers(0, size - 1))


@given(leaf_lists)
def test_every_prefix_root_equals_the_recursive_definition(leaves: list[bytes]):
    tree = MerkleTree(leaves)
    frontier = Frontier()
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == tree.root(size) == reference_root(leaves[:size])


@given(tree_and_index())
def test_inclusion_proof_verifies_for_its_leaf(case: tuple[list[bytes], int, int]):
    leaves, size, index = case
    tree = MerkleTree(leaves)
    verify_inclusion(index, size, leaves[index], tree.inclusion_proof(index, size), tree.root(size))


@given(tree_and_index(), st.data())
def test_inclusion_proof_fails_for_any_other_leaf_or_index(
    case: tuple[list[bytes], int, int], data: st.DataObject
):
    leaves, size, index = case
    tree = MerkleTree(leaves)
    proof, root = tree.inclusion_proof(index, size), tree.root(size)
    other_leaf = data.draw(st.binary(min_size=32, max_size=32).filter(lambda h: h != leaves[index]))
    other_index = data.draw(st.integers(-1, size + 1).filter(lambda i: i != index))
    for args in ((index, other_leaf), (other_index, leaves[index])):
        try:
            verify_inclusion(args[0], size, args[1], proof, root)
        except InvalidProof:
            continue
        # Another index may verify only when it holds the very same leaf hash.
        assert args[0] != index
        assert 0 <= args[0] < size
        assert leaves[args[0]] == leaves[index]


@given(leaf_lists, st.data())
def test_consistency_proof_verifies_between_any_two_sizes(leaves: list[bytes], data: st.DataObject):
    tree = MerkleTree(leaves)
    new = data.draw(st.integers(1, len(leaves)))
    old = data.draw(st.integers(1, new))
    verify_consistency(old, new, tree.consistency_proof(old, new), tree.root(old), tree.root(new))


@given(leaf_lists, st.data())
def test_consistency_fails_once_any_old_leaf_is_rewritten(leaves: list[bytes], data: st.DataObject):
    new = data.draw(st.integers(2, max(2, len(leaves))))
    leaves = (leaves * 2)[:new]
    old = data.draw(st.integers(1, new - 1))
    changed = list(leaves)
    at = data.draw(st.integers(0, old - 1))
    changed[at] = hashlib.sha256(changed[at]).digest()
    honest, rewritten = MerkleTree(leaves), MerkleTree(changed)
    proof = rewritten.consistency_proof(old, new)
    try:
        verify_consistency(old, new, proof, honest.root(old), rewritten.root(new))
    except InvalidProof:
        return
    raise AssertionError("a rewritten history was proven consistent with the witnessed root")


@given(leaf_lists, st.data())
def test_a_frontier_reloaded_from_stored_nodes_at_any_size_reaches_the_same_root(
    leaves: list[bytes], data: st.DataObject
):
    stored = MerkleTree(leaves)
    cut = data.draw(st.integers(0, len(leaves)))
    frontier = Frontier.from_source(stored, cut)
    for leaf in leaves[cut:]:
        frontier.append(leaf)
    assert frontier.root() == stored.root()
