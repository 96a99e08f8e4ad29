"""The command line over the same API: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
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


def test_demo_walks_disputes_in_three_languages(db: str):
    code, out, _ = invoke("demo", "--db", db)
    assert code == 0
    assert "已退还" in out
    assert "Puede apelar" in out
    assert "To continue" in out
    assert "four eyes" in out
    code, out, _ = invoke("list", "--db", db, "--json")
    assert sorted(d["status"] for d in json.loads(out)) == ["closed", "closed", "withdrawn"]


def test_file_from_json_then_show_history_and_state_at(db: str, tmp_path: Path):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing()), encoding="utf-8")
    code, out, _ = invoke("file", "--db", db, "--from-json", str(path), "--json")
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
        "--idempotency-key",
        "phone-call-1",
    )
    assert code == 0, err
    code, out, _ = invoke("show", out.strip(), "--db", db, "--json")
    assert json.loads(out)["claim"]["reason"] == "unauthorized"


def test_errors_are_one_line_and_a_non_zero_exit(db: str):
    code, out, err = invoke("file", "--db", db, "--claimant", "u", "--tx-hash", "0x12")
    assert code == 2
    assert err.startswith("error: invalid input:")
    assert "transaction.tx_hash" in err
    assert "Traceback" not in err + out

    code, _, err = invoke("show", "not-a-uuid", "--db", db)
    assert code == 2
    assert err.count("\n") == 1

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
    assert code == 1
    assert err.startswith("error: cannot use the database")
    assert err.count("\n") == 1


def test_an_investigator_and_an_approver_work_a_dispute_from_the_command_line(
    db: str, tmp_path: Path
):
    path = tmp_path / "filing.json"
    path.write_text(json.dumps(filing(language="es")), encoding="utf-8")
    _, out, _ = invoke("file", "--db", db, "--from-json", str(path))
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
            ["propose", dispute_id, "--outcome", "refund", "--rationale", "never arrived"],
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
            ],
            "pending_approval",
        ),
        (["approve", dispute_id, "--actor", "bob"], "approved"),
        (["execute", dispute_id], None),
        (["notify", dispute_id], None),
        (["close", dispute_id], "closed"),
        (["reopen", dispute_id, "--reason", "appeal"], "investigating"),
        (["withdraw", dispute_id], "withdrawn"),
    ]
    for args, status in steps:
        code, out, err = invoke(*args, "--db", db)
        assert code == 0, (args, err)
        if status is not None:
            assert out.strip() == status, args
    _, out, _ = invoke("show", dispute_id, "--db", db, "--json")
    shown = json.loads(out)
    assert shown["paid_amount"] == "100"
    assert shown["notices"][0]["text"].startswith("La disputa")


def test_workflow_errors_are_one_line(db: str):
    code, _, err = invoke("approve", "00000000-0000-0000-0000-000000000001", "--db", db)
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
    )
    assert code == 2
    assert "outcome" in err
    code, _, err = invoke(
        "note", "00000000-0000-0000-0000-000000000001", "x", "--role", "auditor", "--db", db
    )
    assert code == 2
    assert "role" in err
