"""Every Python block and every command in the docs runs, in the order a reader meets them.

Benchmarks (```console blocks in docs/performance.md) take minutes and are run by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_URL, postgres_available, require_postgres

ROOT = Path(__file__).parents[1]
BLOCK = re.compile(r"^ *```(python|sh)\n(.*?)^ *```", re.S | re.M)
# Commands a reader runs once per clone; CI runs them itself (`make test`, `make demo`).
SETUP = re.compile(r"^(make |\. \.venv/bin/activate)")


def blocks(path: Path) -> list[tuple[str, str]]:
    found = []
    for lang, body in BLOCK.findall(path.read_text(encoding="utf-8")):
        indent = len(body) - len(body.lstrip(" "))
        found.append((lang, "\n".join(line[indent:] for line in body.splitlines())))
    return found


DOCS = [p for p in sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]) if blocks(p)]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    found = blocks(path)
    if "postgresql://" in path.read_text(encoding="utf-8") and "how-to" in str(path):
        require_postgres()
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    namespace: dict[str, object] = {}
    for lang, code in found:
        if lang == "python":
            exec(compile(code, str(path), "exec"), namespace)
            continue
        # A block runs as one script, as a reader pastes it (exports carry to later lines).
        script = "\n".join(line for line in code.splitlines() if not SETUP.match(line.strip()))
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(autouse=True)
def _drop_the_docs_schemas() -> Iterator[None]:
    """Examples on PostgreSQL name their schema: leave nothing behind for the next run."""
    yield
    texts = [p.read_text(encoding="utf-8") for p in DOCS]
    schemas = {s for text in texts for s in re.findall(r"schema=(\w+)", text)}
    if schemas and postgres_available():
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
