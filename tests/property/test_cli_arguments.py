"""Any arguments to any command: one documented exit code, one line on error, nothing written.

The exit codes and the first words of the error line are those docs/reference/cli.md states.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.cli import app
from tests.conftest import FakeClock
from tests.factories import file_dispute, sealed_env, sealed_settings

ROOT = Path(__file__).parents[2]
# What each exit code's error line starts with (docs/reference/cli.md, "Exit codes").
PREFIXES = {
    1: ("error: ",),
    2: ("error: invalid input: ", "error: invalid setting: ", "error: usage: "),
    3: ("error: unavailable: ",),
}
# Each command with its own options; `--every` and `--follow` loop until a signal, so they
# are tested on their own.
COMMANDS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("file",): (
        "--from-json",
        "--claimant",
        "--channel",
        "--language",
        "--jurisdiction",
        "--priority",
        "--reason",
        "--chain-id",
        "--tx-hash",
        "--asset",
        "--token-address",
        "--decimals",
        "--amount",
        "--sender",
        "--recipient",
        "--occurred-at",
        "--description",
        "--contact",
        "--idempotency-key",
    ),
    ("assign",): ("--investigator",),
    ("verify-identity",): ("--method",),
    ("request-evidence",): ("--what",),
    ("add-evidence",): ("--media-type", "--kind", "--source"),
    ("note",): (),
    ("propose",): ("--outcome", "--rationale", "--amount"),
    ("approve",): (),
    ("send-back",): ("--reason",),
    ("execute",): (),
    ("notify",): (),
    ("close",): (),
    ("reopen",): ("--reason",),
    ("withdraw",): ("--reason",),
    ("lifecycle",): (),
    ("show",): (),
    ("history",): (),
    ("state-at",): ("--version", "--at"),
    ("list",): ("--status", "--assignee"),
    ("chain", "lookup"): (),
    ("chain", "recheck"): (),
    ("projections", "run"): (),
    ("projections", "rebuild"): (),
    ("sla", "check"): (),
    ("sla", "report"): ("--days",),
    ("audit", "verify"): (),
    ("audit", "export"): ("--format", "--output", "--dispute", "--since", "--until", "--out"),
    ("audit", "log"): ("--dispute", "--event", "--since", "--until"),
    ("audit", "verify-bundle"): ("--trusted-key", "--cipher-key"),
    ("audit", "keys"): (),
    ("staff", "change"): ("--grant", "--revoke-role", "--language", "--drop-language"),
    ("staff", "show"): (),
    ("staff", "history"): (),
    ("chain",): (),
    ("sla",): (),
    (): (),
}
GLOBAL = ("--json", "--actor", "--role", "--db", "--help", "--version", "--nonsense", "--")
VALUES = (
    "",
    "0",
    "-1",
    "1",
    "2",
    "1e400",
    "nan",
    "99999999999999999999999",
    "alice",
    "ALICE",
    "approver",
    "auditor",
    "investigator",
    "refund",
    "reject",
    "image/png",
    "text/plain",
    "claimant",
    "csv",
    "jsonl",
    "sla",
    "closed",
    "0x" + "ab" * 32,
    "0x" + "12" * 20,
    "2026-11-20T08:15:00Z",
    "2026-11-20T08:15:00",
    "memory:",
    "mysql://nowhere",
    "sqlite://",
    "/dev/zero",
    "/dev/null",
    "/nonexistent/out.csv",
    "a\x00b",
    "a\u200bb",
    "\u00e9\u6f22",
    "x" * 300,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database holding one filed dispute, and files to attach."""
    folder = tmp_path_factory.mktemp("cli-args")
    url = f"sqlite:///{folder}/cli.db"
    engine = DisputeEngine.open(
        url, clock=FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC)), settings=sealed_settings()
    )
    try:
        dispute_id = file_dispute(engine, Actor(id="alice", roles={Role.INVESTIGATOR}))
    finally:
        engine.shutdown()
    (folder / "small.txt").write_text("hello", encoding="utf-8")
    return {
        "url": url,
        "db_path": str(folder / "cli.db"),
        "id": str(dispute_id),
        "folder": str(folder),
        "small": str(folder / "small.txt"),
    }


def events(db_path: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


POSITIONALS: dict[tuple[str, ...], tuple[str, ...]] = {
    **{
        (name,): ("ID",)
        for name in (
            "assign",
            "verify-identity",
            "request-evidence",
            "propose",
            "approve",
            "send-back",
            "execute",
            "notify",
            "close",
            "reopen",
            "withdraw",
            "show",
            "history",
            "state-at",
        )
    },
    ("add-evidence",): ("ID", "FILE"),
    ("note",): ("ID", "TEXT"),
    ("chain", "lookup"): ("ID",),
    ("audit", "verify-bundle"): ("FILE",),
    ("staff", "change"): ("TEXT",),
    ("staff", "show"): ("TEXT",),
    ("staff", "history"): ("TEXT",),
    ("projections", "rebuild"): ("TEXT",),
}
DATABASES = (
    "memory:",
    "mysql://nowhere",
    "sqlite://",
    "sqlite:////nonexistent-dir/x.db",
    "postgresql://postgres@127.0.0.1:9/test",
)


@st.composite
def command_lines(draw: st.DrawFn, world: dict[str, str]) -> list[str]:
    """A command, its arguments, options with values, and now and then plain noise."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    value = st.one_of(st.sampled_from(VALUES), st.text(max_size=12), st.just(world["id"]))
    positional = {
        "ID": st.one_of(st.just(world["id"]), st.uuids().map(str), value),
        "FILE": st.sampled_from(
            (world["small"], world["folder"], "/dev/zero", "/nonexistent/x", "")
        ),
        "TEXT": value,
    }
    args = [*command, *(draw(positional[p]) for p in POSITIONALS.get(command, ()))]
    for option in draw(st.lists(st.sampled_from((*COMMANDS[command], *GLOBAL)), max_size=3)):
        if option == "--db":
            args += [option, draw(st.one_of(st.just(world["url"]), st.sampled_from(DATABASES)))]
        elif option in ("--json", "--help", "--version", "--"):
            args.append(option)
        else:
            args += [option, draw(value)]
    if draw(st.booleans()):
        args += ["--actor", draw(st.sampled_from(("alice", "bob", "ALICE", "")))]
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(value))
    return args


def check(code: int, stdout: str, stderr: str, before: int, after: int) -> None:
    assert "Traceback" not in stdout + stderr
    assert code in (0, 1, 2, 3), (code, stderr)
    if code == 0:
        return
    assert after == before, "a refused command wrote events"
    if code == 2 and not stderr.strip():
        assert "Usage" in stdout  # a bare group prints its help
        return
    assert stderr.endswith("\n")
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(PREFIXES[code]), (code, stderr)
    if code == 1:
        assert not stderr.startswith(PREFIXES[2] + PREFIXES[3]), stderr


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_arguments_get_a_documented_exit_code_and_write_nothing_on_refusal(
    world: dict[str, str], data: st.DataObject
):
    args = data.draw(command_lines(world))
    before = events(world["db_path"])
    with contextlib.chdir(world["folder"]):  # a relative --output lands there
        result = CliRunner().invoke(
            app,
            args,
            env={**sealed_env(), "DISPUTE_ENGINE_DB": world["url"], "DISPUTE_ENGINE_ACTOR": None},
        )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    event(f"exit {result.exit_code}")
    check(result.exit_code, result.stdout, result.stderr, before, events(world["db_path"]))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_installed_command_behaves_the_same_in_a_process(
    world: dict[str, str], data: st.DataObject
):
    args = [a for a in data.draw(command_lines(world)) if "\x00" not in a]
    before = events(world["db_path"])
    done = subprocess.run(
        [sys.executable, "-m", "dispute_engine", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=world["folder"],
        env={**sealed_env(), "PATH": "/usr/bin:/bin", "DISPUTE_ENGINE_DB": world["url"]},
    )
    event(f"exit {done.returncode}")
    check(done.returncode, done.stdout, done.stderr, before, events(world["db_path"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sla", "check", "--every", "0"], "--every: must be between"),
        (["sla", "check", "--every", "-1"], "--every: must be between"),
        (["sla", "check", "--every", "inf"], "--every: must be between"),
        (["sla", "check", "--every", "soon"], "error: usage:"),
        (["projections", "run", "--follow", "--nonsense"], "error: usage:"),
    ],
)
def test_the_loops_refuse_bad_intervals_before_they_start(
    world: dict[str, str], args: list[str], message: str
):
    result = CliRunner().invoke(app, [*args, "--db", world["url"]])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_documented_exit_codes_are_the_ones_tested():
    text = (ROOT / "docs/reference/cli.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\d) \| ([^|]+) \|", text, re.M))
    assert sorted(table) == ["0", "1", "2", "3"]
    for code, prefixes in PREFIXES.items():
        row = re.search(rf"^\| {code} \|.*$", text, re.M)
        assert row is not None
        for prefix in prefixes:
            assert f"`{prefix.strip()}" in row.group(0), (code, prefix)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["lifecycle"], 0),
        (["show", "ID"], 0),
        (["approve", "ID", "--actor", "bob"], 1),  # a filed dispute has no decision
        (["approve", "ID", "--actor", "alice", "--role", "investigator"], 1),
        (["show", "00000000-0000-0000-0000-000000000007"], 1),
        (["approve", "ID"], 2),  # no actor
        (["show", "ID", "--db", "mysql://nowhere"], 2),
        (["state-at", "ID", "--version", "0"], 2),
        (["chain", "lookup", "ID", "--actor", "alice"], 3),  # no chain nodes configured
        (["list", "--db", "sqlite:////nonexistent-dir/x.db"], 3),
        (["list", "--db", "postgresql://postgres@127.0.0.1:9/test"], 3),
    ],
)
def test_each_kind_of_outcome_has_its_exit_code(world: dict[str, str], args: list[str], code: int):
    argv = [world["id"] if a == "ID" else a for a in args]
    before = events(world["db_path"])
    result = CliRunner().invoke(app, argv, env={**sealed_env(), "DISPUTE_ENGINE_DB": world["url"]})
    assert result.exit_code == code, result.stderr
    check(result.exit_code, result.stdout, result.stderr, before, events(world["db_path"]))
