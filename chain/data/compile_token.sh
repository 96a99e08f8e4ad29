#!/usr/bin/env bash
# Compiles TestToken.sol (a test and demo token) with the npm solc package (make tools)
# into TestToken.json, its ABI and bytecode.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
../../.tools/node_modules/.bin/solcjs --optimize --abi --bin -o "$out" TestToken.sol
python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
abi = json.loads(next(out.glob("*TestToken.abi")).read_text())
bytecode = "0x" + next(out.glob("*TestToken.bin")).read_text().strip()
pathlib.Path("TestToken.json").write_text(
    json.dumps({"abi": abi, "bytecode": bytecode}, indent=1) + "\n"
)
PY
rm -rf "$out"
