"""Fixtures shared by every test: clocks, actors, and engines on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import psycopg
import pytest
from pydantic import SecretStr

from dispute_engine import Actor, DisputeEngine, Role
from tests.factories import sealed_settings

PG_URL = os.environ.get("DISPUTE_ENGINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


class FakeClock:
    """A clock the test moves by hand; each reading is one second after the last."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


@pytest.fixture
def alice() -> Actor:
    return Actor(id="alice", roles={Role.INVESTIGATOR})


@pytest.fixture
def carol() -> Actor:
    return Actor(id="carol", roles={Role.INVESTIGATOR})


@pytest.fixture
def bob() -> Actor:
    return Actor(id="bob", roles={Role.APPROVER})


@pytest.fixture
def auditor() -> Actor:
    return Actor(id="audrey", roles={Role.AUDITOR})


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    """Skip without PostgreSQL, except in CI, where its absence is a failure."""
    if postgres_available():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_URL}")
    pytest.skip(f"PostgreSQL not reachable at {PG_URL}")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'disputes.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def engine(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    """An engine on a fresh database, once on SQLite and once on PostgreSQL."""
    engine = DisputeEngine.open(db_url, clock=clock)
    yield engine
    engine.shutdown()


@pytest.fixture
def keyed(db_url: str, clock: FakeClock) -> Iterator[DisputeEngine]:
    """An engine with a master key (claimants' personal data is sealed under their keys) that
    also seals its events, so the audit verifies them."""
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    engine = DisputeEngine.open(db_url, clock=clock, settings=sealed_settings(master_key=key))
    yield engine
    engine.shutdown()


@pytest.fixture
def memory_engine(clock: FakeClock) -> Iterator[DisputeEngine]:
    """An engine on a private in-memory database."""
    engine = DisputeEngine.open("memory:", clock=clock)
    yield engine
    engine.shutdown()


# Mutation runs execute the property tests once per mutant. DISPUTE_ENGINE_HYPOTHESIS=mutation
# caps every hypothesis test (explicit @settings counts included) to a few examples, derived
# from a fixed seed so a run's score is repeatable.
MUTATION_EXAMPLES = 10
MUTATION_STEPS = 10


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("DISPUTE_ENGINE_HYPOTHESIS") != "mutation":
        return
    for item in items:
        function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        # Hypothesis keeps a @given test's settings on the wrapper and a state machine's on
        # its TestCase class.
        current = getattr(function, "_hypothesis_internal_use_settings", None)
        if isinstance(current, hypothesis.settings):
            function._hypothesis_internal_use_settings = _capped(current)  # type: ignore[union-attr]
        case = getattr(item, "cls", None)
        if case is not None and isinstance(getattr(case, "settings", None), hypothesis.settings):
            case.settings = _capped(case.settings)


def _capped(current: hypothesis.settings) -> hypothesis.settings:
    return hypothesis.settings(
        current,
        max_examples=min(current.max_examples, MUTATION_EXAMPLES),
        stateful_step_count=min(current.stateful_step_count, MUTATION_STEPS),
        derandomize=True,
        database=None,
        deadline=None,
    )


def _mount(path: Path, size: str) -> bool:
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system of its own (needs the right to mount, as in CI's container)."""
    path = tmp_path / "small"
    if not _mount(path, "1m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=True)
