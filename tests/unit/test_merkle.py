"""The Merkle tree against the published RFC 6962 vectors, and proofs an attacker would try."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispute_engine.merkle import (
    EMPTY_ROOT,
    Frontier,
    InvalidProof,
    MerkleError,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parents[1] / "data/rfc6962_vectors.json").read_text())
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
TREE = MerkleTree(LEAVES)


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def flipped(value: bytes, bit: int = 3) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def test_leaf_and_node_hashes_match_the_published_hasher_vectors():
    hasher = VECTORS["hasher"]
    assert EMPTY_ROOT.hex() == hasher["empty_root"]
    assert leaf_hash(b"").hex() == hasher["empty_leaf"]
    assert leaf_hash(b"L123456").hex() == hasher["leaf_L123456"]
    assert node_hash(b"N123", b"N456").hex() == hasher["node_N123_N456"]


@pytest.mark.parametrize("size", range(1, 9))
def test_root_of_each_prefix_matches_the_published_root(size: int):
    assert TREE.root(size) == ROOTS[size - 1]
    assert MerkleTree(LEAVES[:size]).root() == ROOTS[size - 1]


def test_the_empty_tree_has_the_hash_of_nothing_as_root():
    assert MerkleTree().root() == EMPTY_ROOT
    assert root_at(TREE, 0) == EMPTY_ROOT


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}of{c['size']}")
def test_inclusion_proofs_match_and_verify_against_the_published_vectors(case: dict):
    index, size, proof = case["index"], case["size"], hexes(case["proof"])
    assert TREE.inclusion_proof(index, size) == proof
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size - 1])


@pytest.mark.parametrize(
    "case", VECTORS["consistency"], ids=lambda c: f"{c['old_size']}to{c['new_size']}"
)
def test_consistency_proofs_match_and_verify_against_the_published_vectors(case: dict):
    old, new, proof = case["old_size"], case["new_size"], hexes(case["proof"])
    assert TREE.consistency_proof(old, new) == proof
    verify_consistency(old, new, proof, ROOTS[old - 1], ROOTS[new - 1])


def corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    """Each way the published verifier tests tamper with an inclusion proof."""
    yield "index - 1", (index - 1, size, leaf, proof, root)
    yield "index + 1", (index + 1, size, leaf, proof, root)
    yield "index ^ 2", (index ^ 2, size, leaf, proof, root)
    yield "size * 2", (index, size * 2, leaf, proof, root)
    yield "size / 2", (index, size // 2, leaf, proof, root)
    yield "wrong leaf", (index, size, b"WrongLeaf", proof, root)
    yield "other leaf", (index, size, SOME_HASH, proof, root)
    yield "empty root", (index, size, leaf, proof, EMPTY_ROOT)
    yield "random root", (index, size, leaf, proof, SOME_HASH)
    yield "trailing garbage", (index, size, leaf, [*proof, b""], root)
    yield "trailing root", (index, size, leaf, [*proof, root], root)
    yield "preceding garbage", (index, size, leaf, [b"", *proof], root)
    yield "preceding root", (index, size, leaf, [root, *proof], root)
    for n in range(len(proof)):
        changed = list(proof)
        changed[n] = flipped(changed[n])
        yield f"modified proof[{n}]", (index, size, leaf, changed, root)
    if proof:
        yield "removed component", (index, size, leaf, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted component", (index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root)


@pytest.mark.parametrize(
    "case", VECTORS["inclusion"][1:], ids=lambda c: f"{c['index']}of{c['size']}"
)
def test_tampered_inclusion_proofs_are_refused(case: dict):
    index, size, proof = case["index"], case["size"], hexes(case["proof"])
    accepted = []
    for name, args in corrupt_inclusion(index, size, proof, ROOTS[size - 1], LEAVES[index]):
        try:
            verify_inclusion(*args)
        except InvalidProof:
            continue
        accepted.append(name)
    assert accepted == []


def corrupt_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]):
    """Each way the published verifier tests tamper with a consistency proof."""
    yield "old - 1", (old - 1, new, proof, old_root, new_root)
    yield "old + 1", (old + 1, new, proof, old_root, new_root)
    yield "old ^ 2", (old ^ 2, new, proof, old_root, new_root)
    yield "new * 2", (old, new * 2, proof, old_root, new_root)
    yield "new / 2", (old, new // 2, proof, old_root, new_root)
    yield "wrong old root", (old, new, proof, SOME_HASH, new_root)
    yield "wrong new root", (old, new, proof, old_root, SOME_HASH)
    yield "short root", (old, new, proof, b"WrongRoot", new_root)
    yield "swapped roots", (old, new, proof, new_root, old_root)
    yield "empty proof", (old, new, [], old_root, new_root)
    yield "trailing garbage", (old, new, [*proof, b""], old_root, new_root)
    yield "trailing old root", (old, new, [*proof, old_root], old_root, new_root)
    yield "trailing new root", (old, new, [*proof, new_root], old_root, new_root)
    yield "preceding garbage", (old, new, [b"", *proof], old_root, new_root)
    yield "preceding old root", (old, new, [old_root, *proof], old_root, new_root)
    yield "preceding new root", (old, new, [new_root, *proof], old_root, new_root)
    yield "preceding proof[0]", (old, new, [proof[0], *proof], old_root, new_root)
    yield "truncated proof", (old, new, proof[:-1], old_root, new_root)
    for n in range(len(proof)):
        changed = list(proof)
        changed[n] = flipped(changed[n], bit=4)
        yield f"modified proof[{n}]", (old, new, changed, old_root, new_root)


@pytest.mark.parametrize(
    "case", VECTORS["consistency"][1:], ids=lambda c: f"{c['old_size']}to{c['new_size']}"
)
def test_tampered_consistency_proofs_are_refused(case: dict):
    old, new, proof = case["old_size"], case["new_size"], hexes(case["proof"])
    accepted = []
    for name, args in corrupt_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof):
        try:
            verify_consistency(*args)
        except InvalidProof:
            continue
        accepted.append(name)
    assert accepted == []


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 4)])
def test_an_inclusion_proof_outside_the_tree_is_refused(index: int, size: int):
    with pytest.raises(InvalidProof, match="not in a tree"):
        verify_inclusion(index, size, SOME_HASH, [], SOME_HASH)


def test_a_single_leaf_tree_proves_its_leaf_with_an_empty_proof_only():
    verify_inclusion(0, 1, LEAVES[0], [], ROOTS[0])
    with pytest.raises(InvalidProof):
        verify_inclusion(0, 1, LEAVES[1], [], ROOTS[0])
    with pytest.raises(InvalidProof, match="longer"):
        verify_inclusion(0, 1, LEAVES[0], [LEAVES[0]], ROOTS[0])
    with pytest.raises(InvalidProof, match="bytes"):
        verify_inclusion(0, 1, b"", [], b"")


@pytest.mark.parametrize(
    ("old", "new", "proof", "old_root", "new_root", "reason"),
    [
        (0, 0, [], EMPTY_ROOT, EMPTY_ROOT, "positive"),
        (0, 1, [], EMPTY_ROOT, ROOTS[0], "positive"),
        (1, 0, [], ROOTS[0], EMPTY_ROOT, "larger"),
        (2, 1, [], ROOTS[1], ROOTS[0], "larger"),
        (1, 1, [], ROOTS[0], ROOTS[1], "different roots"),
        (1, 1, [EMPTY_ROOT], ROOTS[0], ROOTS[0], "must be empty"),
        (1, 2, [], ROOTS[0], ROOTS[1], "empty"),
    ],
)
def test_consistency_between_impossible_sizes_is_refused(
    old, new, proof, old_root, new_root, reason
):
    with pytest.raises(InvalidProof, match=reason):
        verify_consistency(old, new, proof, old_root, new_root)


def test_equal_sizes_with_equal_roots_are_consistent_without_a_proof():
    verify_consistency(5, 5, [], ROOTS[4], ROOTS[4])


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("inclusion_proof", (8, 8)),
        ("inclusion_proof", (0, 9)),
        ("inclusion_proof", (-1, 8)),
        ("consistency_proof", (0, 8)),
        ("consistency_proof", (5, 4)),
        ("consistency_proof", (1, 9)),
        ("root", (9,)),
    ],
)
def test_a_tree_refuses_to_prove_beyond_its_size(call: str, args: tuple[int, ...]):
    with pytest.raises(MerkleError):
        getattr(TREE, call)(*args)


def test_a_frontier_loaded_from_stored_nodes_continues_where_the_log_stopped():
    stored = MerkleTree(LEAVES[:5])
    frontier = Frontier.from_source(stored, 5)
    assert frontier.positions(5) == [(2, 0), (0, 4)]
    assert frontier.root() == ROOTS[4]
    for leaf in LEAVES[5:]:
        frontier.append(leaf)
    assert frontier.root() == ROOTS[7]


def test_each_append_returns_the_nodes_it_completes_for_a_store():
    tree = MerkleTree()
    written = [(n.level, n.index) for leaf in LEAVES[:4] for n in tree.append(leaf)]
    assert written == [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)]
    assert tree.node(2, 0) == ROOTS[3]
    with pytest.raises(LookupError):
        tree.node(2, 1)


def test_a_frontier_refuses_a_hash_count_that_does_not_match_its_size():
    with pytest.raises(MerkleError):
        Frontier(3, [SOME_HASH])
    with pytest.raises(MerkleError, match="32 bytes"):
        Frontier().append(b"short")
