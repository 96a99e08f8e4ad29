#!/usr/bin/env bash
# Compiles ContractWallet.sol (test-only EIP-1271 wallets) with the npm solc package
# (make tools) into ContractWallet.json: each contract's ABI and bytecode.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
../../.tools/node_modules/.bin/solcjs --optimize --abi --bin -o "$out" ContractWallet.sol
python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
contracts = {}
for name in ("ContractWallet", "RevertingWallet"):
    abi = json.loads(next(out.glob(f"*_{name}.abi")).read_text())
    bytecode = "0x" + next(out.glob(f"*_{name}.bin")).read_text().strip()
    contracts[name] = {"abi": abi, "bytecode": bytecode}
pathlib.Path("ContractWallet.json").write_text(json.dumps(contracts, indent=1) + "\n")
PY
rm -rf "$out"
