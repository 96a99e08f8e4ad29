"""Several processes using one new database at once: every one of them succeeds."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.queues import Queue
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine
from dispute_engine.cli import app
from tests.conftest import PG_URL
from tests.factories import file_dispute, sealed_env, sealed_settings

TRIALS = 10
WRITERS = (["sla", "check"], ["projections", "run"], ["sla", "check"], ["projections", "run"])
MIXED = (["sla", "check"], ["list"], ["projections", "run"], ["audit", "verify"])


@pytest.fixture
def fresh_urls(db_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """One never-used database URL per trial, on the backend of ``db_url``."""
    if db_url.startswith("sqlite"):
        yield [f"sqlite:///{tmp_path / f'trial-{n}.db'}" for n in range(TRIALS)]
        return
    urls = [f"{db_url}_{n}" for n in range(TRIALS)]
    yield urls
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for url in urls:
            conn.execute(f'DROP SCHEMA IF EXISTS "{url.rsplit("=", 1)[1]}" CASCADE')


def _run(command: list[str], url: str, results: Queue[tuple[list[str], int, str]]) -> None:
    result = CliRunner().invoke(app, [*command, "--db", url], env=sealed_env())
    results.put((command, result.exit_code, result.output if result.exit_code else ""))


def _race(url: str, commands: tuple[list[str], ...]) -> list[tuple[list[str], int, str]]:
    """Run the commands in processes of their own, at once, on one database.

    The processes are forked from this one, so the race is not spread out by start-up time.
    """
    context = multiprocessing.get_context("fork")
    results: Queue[tuple[list[str], int, str]] = context.Queue()
    processes = [context.Process(target=_run, args=(c, url, results)) for c in commands]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return outcome


def _failures(results: list[tuple[list[str], int, str]]) -> list[tuple[list[str], int, str]]:
    return [r for r in results if r[1] != 0]


def test_four_writers_on_a_database_that_does_not_exist_yet_all_succeed(fresh_urls: list[str]):
    failures = [f for url in fresh_urls for f in _failures(_race(url, WRITERS))]
    assert failures == []


def test_four_commands_on_a_database_with_events_but_no_views_yet_all_succeed(
    fresh_urls: list[str], alice: Actor
):
    failures = []
    for url in fresh_urls:
        with DisputeEngine.open(url, settings=sealed_settings()) as engine:
            file_dispute(engine, alice)
        failures += _failures(_race(url, MIXED))
    assert failures == []
