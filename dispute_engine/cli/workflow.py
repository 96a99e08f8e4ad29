"""The write commands: filing, and each step of working a dispute. All need ``--actor``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from dispute_engine.cli import parse
from dispute_engine.cli.app import app
from dispute_engine.cli.handler import flags_named
from dispute_engine.cli.session import Session
from dispute_engine.commands import AddEvidence, FileDispute, ProposeDecision
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.errors import InvalidInput

if TYPE_CHECKING:
    from dispute_engine.engine import DisputeEngine

DisputeId = Annotated[
    str, typer.Argument(metavar="ID", help="The dispute's id (a UUID).", show_default=False)
]
Step = Callable[["DisputeEngine", UUID, Actor], object]
MAX_FILING_BYTES = 1_000_000  # a filing is a few fields; a bigger file is not one

# The filing's fields as flags, so errors name what a person typed.
FILING_FLAGS = {
    "claimant_id": "--claimant",
    "idempotency_key": "--idempotency-key",
    **{
        f"transaction.{name}": f"--{name.replace('_', '-')}"
        for name in (
            "chain_id",
            "tx_hash",
            "asset",
            "token_address",
            "decimals",
            "amount",
            "sender",
            "recipient",
            "occurred_at",
        )
    },
    **{name: f"--{name}" for name in ("channel", "language", "jurisdiction", "priority")},
    **{name: f"--{name}" for name in ("reason", "description", "contact")},
}


def act(
    ctx: typer.Context,
    dispute_id: str,
    step: Step,
    *,
    flags: Mapping[str, str] | None = None,
    role: Role = Role.INVESTIGATOR,
) -> None:
    """Run one step as the actor; print what it returned, else the dispute's new status."""
    from dispute_engine.staffing import LanguageNotServed  # noqa: PLC0415 - loads the storage

    session = Session.of(ctx)
    actor = session.actor(role)
    target = parse.dispute_id(dispute_id)
    with (
        session.engine() as engine,
        flags_named({"text": "TEXT", **(flags or {})}),
        warnings.catch_warnings(record=True) as warned,
    ):
        warnings.simplefilter("always", LanguageNotServed)
        result = step(engine, target, actor)
        status = engine.get(target).status
    for warning in warned:
        if issubclass(warning.category, LanguageNotServed):
            session.say(f"warning: {warning.message}")
    shown = result if isinstance(result, str) else str(status)
    session.emit({"id": target, "status": status, "result": result}, lambda: typer.echo(shown))


@app.command("file")
def file_(
    ctx: typer.Context,
    from_json: Annotated[
        Path | None, typer.Option("--from-json", help="A JSON file holding the whole filing.")
    ] = None,
    claimant: Annotated[str, typer.Option(help="The claimant's user id.")] = "",
    channel: Annotated[str, typer.Option(help="app | chat | email | social | phone")] = "app",
    language: Annotated[str, typer.Option(help="BCP 47 tag: en, zh, es, ...")] = "en",
    jurisdiction: Annotated[str | None, typer.Option(help="ISO 3166, e.g. US or US-CA")] = None,
    priority: Annotated[str, typer.Option(help="low | normal | high | urgent")] = "normal",
    reason: Annotated[str, typer.Option(help="not_received | wrong_recipient | ...")] = "other",
    chain_id: Annotated[int, typer.Option(help="The chain's id, e.g. 1")] = 1,
    tx_hash: Annotated[str, typer.Option(help="0x + 64 hex digits")] = "",
    asset: Annotated[str, typer.Option(help="e.g. ETH, USDT")] = "ETH",
    token_address: Annotated[str | None, typer.Option(help="The token contract, if any")] = None,
    decimals: Annotated[
        int | None, typer.Option(help="The token's decimals (for a token the engine does not know)")
    ] = None,
    amount: Annotated[str, typer.Option(help="Exact amount, e.g. 125.50")] = "",
    sender: Annotated[str, typer.Option(help="The sending address")] = "",
    recipient: Annotated[str, typer.Option(help="The receiving address")] = "",
    occurred_at: Annotated[str, typer.Option(help="ISO 8601 with zone")] = "",
    description: Annotated[str, typer.Option(help="What the claimant says")] = "",
    contact: Annotated[
        str | None,
        typer.Option(help="How to reach the claimant on their channel (sealed with a master key)"),
    ] = None,
    idempotency_key: Annotated[
        str,
        typer.Option(
            help="[required unless --from-json] The same key files the same dispute once.",
            show_default=False,
        ),
    ] = "",
) -> None:
    """File a dispute from flags or from a JSON file; prints its id."""
    session = Session.of(ctx)
    actor = session.actor(Role.INVESTIGATOR)
    if from_json is not None:
        command = FileDispute.model_validate_json(
            parse.file_bytes(from_json, "--from-json", MAX_FILING_BYTES)
        )
    else:
        if not idempotency_key:
            raise InvalidInput.of("--idempotency-key", "required when filing from flags")
        fields: dict[str, Any] = {
            "claimant_id": claimant,
            "channel": channel,
            "language": language,
            "jurisdiction": jurisdiction,
            "priority": priority,
            "reason": reason,
            "transaction": {
                "chain_id": chain_id,
                "tx_hash": tx_hash,
                "asset": asset,
                "token_address": token_address,
                "decimals": decimals,
                "amount": amount,
                "sender": sender,
                "recipient": recipient,
                "occurred_at": occurred_at,
            },
            "description": description,
            "contact": contact,
            "idempotency_key": idempotency_key,
        }
        with flags_named(FILING_FLAGS):
            command = FileDispute.model_validate(fields)
    with session.engine() as engine:
        filed = engine.file_dispute(command, by=actor)
    session.emit({"id": filed}, lambda: typer.echo(str(filed)))


@app.command()
def assign(
    ctx: typer.Context,
    dispute_id: DisputeId,
    investigator: Annotated[str, typer.Option(help="Who takes the dispute.")],
) -> None:
    """Give a dispute to an investigator."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.assign(i, investigator=investigator, by=by),
        flags={"text": "--investigator"},
    )


@app.command("verify-identity")
def verify_identity(
    ctx: typer.Context,
    dispute_id: DisputeId,
    method: Annotated[
        str, typer.Option(help="How: wallet_signature, security_question, id_document, ...")
    ],
    signature: Annotated[
        str | None,
        typer.Option(help="For wallet_signature: the claimant's signature of the challenge."),
    ] = None,
) -> None:
    """Record that the claimant's identity was checked (a wallet signature is checked)."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.verify_identity(i, method=method, signature=signature, by=by),
        flags={"text": "--method", "signature": "--signature"},
    )


@app.command("request-evidence")
def request_evidence(
    ctx: typer.Context,
    dispute_id: DisputeId,
    what: Annotated[str, typer.Option(help="What the claimant should send.")],
) -> None:
    """Ask the claimant for evidence (the SLA clocks pause until they answer)."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.request_evidence(i, what=what, by=by),
        flags={"text": "--what"},
    )


@app.command("add-evidence")
def add_evidence(
    ctx: typer.Context,
    dispute_id: DisputeId,
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="A regular file.", show_default=False)
    ],
    media_type: Annotated[str, typer.Option(help="image/png, application/pdf, ...")],
    kind: Annotated[str, typer.Option(help="screenshot, statement, chat_log, ...")] = "other",
    source: Annotated[str, typer.Option(help="claimant or investigator")] = "investigator",
) -> None:
    """Attach a file as evidence; prints its sha256."""
    session = Session.of(ctx)
    session.actor(Role.INVESTIGATOR)  # refuse before reading anything
    flags = {"kind": "--kind", "media_type": "--media-type", "source": "--source"}
    with flags_named({**flags, "filename": "FILE", "content": "FILE"}):
        evidence = AddEvidence.model_validate(
            {
                "kind": kind,
                "media_type": media_type,
                "filename": path.name,
                "content": parse.file_bytes(path, "FILE", session.settings.max_evidence_bytes),
                "source": source,
            }
        )
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.add_evidence(i, evidence, by=by),
        flags={"content": "FILE", **flags},
    )


@app.command()
def note(
    ctx: typer.Context,
    dispute_id: DisputeId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note.", show_default=False)],
) -> None:
    """Keep an internal note on a dispute."""
    act(ctx, dispute_id, lambda e, i, by: e.add_note(i, text, by=by))


@app.command()
def propose(
    ctx: typer.Context,
    dispute_id: DisputeId,
    outcome: Annotated[str, typer.Option(help="refund, partial_refund, adjustment or reject")],
    rationale: Annotated[str, typer.Option(help="Why.")],
    amount: Annotated[str | None, typer.Option(help="Exact amount (not for reject).")] = None,
    override: Annotated[
        list[str] | None,
        typer.Option(
            help="A chain fact the decision goes against (status, recipient, asset, decimals, "
            "amount, no_lookup); repeat for each.",
        ),
    ] = None,
) -> None:
    """Propose a decision; a rejection resolves at once, money waits for an approver."""
    flags = {name: f"--{name}" for name in ("outcome", "rationale", "amount")}
    flags["overrides"] = "--override"
    with flags_named(flags):
        decision = ProposeDecision.model_validate(
            {
                "outcome": outcome,
                "amount": amount,
                "rationale": rationale,
                "overrides": override or [],
            }
        )
    act(ctx, dispute_id, lambda e, i, by: e.propose_decision(i, decision, by=by), flags=flags)


@app.command()
def approve(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Approve the proposed decision (never its proposer)."""
    act(ctx, dispute_id, lambda e, i, by: e.approve_decision(i, by=by), role=Role.APPROVER)


@app.command("send-back")
def send_back(
    ctx: typer.Context,
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="What the investigator should look at.")],
) -> None:
    """Return the proposed decision to investigation."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.send_back(i, reason=reason, by=by),
        flags={"text": "--reason"},
        role=Role.APPROVER,
    )


@app.command()
def execute(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Pay the approved decision, exactly once; prints the payout's reference."""
    act(ctx, dispute_id, lambda e, i, by: e.execute_decision(i, by=by), role=Role.APPROVER)


@app.command()
def notify(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Record a notice to the claimant in their language; prints it."""
    act(ctx, dispute_id, lambda e, i, by: e.notify_claimant(i, by=by))


@app.command()
def close(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Close a resolved dispute."""
    act(ctx, dispute_id, lambda e, i, by: e.close(i, by=by))


@app.command()
def reopen(
    ctx: typer.Context,
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="The appeal.")],
) -> None:
    """Reopen a resolved or closed dispute within the appeal window."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.reopen(i, reason=reason, by=by),
        flags={"text": "--reason"},
    )


@app.command()
def withdraw(
    ctx: typer.Context,
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="Why the claimant withdrew.")] = "claimant withdrew",
) -> None:
    """Withdraw a dispute at the claimant's request."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.withdraw(i, reason=reason, by=by),
        flags={"text": "--reason"},
    )
