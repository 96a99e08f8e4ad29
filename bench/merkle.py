"""Merkle log and seal costs: hashing a log, proving and checking leaves, sealing events.

Prints: leaf hashing + appending + the root for ``--leaves`` leaves (leaves/s), inclusion
proofs generated and verified per second, consistency proofs per second, and Ed25519 event
seals signed and verified per second.

    .venv/bin/python bench/merkle.py --leaves 100000
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Callable

from dispute_engine.merkle import (
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from dispute_engine.seals import KeyRing, SigningKey

STATE = b'{"claim":{"amount":"125.50","asset":"USDT"},"note":"' + b"x" * 400 + b'"}'
TOPIC = "dispute_engine.domain.dispute:Dispute.NoteAdded"


def rate(label: str, count: int, work: Callable[[], None]) -> None:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"{label:<48} {count:>9,} in {seconds:7.3f} s  {count / seconds:>12,.0f} /s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--proofs", type=int, default=10_000)
    parser.add_argument("--seals", type=int, default=5_000)
    args = parser.parse_args()
    chooser = random.Random(6962)
    payloads = [STATE + n.to_bytes(8, "big") for n in range(args.leaves)]
    tree = MerkleTree()

    def build() -> None:
        for payload in payloads:
            tree.append(leaf_hash(payload))
        tree.root()

    rate("leaf hash + append + root", args.leaves, build)
    size, root = tree.size, tree.root()
    indices = [chooser.randrange(size) for _ in range(args.proofs)]

    def inclusion() -> None:
        for index in indices:
            verify_inclusion(index, size, tree.node(0, index), tree.inclusion_proof(index), root)

    rate("inclusion proof generate + verify", args.proofs, inclusion)
    old_sizes = [chooser.randrange(1, size) for _ in range(args.proofs)]

    def consistency() -> None:
        for old in old_sizes:
            verify_consistency(old, size, tree.consistency_proof(old), tree.root(old), root)

    rate("consistency proof (old root, generate, verify)", args.proofs, consistency)
    ring = KeyRing(SigningKey.generate())
    ids = [uuid.uuid4() for _ in range(args.seals)]
    seals = []

    def sign() -> None:
        seals.extend(ring.seal_event(i, 1, TOPIC, STATE) for i in ids)

    def verify() -> None:
        for i, seal in zip(ids, seals, strict=True):
            ring.verify_event(seal, i, 1, TOPIC, STATE)

    rate("seal sign", args.seals, sign)
    rate("seal verify", args.seals, verify)


if __name__ == "__main__":
    main()
