"""Chain lookups: one by one against JSON-RPC batches, on a real anvil node.

Sends N transactions (native and ERC-20) on a fresh anvil, then looks all of them up with
``look_up`` one at a time and with ``look_up_many`` (batched, bounded concurrency), in one
run. Prints lookups/s for both and the ratio.

    .venv/bin/python bench/chain_lookup.py --count 1000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from chain.lookup import Web3TransactionLookup
from tests.chain_node import ANVIL_CHAIN_ID, anvil


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="transactions to look up")
    args = parser.parse_args()
    with anvil() as node:
        a = node.accounts
        token = node.deploy_token("TUSD", 6)
        hashes = [
            node.token_transfer(token, a[0], a[n % 9 + 1], 1_000 + n)
            if n % 2
            else node.send(a[n % 9 + 1], a[0], 10**12 + n)
            for n in range(args.count)
        ]
        requests = [(ANVIL_CHAIN_ID, h) for h in hashes]

        sequential = Web3TransactionLookup({ANVIL_CHAIN_ID: node.url})
        started = time.perf_counter()
        one_by_one = [sequential.look_up(ANVIL_CHAIN_ID, h) for h in hashes]
        sequential_rate = len(hashes) / (time.perf_counter() - started)

        batched = Web3TransactionLookup({ANVIL_CHAIN_ID: node.url})
        started = time.perf_counter()
        many = batched.look_up_many(requests)
        batched_rate = len(hashes) / (time.perf_counter() - started)

        same = [f.model_dump(exclude={"observed_at"}) for f in one_by_one] == [
            f.model_dump(exclude={"observed_at"})
            for f in many  # type: ignore[union-attr]
        ]
        print(
            f"lookups={len(hashes)}  sequential {sequential_rate:7.0f}/s  "
            f"batched {batched_rate:7.0f}/s  ratio {batched_rate / sequential_rate:.1f}  "
            f"same facts: {same}"
        )


if __name__ == "__main__":
    main()
