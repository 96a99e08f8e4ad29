"""The casework commands on the command line: contact, escalate, credit grant, the checklist."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine
from dispute_engine.cli import app
from tests.factories import file_dispute

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def lines(out: str) -> dict[str, str]:
    return dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines())


def test_show_prints_each_checklist_item_done_or_open(
    db_url: str, engine: DisputeEngine, alice: Actor
):
    dispute_id = str(file_dispute(engine, alice, reason="wrong_recipient"))
    code, out, _ = invoke(
        "contact", dispute_id, "--party", "recipient", "--channel", "phone",
        "--note", "no answer", "--db", db_url, "--actor", "alice",
    )  # fmt: skip
    assert code == 0
    code, out, _ = invoke("show", dispute_id, "--db", db_url)
    assert code == 0
    shown = lines(out)
    assert shown["checklist"] == "1 of 4 done (version 2026-12)"
    assert "[x] recipient_contacted" in out
    assert "[ ] identity_verified" in out
    assert shown["contact recipient"].startswith("phone at ")


def test_escalate_and_credit_grant_report_what_they_did(
    db_url: str, engine: DisputeEngine, alice: Actor
):
    dispute_id = str(file_dispute(engine, alice))
    code, out, _ = invoke(
        "escalate", dispute_id, "--reason", "VIP", "--db", db_url, "--actor", "alice"
    )
    assert (code, out.strip()) == (0, "filed")
    code, out, err = invoke("credit", "grant", dispute_id, "--db", db_url, "--actor", "bob")
    assert code == 0, err
    assert out.strip() == f"ledger:{dispute_id}:credit:1"
    _, out, _ = invoke("show", dispute_id, "--db", db_url)
    shown = lines(out)
    assert shown["escalated"] == "high priority, escalation queue"
    assert shown["credit #1"].startswith("125.5 USDT granted")


def test_casework_commands_refuse_bad_input_in_one_line(
    db_url: str, engine: DisputeEngine, alice: Actor
):
    dispute_id = str(file_dispute(engine, alice))
    code, _, err = invoke(
        "contact", dispute_id, "--party", "moon", "--channel", "email", "--note", "n",
        "--db", db_url, "--actor", "alice",
    )  # fmt: skip
    assert code == 2
    assert err.startswith("error: invalid input: --party")
    assert len(err.strip().splitlines()) == 1
    code, _, err = invoke("escalate", dispute_id, "--reason", "", "--db", db_url, "--actor", "a")
    assert (code, err.count("--reason")) == (2, 1)
    code, _, err = invoke(
        "credit", "grant", dispute_id, "--db", db_url, "--actor", "alice", "--role",
        "investigator",
    )  # fmt: skip
    assert code == 1
    assert "needs the role approver" in err
    code, _, err = invoke("credit", "grant", dispute_id, "--db", db_url, "--actor", "bob")
    assert code == 0
    code, _, err = invoke("credit", "grant", dispute_id, "--db", db_url, "--actor", "bob")
    assert code == 1
    assert "already granted" in err
    assert engine.get(dispute_id).version == 2
