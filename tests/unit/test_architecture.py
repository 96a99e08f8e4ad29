"""The arrows point inward: the domain imports no infrastructure and nothing of ours outside it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FORBIDDEN_IN_DOMAIN = (
    "eventsourcing.persistence",
    "eventsourcing.application",
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
    "eventsourcing.projection",
    "web3",
    "psycopg",
    "sqlite3",
    "requests",
    "chain",
    "projections",
    "dispute_engine.application",
    "dispute_engine.database",
    "dispute_engine.ports",
    "dispute_engine.cli",
    "typer",
)


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "dispute_engine/domain").glob("*.py")), ids=lambda p: p.name
)
def test_domain_modules_import_no_infrastructure(path: Path):
    bad = {n for n in imports(path) for f in FORBIDDEN_IN_DOMAIN if n == f or n.startswith(f + ".")}
    assert bad == set()


def test_nothing_of_ours_imports_the_adapters_at_module_level_but_the_composition_roots():
    # The CLI and the engine's open() name the chain and projection adapters lazily, inside
    # functions; no module of the product imports them at the top.
    for path in (ROOT / "dispute_engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in top if m.split(".")[0] in ("chain", "projections")}, path
