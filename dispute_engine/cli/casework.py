"""Casework commands: contact attempts, escalation, provisional credit. All need ``--actor``."""

from __future__ import annotations

from typing import Annotated

import typer

from dispute_engine.cli.app import app, credit_app
from dispute_engine.cli.workflow import DisputeId, act
from dispute_engine.domain.actor import Role


@app.command()
def contact(
    ctx: typer.Context,
    dispute_id: DisputeId,
    party: Annotated[str, typer.Option(help="recipient | sender | merchant | exchange | claimant")],
    channel: Annotated[
        str, typer.Option(help="email | phone | chat | letter | on_chain_message | other")
    ],
    note: Annotated[str, typer.Option(help="What was tried, and any answer.")],
) -> None:
    """Record an attempt to reach a party about the dispute (an answer is not needed)."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.record_contact_attempt(
            i, party=party, channel=channel, note=note, by=by
        ),
        flags={"party": "--party", "channel": "--channel", "note": "--note"},
    )


@app.command()
def escalate(
    ctx: typer.Context,
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="Why the dispute needs more attention.")],
) -> None:
    """Raise the dispute's priority one step and hand it to the escalation queue."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.escalate(i, reason=reason, by=by),
        flags={"text": "--reason"},
    )


@credit_app.command("grant")
def credit_grant(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Credit the claimant the disputed amount ahead of the decision; prints the reference."""
    act(
        ctx,
        dispute_id,
        lambda e, i, by: e.grant_provisional_credit(i, by=by),
        role=Role.APPROVER,
    )
