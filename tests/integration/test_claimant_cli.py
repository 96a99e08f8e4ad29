"""The claimant commands on the command line: the challenge, the signature, feedback, forget."""

from __future__ import annotations

import json

from eth_account import Account
from eth_account.messages import encode_defunct
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, ProposeDecision
from dispute_engine.cli import app
from tests.factories import file_dispute

runner = CliRunner()
WALLET = Account.from_key("0x" + "42" * 32)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_claimant_verified_by_wallet_signature_on_the_command_line(
    engine: DisputeEngine, alice: Actor, db_url: str
):
    dispute = str(file_dispute(engine, alice, transaction={"sender": WALLET.address}))
    code, message, err = invoke("identity-challenge", dispute, "--db", db_url, "--actor", "alice")
    assert code == 0, err
    assert WALLET.address in message
    wrong = "0x" + "00" * 65
    code, out, err = invoke(
        "verify-identity", dispute, "--method", "wallet_signature", "--signature", wrong,
        "--db", db_url, "--actor", "alice",
    )  # fmt: skip
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    code, message, _ = invoke("identity-challenge", dispute, "--db", db_url, "--actor", "alice")
    signed = WALLET.sign_message(encode_defunct(text=message.rstrip("\n"))).signature
    code, out, err = invoke(
        "verify-identity", dispute, "--method", "wallet_signature",
        "--signature", "0x" + bytes(signed).hex(), "--db", db_url, "--actor", "alice",
    )  # fmt: skip
    assert code == 0, err
    assert engine.get(dispute).identity_method == "wallet_signature"


def test_feedback_and_forget_on_the_command_line(engine: DisputeEngine, alice: Actor, db_url: str):
    dispute = file_dispute(engine, alice)
    engine.assign(dispute, investigator="alice", by=alice)
    engine.propose_decision(
        dispute,
        ProposeDecision(outcome="reject", rationale="ok", overrides=["checklist"]),
        by=alice,
    )
    code, _, err = invoke(
        "feedback", str(dispute), "--rating", "9", "--channel", "chat", "--db", db_url
    )
    assert code == 2
    assert "--rating" in err
    code, out, err = invoke(
        "feedback", str(dispute), "--rating", "4", "--channel", "chat", "--db", db_url
    )
    assert code == 0, err
    code, out, err = invoke("forget", "user-1842", "--db", db_url, "--actor", "alice",
                            "--role", "investigator")  # fmt: skip
    assert code == 1
    code, out, err = invoke("forget", "USER-1842", "--db", db_url, "--actor", "bob", "--json")
    assert code == 0, err
    assert json.loads(out)["disputes"] == [str(dispute)]
