"""The command line over the same API: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispute_engine import DisputeEngine
from dispute_engine.cli import app
from dispute_engine.errors import StorageUnavailable
from tests.factories import filing

runner = CliRunner()


@pytest.fixture
def db(db_url: str) -> str:
    return db_url


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_demo_walks_disputes_in_three_languages_and_runs_again_on_the_same_database(db: str):
    code, out, err = invoke("demo", "--db", db)
    assert code == 0, err
    assert "向您发送 125.5 USDT" in out  # the refund sent, in the claimant's Chinese
    assert "Puede apelar" in out
    assert "To continue" in out
    assert "four eyes" in out
    assert re.search(r"^audit: (\d+) of \1 stored events sealed and logged; OK$", out, re.M)
    code, out, _ = invoke("list", "--db", db, "--json")
    assert sorted(d["status"] for d in json.loads(out)) == ["closed", "closed", "withdrawn"]
    code, _, err = invoke("demo", "--db", db)
    assert code == 0, err
    code, out, _ = invoke("list", "--db", db, "--json")
    assert sorted(d["status"] for d in json.loads(out)) == ["closed"] * 4 + ["withdrawn"] * 2


def test_show_prints_chain_facts_decision_and_payouts_with_times_in_utc(db: str):
    invoke("demo", "--db", db)
    _, out, _ = invoke("list", "--db", db, "--json")
    refunded = next(d for d in json.loads(out) if d["paid_amount"] == "125.5")
    code, out, _ = invoke("show", refunded["id"], "--db", db)
    assert code == 0
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    assert lines["chain"].startswith("failed in block")
    assert lines["mismatches"] == "status"
    assert lines["decision"] == "#1 refund 125.5 USDT"
    assert "approved by bob" in lines["proposed"]
    assert lines["payout #1"].startswith("125.5 USDT at ")
    assert re.search(r"filed +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ by alice", out)
    assert "+00:00" not in out


def evidence_case(tmp_path: Path, case: str) -> tuple[list[str], str]:
    """The arguments of one bad add-evidence, and what its error line says."""
    if case == "device":
        return ["/dev/zero", "--media-type", "text/plain"], "not a regular file"
    if case == "folder":
        return [str(tmp_path), "--media-type", "text/plain"], "not a regular file"
    path = tmp_path / f"{case}.txt"
    if case == "too big":
        path.write_bytes(b"x" * (11 * 1024 * 1024))
        return [str(path), "--media-type", "text/plain"], "the limit is"
    if case == "empty":
        path.write_bytes(b"")
        return [str(path), "--media-type", "text/plain"], "is empty"
    path.write_bytes(b"fine")
    flag = {"media type": "--media-type", "kind": "--kind", "source": "--source"}[case]
    return [str(path), "--media-type", "text/plain", flag, "nonsense"], flag


@pytest.mark.parametrize(
    "case", ["device", "folder", "too big", "empty", "media type", "kind", "source"]
)
def test_bad_evidence_is_one_line_and_nothing_is_written(db: str, tmp_path: Path, case: str):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing()), encoding="utf-8")
    _, out, _ = invoke("file", "--db", db, "--actor", "alice", "--from-json", str(path))
    dispute_id = out.strip()
    args, says = evidence_case(tmp_path, case)
    code, _, err = invoke("add-evidence", dispute_id, *args, "--db", db, "--actor", "alice")
    assert code == 2
    assert err.startswith("error: invalid input:")
    assert says in err
    assert err.count("\n") == 1
    _, out, _ = invoke("history", dispute_id, "--db", db, "--json")
    assert [e["name"] for e in json.loads(out)] == ["Filed"]


def test_a_write_command_without_an_actor_is_refused_and_writes_nothing(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("DISPUTE_ENGINE_ACTOR", raising=False)
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing()), encoding="utf-8")
    code, _, err = invoke("file", "--db", db, "--from-json", str(path))
    assert code == 2
    assert "--actor" in err
    _, out, _ = invoke("file", "--db", db, "--from-json", str(path), "--actor", "alice")
    dispute_id = out.strip()
    for args in (["approve", dispute_id], ["note", dispute_id, "x"], ["close", dispute_id]):
        code, _, err = invoke(*args, "--db", db)
        assert code == 2, args
        assert err == (
            "error: invalid input: --actor: a write command needs who acts: "
            "--actor ID or DISPUTE_ENGINE_ACTOR\n"
        )
    _, out, _ = invoke("history", dispute_id, "--db", db, "--json")
    assert len(json.loads(out)) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["sla", "report", "--days", "0"], "--days: must be between 1 and 36500"),
        (["sla", "report", "--days", "100000000"], "--days: must be between 1 and 36500"),
        (["state-at", "ID", "--version", "0"], "--version: must be between 1 and"),
        (["state-at", "ID", "--version", "7"], "--version: must be between 1 and 1"),
        (["state-at", "ID", "--at", "2026-11-20T08:15:00"], "--at: needs a zone"),
        (["audit", "export", "--output", "/nonexistent-dir/audit.csv"], "does not exist"),
        (["audit", "export", "--output", "FOLDER"], "is a folder"),
        (["file", "--actor", "a", "--claimant", "u"], "--idempotency-key: required"),
        (["list", "--status", "lost"], "--status: must be one of"),
        (["sla", "check", "--every", "x"], "error: usage:"),
    ],
)
def test_bad_numbers_and_paths_are_one_line(db: str, tmp_path: Path, args: list[str], says: str):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing()), encoding="utf-8")
    _, out, _ = invoke("file", "--db", db, "--actor", "alice", "--from-json", str(path))
    argv = [{"ID": out.strip(), "FOLDER": str(tmp_path)}.get(a, a) for a in args]
    code, _, err = invoke(*argv, "--db", db)
    assert code == 2
    assert says in err
    assert err.count("\n") == 1


def test_flags_are_named_in_errors_not_fields_or_patterns(db: str):
    code, _, err = invoke(
        "file",
        "--db",
        db,
        "--actor",
        "alice",
        "--idempotency-key",
        "a b",
        "--claimant",
        "u\x01",
        "--asset",
        "$$$",
    )
    assert code == 2
    for flag in ("--idempotency-key", "--claimant", "--asset", "--tx-hash", "--description"):
        assert f"{flag}: " in err
    assert "transaction." not in err
    assert "pattern" not in err
    assert "printable ASCII without spaces" in err


def test_version_and_json_on_every_reading_command(db: str):
    assert invoke("projections", "run", "--db", db)[0] == 0  # reading never creates one
    code, out, _ = invoke("--version")
    assert code == 0
    assert re.fullmatch(r"dispute-engine \d+\.\d+\.\d+\S*\n", out)
    for args in (["audit", "verify"], ["projections", "run"], ["sla", "check"], ["list"]):
        code, out, err = invoke(*args, "--db", db, "--json")
        assert code == 0, err
        json.loads(out)
    code, out, _ = invoke("audit", "verify", "--db", db, "--json")
    assert json.loads(out) == {
        "ok": True,
        "events": 0,
        "logged": 0,
        "appended": 0,
        "checkpoints": 0,
        "witnessed": 0,
        "blobs": 0,
        "read_only": False,
        "problems": [],
    }


def test_an_invalid_setting_is_one_line_naming_the_variable(db: str):
    result = runner.invoke(
        app, ["list", "--db", db], env={"DISPUTE_ENGINE_CHAIN_TIMEOUT_SECONDS": "-1"}
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid setting: DISPUTE_ENGINE_CHAIN_TIMEOUT_SECONDS")
    assert result.stderr.count("\n") == 1
    result = runner.invoke(app, ["list", "--db", db], env={"DISPUTE_ENGINE_CHAINS": "{nope"})
    assert result.exit_code == 2
    assert "DISPUTE_ENGINE_CHAINS" in result.stderr
    env = {"DISPUTE_ENGINE_DEFAULT_JURISDICTION": "nonsense"}
    result = runner.invoke(app, ["list", "--db", db], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid setting: DISPUTE_ENGINE_DEFAULT_JURISDICTION")
    for nonsense in ("-1", "many", "2.5"):
        env = {"DISPUTE_ENGINE_COMMAND_CACHE_SIZE": nonsense}
        result = runner.invoke(app, ["list", "--db", db], env=env)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: invalid setting: DISPUTE_ENGINE_COMMAND_CACHE_SIZE")
        assert result.stderr.count("\n") == 1


def test_file_from_json_then_show_history_and_state_at(db: str, tmp_path: Path):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing()), encoding="utf-8")
    code, out, _ = invoke(
        "file", "--db", db, "--actor", "alice", "--from-json", str(path), "--json"
    )
    assert code == 0
    dispute_id = json.loads(out)["id"]

    code, out, _ = invoke("show", dispute_id, "--db", db)
    assert code == 0
    assert "status" in out
    assert "filed" in out
    assert "125.5 USDT" in out

    code, out, _ = invoke("history", dispute_id, "--db", db, "--json")
    (entry,) = json.loads(out)
    assert entry["name"] == "Filed"
    assert entry["version"] == 1
    assert len(entry["hash"]) == 64

    code, out, _ = invoke("state-at", dispute_id, "--db", db, "--version", "1", "--json")
    assert code == 0
    assert json.loads(out)["status"] == "filed"

    at = entry["at"]
    code, out, _ = invoke("state-at", dispute_id, "--db", db, "--at", at, "--json")
    assert code == 0
    assert json.loads(out)["version"] == 1
    code, _, err = invoke("state-at", dispute_id, "--db", db, "--at", "2026-01-01T00:00:00Z")
    assert code == 1
    assert "not filed yet" in err
    code, _, err = invoke("state-at", dispute_id, "--db", db, "--at", "yesterday")
    assert code == 2

    code, out, _ = invoke("list", "--db", db, "--status", "filed")
    assert dispute_id in out


def test_file_from_flags(db: str):
    tx = filing()["transaction"]
    code, out, err = invoke(
        "file",
        "--db",
        db,
        "--actor",
        "alice",
        "--claimant",
        "user-9",
        "--channel",
        "phone",
        "--reason",
        "unauthorized",
        "--chain-id",
        "1",
        "--tx-hash",
        tx["tx_hash"],
        "--asset",
        "ETH",
        "--amount",
        "0.5",
        "--sender",
        tx["sender"],
        "--recipient",
        tx["recipient"],
        "--occurred-at",
        "2026-11-20T08:15:00Z",
        "--description",
        "I did not make this",
        "--contact",
        "+34 600 000 000",
        "--idempotency-key",
        "phone-call-1",
    )
    assert code == 0, err
    code, out, _ = invoke("show", out.strip(), "--db", db, "--json")
    claim = json.loads(out)["claim"]
    assert (claim["reason"], claim["contact"]) == ("unauthorized", "+34 600 000 000")


def test_errors_are_one_line_and_a_non_zero_exit(db: str):
    code, out, err = invoke(
        "file",
        "--db",
        db,
        "--actor",
        "al",
        "--claimant",
        "u",
        "--tx-hash",
        "0x12",
        "--idempotency-key",
        "k",
    )
    assert code == 2
    assert err.startswith("error: invalid input:")
    assert "--tx-hash" in err
    assert "Traceback" not in err + out

    code, _, err = invoke("show", "not-a-uuid", "--db", db)
    assert code == 2
    assert err.count("\n") == 1

    assert invoke("projections", "run", "--db", db)[0] == 0  # reading never creates one
    code, _, err = invoke("show", "00000000-0000-0000-0000-000000000007", "--db", db)
    assert code == 1
    assert err.startswith("error: no dispute")

    code, _, err = invoke("list", "--db", "mysql://nowhere")
    assert code == 2
    assert "unsupported database URL" in err


def test_module_entry_point_runs_the_same_cli(tmp_path: Path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/m.db"
    DisputeEngine.open(url).shutdown()  # reading commands never create the database
    done = subprocess.run(
        [sys.executable, "-m", "dispute_engine", "list", "--db", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("id")


def test_lifecycle_prints_the_transition_table():
    code, out, _ = invoke("lifecycle")
    assert code == 0
    assert "| `approve_decision` | pending_approval |" in out


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:9/test", "sqlite:////nonexistent-dir/disputes.db"]
)
def test_a_database_that_cannot_be_opened_is_one_clear_line(url: str):
    with pytest.raises(StorageUnavailable):
        DisputeEngine.open(url)
    code, _, err = invoke("list", "--db", url)
    assert code == 3
    assert err.startswith("error: unavailable: cannot use the database")
    assert err.count("\n") == 1


def test_an_investigator_and_an_approver_work_a_dispute_from_the_command_line(
    db: str, tmp_path: Path
):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing(language="es")), encoding="utf-8")
    _, out, _ = invoke("file", "--db", db, "--actor", "alice", "--from-json", str(path))
    dispute_id = out.strip()
    screenshot = tmp_path / "deposit.png"
    screenshot.write_bytes(b"\x89PNG")
    steps = [
        (["assign", dispute_id, "--investigator", "alice"], "investigating"),
        (["verify-identity", dispute_id, "--method", "id_document"], "investigating"),
        (["request-evidence", dispute_id, "--what", "a screenshot"], "awaiting_claimant"),
        (
            [
                "add-evidence",
                dispute_id,
                str(screenshot),
                "--media-type",
                "image/png",
                "--source",
                "claimant",
            ],
            None,
        ),
        (["note", dispute_id, "exchange confirms nothing arrived"], "investigating"),
        (
            [
                "propose",
                dispute_id,
                "--outcome",
                "refund",
                "--rationale",
                "never arrived",
                *("--override", "no_lookup", "--override", "amount", "--override", "checklist"),
            ],
            "pending_approval",
        ),
        (["send-back", dispute_id, "--reason", "check the fee"], "investigating"),
        (
            [
                "propose",
                dispute_id,
                "--outcome",
                "partial_refund",
                "--amount",
                "100",
                "--rationale",
                "fee kept",
                *("--override", "no_lookup", "--override", "amount", "--override", "checklist"),
            ],
            "pending_approval",
        ),
        (["approve", dispute_id, "--actor", "bob"], "approved"),
        (["execute", dispute_id, "--actor", "bob"], None),
        (["notify", dispute_id], None),
        (["close", dispute_id], "closed"),
        (["reopen", dispute_id, "--reason", "appeal"], "investigating"),
        (["withdraw", dispute_id], "withdrawn"),
    ]
    for args, status in steps:
        actor = [] if "--actor" in args else ["--actor", "alice"]
        code, out, err = invoke(*args, *actor, "--db", db)
        assert code == 0, (args, err)
        if status is not None:
            assert out.strip() == status, args
    _, out, _ = invoke("show", dispute_id, "--db", db, "--json")
    shown = json.loads(out)
    assert shown["paid_amount"] == "100"
    assert shown["notices"][0]["text"].startswith("Hemos decidido reembolsarle 100 USDT")


def test_workflow_errors_are_one_line(db: str):
    code, _, err = invoke(
        "approve", "00000000-0000-0000-0000-000000000001", "--db", db, "--actor", "bob"
    )
    assert code == 1
    assert err.startswith("error: no dispute")
    code, _, err = invoke(
        "propose",
        "00000000-0000-0000-0000-000000000001",
        "--outcome",
        "gift",
        "--rationale",
        "x",
        "--db",
        db,
        "--actor",
        "alice",
    )
    assert code == 2
    assert "--outcome" in err
    code, _, err = invoke(
        "note",
        "00000000-0000-0000-0000-000000000001",
        "x",
        "--role",
        "auditor",
        "--db",
        db,
        "--actor",
        "alice",
    )
    assert code == 2
    assert "--role" in err


def test_file_gives_the_decimals_of_a_token_the_engine_does_not_know(db: str):
    tx = filing()["transaction"]
    args = [
        "file", "--db", db, "--actor", "alice", "--claimant", "user-9", "--description", "lost",
        "--tx-hash", tx["tx_hash"], "--sender", tx["sender"], "--recipient", tx["recipient"],
        "--occurred-at", "2026-11-20T08:15:00Z", "--asset", "PEPE", "--amount", "1.5",
        "--token-address", tx["recipient"], "--idempotency-key", "pepe-1",
    ]  # fmt: skip
    code, _, err = invoke(*args)
    assert code == 2
    assert "--decimals: unknown asset PEPE" in err
    code, out, err = invoke(*args, "--decimals", "9")
    assert code == 0, err
    _, out, _ = invoke("show", out.strip(), "--db", db, "--json")
    assert json.loads(out)["claim"]["transaction"]["decimals"] == 9


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--actor", "al\u200bice"], "--actor: must not contain control or invisible characters"),
        (["--actor", "alice", "--db"], "--db: needs a value"),
        (["--actor", "alice", "--db", "sqlite:///"], "--db: an SQLite URL needs a path"),
    ],
)
def test_global_options_are_checked_and_named(db: str, args: list[str], says: str):
    code, _, err = invoke("note", "00000000-0000-0000-0000-000000000001", "x", *args)
    assert code == 2
    assert err == f"error: invalid input: {says}" + err.split(says, 1)[1]
    assert err.count("\n") == 1


def test_the_actor_is_recorded_in_its_canonical_form(db: str, tmp_path: Path):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing()), encoding="utf-8")
    _, out, _ = invoke("file", "--db", db, "--actor", " ALICE ", "--from-json", str(path))
    _, out, _ = invoke("history", out.strip(), "--db", db, "--json")
    assert json.loads(out)[0]["actor"] == "alice"
