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
    "dispute_engine.engine",
    "dispute_engine.event_store",
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


PRODUCT = sorted((ROOT / "dispute_engine").rglob("*.py"))
ADAPTER_PACKAGES = ("chain", "projections")


def adapter_imports(path: Path) -> set[str]:
    return {n for n in imports(path) if n.split(".")[0] in ADAPTER_PACKAGES}


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: str(p.relative_to(ROOT / "dispute_engine")))
def test_only_the_composition_root_names_the_adapters(path: Path):
    # Anywhere in a module, lazily inside a function too: the engine reaches the read models
    # and the chain only through the ports that bootstrap.py wires.
    if path.name == "bootstrap.py" and path.parent.name == "dispute_engine":
        assert adapter_imports(path)  # the root does wire them
    else:
        assert adapter_imports(path) == set()


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "projections").glob("*.py")) + sorted((ROOT / "chain").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_adapters_never_import_the_engine(path: Path):
    engine_modules = {
        "dispute_engine",
        "dispute_engine.engine",
        "dispute_engine.engine_core",
        "dispute_engine.event_store",
        "dispute_engine.bootstrap",
        "dispute_engine.auditing",
        "dispute_engine.chain_truth",
        "dispute_engine.service_levels",
        "dispute_engine.cli",
    }
    assert {
        n for n in imports(path) if n in engine_modules or n.startswith("dispute_engine.cli.")
    } == set()


def test_projections_and_chain_do_not_import_each_other():
    for package, other in (("projections", "chain"), ("chain", "projections")):
        for path in (ROOT / package).glob("*.py"):
            assert {n for n in imports(path) if n.split(".")[0] == other} == set(), path
