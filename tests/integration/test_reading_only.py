"""Reading needs no write rights and never creates a database."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.cli import app
from dispute_engine.errors import InvalidInput, StorageUnavailable
from dispute_engine.identity import IDENTITY_ENV, Identity
from tests.conftest import PG_URL
from tests.factories import file_dispute, sealed_env, sealed_settings, stored_rows

READING = (["list"], ["audit", "verify"], ["sla", "report"], ["audit", "export"])
ROOT = Actor(id="root", roles=frozenset({Role.ADMIN}))
READING_ONE = (["show"], ["history"], ["state-at", "--version", "1"])


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={**sealed_env(), **(env or {})})
    return result.exit_code, result.output


def a_desk_with_work(url: str, tmp_path: Path, alice: Actor) -> dict[str, str]:
    """Alice in the directory with her key file, disputes in three languages, the views built
    and then left behind by one more filing; returns the environment alice reads as."""
    key = Identity.generate("alice")
    path = key.save(tmp_path / "alice.key")
    with DisputeEngine.open(url) as engine:
        engine.register_staff(
            "alice", roles=["investigator"], languages=["en", "zh"], public_key=key.public_key_hex,
            by=ROOT,
        )  # fmt: skip
        for language, priority in (("zh", "normal"), ("es", "urgent"), ("en", "low")):
            file_dispute(engine, alice, language=language, priority=priority)
        engine.projections.catch_up()
        file_dispute(engine, alice, language="zh", priority="urgent")  # the views are behind
    return {IDENTITY_ENV: str(path)}


def queue_ids(url: str, env: dict[str, str]) -> list[str]:
    code, output = cli("queue", "--mine", "--json", "--db", url, env=env)
    assert code == 0, output
    return [d["id"] for d in json.loads(output)]


def routed_by_the_views(url: str) -> list[str]:
    """What the work-queue view answers, brought up to date by a writer."""
    with DisputeEngine.open(url) as engine:
        return [str(v.id) for v in engine.next_disputes(for_staff="alice")]


def _schema_exists(name: str) -> bool:
    with psycopg.connect(PG_URL) as conn:
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
    return row is not None


def _missing(db_url: str, tmp_path: Path) -> str:
    """A database URL nothing has used: a file that is not there, a schema that is not."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'tyop.db'}"
    return f"{db_url}_tyop"


def test_reading_commands_refuse_a_database_that_does_not_exist_and_create_none(
    db_url: str, tmp_path: Path
):
    url = _missing(db_url, tmp_path)
    some_id = str(uuid.uuid4())
    for command in [*READING, *([*c[:1], some_id, *c[1:]] for c in READING_ONE)]:
        code, output = cli(*command, "--db", url)
        assert code != 0, command
        assert "cannot use the database" in output
        assert len(output.strip().splitlines()) == 1
    assert not (tmp_path / "tyop.db").exists()
    if url.startswith("postgresql"):
        assert not _schema_exists(url.rsplit("=", 1)[1])


def test_opening_for_reading_only_refuses_a_missing_database(db_url: str, tmp_path: Path):
    with pytest.raises(StorageUnavailable, match="cannot use the database"):
        DisputeEngine.open(_missing(db_url, tmp_path), create=False)
    assert not (tmp_path / "tyop.db").exists()


def test_reading_commands_read_a_database_whose_views_were_never_built(db_url: str, alice: Actor):
    with DisputeEngine.open(db_url, settings=sealed_settings()) as engine:
        dispute_id = str(file_dispute(engine, alice))
    code, output = cli("list", "--db", db_url)
    assert (code, dispute_id in output) == (0, True)
    code, output = cli("audit", "verify", "--db", db_url)
    assert code == 0, output  # the sealed filing is logged first, then checked
    assert "OK: 1 events sealed and logged" in output
    for command in READING_ONE:
        code, output = cli(command[0], dispute_id, *command[1:], "--db", db_url)
        assert code == 0, (command, output)
        assert ("Filed" if command[0] == "history" else dispute_id) in output


@pytest.fixture
def reader_url(pg_schema_url: str) -> Iterator[str]:
    """The schema's URL for a new role that may only SELECT (and use the schema)."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    schema = pg_schema_url.rsplit("=", 1)[1]
    with DisputeEngine.open(pg_schema_url):
        pass  # the owner creates the tables
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    yield pg_schema_url.replace("postgres@", f"{role}@")
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def _grant_select(url: str) -> None:
    role = url.split("//", 1)[1].split("@", 1)[0]
    schema = url.rsplit("=", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')


def test_a_role_with_select_only_can_show_history_list_state_at_and_verify(
    pg_schema_url: str, reader_url: str, alice: Actor
):
    with DisputeEngine.open(pg_schema_url, settings=sealed_settings()) as engine:
        first = str(file_dispute(engine, alice))
        engine.add_note(first, "checked the exchange's deposit page", by=alice)
        engine.projections.catch_up()
        second = str(file_dispute(engine, alice))  # after the views: they are behind
    _grant_select(reader_url)
    code, output = cli("list", "--db", reader_url)
    assert code == 0, output
    assert first in output
    assert second in output
    code, output = cli("audit", "verify", "--db", reader_url)
    assert code == 1, output  # the reader cannot log the second dispute's events: it says so
    assert f"dispute {second} v1: is sealed but not in the audit log yet" in output
    with DisputeEngine.open(pg_schema_url, settings=sealed_settings()) as engine:
        engine.projections.catch_up()
    code, output = cli("audit", "verify", "--db", reader_url)
    assert code == 0, output
    assert "OK: 3 events sealed and logged" in output
    code, output = cli("show", first, "--db", reader_url)
    assert (code, first in output) == (0, True), output
    code, output = cli("history", first, "--db", reader_url)
    assert (code, "NoteAdded" in output) == (0, True), output
    code, output = cli("state-at", first, "--version", "1", "--db", reader_url)
    assert (code, first in output) == (0, True), output


def test_a_role_with_select_only_cannot_write_and_gets_one_line(
    pg_schema_url: str, reader_url: str, alice: Actor
):
    with DisputeEngine.open(pg_schema_url) as engine:
        dispute_id = str(file_dispute(engine, alice))
    _grant_select(reader_url)
    code, output = cli("note", dispute_id, "a note", "--actor", "alice", "--db", reader_url)
    assert code != 0
    assert "permission denied" in output
    assert len(output.strip().splitlines()) == 1
    with DisputeEngine.open(pg_schema_url) as engine:
        assert engine.get(dispute_id).version == 1


def test_a_role_with_select_only_gets_a_members_queue_as_the_views_would_give_it(
    pg_schema_url: str, reader_url: str, alice: Actor, tmp_path: Path
):
    env = a_desk_with_work(pg_schema_url, tmp_path, alice)
    _grant_select(reader_url)
    before = stored_rows_of(pg_schema_url)
    read = queue_ids(reader_url, env)
    assert stored_rows_of(pg_schema_url) == before
    assert len(read) == 3  # not the Spanish one: alice serves en and zh
    assert read == routed_by_the_views(pg_schema_url)


def test_a_read_only_sqlite_file_gives_a_members_queue_as_the_views_would(
    small_fs: Path, alice: Actor, tmp_path: Path
):
    url = f"sqlite:///{small_fs / 'disputes.db'}"
    env = a_desk_with_work(url, tmp_path, alice)
    shutil.copy(small_fs / "disputes.db", tmp_path / "copy.db")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    read = queue_ids(url, env)
    assert len(read) == 3
    assert read == routed_by_the_views(f"sqlite:///{tmp_path / 'copy.db'}")
    code, output = cli("list", "--db", url)
    assert (code, output.count("\n") > 4) == (0, True), output
    code, output = cli("staff", "show", "alice", "--db", url)
    assert (code, "investigator" in output) == (0, True), output


def stored_rows_of(url: str) -> tuple[int, int, int]:
    with DisputeEngine.open(url) as engine:
        return stored_rows(engine)


@pytest.mark.parametrize("schema", ["bad-name", 'x"; DROP TABLE y; --', "1st", "a" * 64])
def test_a_schema_name_that_is_not_a_plain_identifier_is_refused_before_anything_is_created(
    schema: str,
):
    with pytest.raises(InvalidInput, match="schema"):
        DisputeEngine.open(f"{PG_URL}?schema={schema}")
    if schema.isidentifier():  # only a valid name could have been created
        assert not _schema_exists(schema)
