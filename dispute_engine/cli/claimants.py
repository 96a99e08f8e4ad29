"""The claimant commands: the wallet challenge, the claimant's feedback, forgetting a person."""

from __future__ import annotations

from typing import Annotated

import typer

from dispute_engine.cli import parse
from dispute_engine.cli.app import app
from dispute_engine.cli.handler import flags_named
from dispute_engine.cli.session import Session
from dispute_engine.cli.workflow import DisputeId, act
from dispute_engine.domain.actor import Role


@app.command("identity-challenge")
def identity_challenge(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Issue a one-time message for the claimant to sign with the sending wallet; print it.

    Pass the signature back with `verify-identity ID --method wallet_signature --signature`.
    """
    act(ctx, dispute_id, lambda e, i, by: e.issue_identity_challenge(i, by=by).message)


@app.command("feedback")
def feedback(
    ctx: typer.Context,
    dispute_id: DisputeId,
    rating: Annotated[int, typer.Option(help="The claimant's rating, 1 (bad) to 5 (good).")],
    channel: Annotated[str, typer.Option(help="Where it came from: app | chat | email | ...")],
    comment: Annotated[str, typer.Option(help="The claimant's words, if any.")] = "",
) -> None:
    """Record the claimant's answer to the satisfaction request (once per resolution)."""
    session = Session.of(ctx)
    target = parse.dispute_id(dispute_id)
    flags = {"rating": "--rating", "comment": "--comment", "channel": "--channel"}
    with session.engine() as engine, flags_named(flags):
        engine.record_feedback(target, rating=rating, comment=comment, channel=channel)
    session.lines({"id": target, "rating": rating}, [f"recorded: {rating} of 5"])


@app.command("forget")
def forget(
    ctx: typer.Context,
    claimant: Annotated[
        str, typer.Argument(metavar="CLAIMANT", help="The claimant's user id.", show_default=False)
    ],
) -> None:
    """Forget a claimant (an approver): destroy their data key, record it on their disputes."""
    session = Session.of(ctx)
    actor = session.actor(Role.APPROVER)
    with session.engine() as engine, flags_named({"claimant_id": "CLAIMANT"}):
        marked = engine.forget_claimant(claimant, by=actor)
    session.lines(
        {"claimant": claimant, "disputes": marked},
        [str(i) for i in marked] or ["no dispute left to mark"],
    )
