"""Print the mutation score per domain module from the results of the last ``mutmut run``.

Usage: ``python bench/mutation_score.py [MODULE]`` (run where ``mutants/`` is). A mutant counts
as killed when mutmut recorded it killed, timed out or caught by the type check; survivors
and mutants no test reaches count against the score; unchecked ones are left out.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check"}
DOMAIN = Path("mutants/dispute_engine/domain")


def main(module: str = "*") -> int:
    """Print one line per module and a total; 1 when there are no results to read."""
    total: Counter[str] = Counter()
    for meta in sorted(DOMAIN.glob(f"{module}.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        statuses = Counter(status_by_exit_code[code] for code in codes)
        checked = sum(n for status, n in statuses.items() if status != "not checked")
        if checked:
            killed = sum(statuses[s] for s in KILLED)
            total.update(killed=killed, checked=checked)
            _line(meta.name.removesuffix(".py.meta"), killed, checked)
    if not total["checked"]:
        print("no mutation results: run `make mutants` first", file=sys.stderr)
        return 1
    _line("total", total["killed"], total["checked"])
    return 0


def _line(name: str, killed: int, checked: int) -> None:
    print(f"{name:20} {killed:4} / {checked:4}  {100 * killed / checked:5.1f}%")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
