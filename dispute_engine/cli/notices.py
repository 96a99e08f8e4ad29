"""The notice commands: deliver what the outbox holds, and list it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dispute_engine.cli import parse, render
from dispute_engine.cli.app import notices_app
from dispute_engine.cli.operations import MAX_EVERY, MIN_EVERY, until_signalled
from dispute_engine.cli.session import Session

if TYPE_CHECKING:
    from dispute_engine.delivery.outbox import State

FAILED_STATES: tuple[State, ...] = ("failed", "dead")
MAX_LIMIT = 100_000


@notices_app.command("send")
def notices_send(
    ctx: typer.Context,
    every: Annotated[
        float | None,
        typer.Option(help="Send every SECONDS (0.1 to 86400) until SIGTERM or SIGINT."),
    ] = None,
) -> None:
    """Put newly recorded notices into the outbox and send every message that is due.

    Each notice is sent once (the receiver drops a repeat by its message id); a failed one is
    tried again later, and given up as dead after the last attempt.
    """
    # The delivery code (and the storage it needs) loads when a command uses it.
    from dispute_engine.delivery.configured import configured_channels  # noqa: PLC0415
    from dispute_engine.delivery.outbox import SendReport  # noqa: PLC0415

    session = Session.of(ctx)
    if every is not None:
        parse.within(every, "--every", MIN_EVERY, MAX_EVERY, " seconds")
    channels = configured_channels(session.settings)
    with session.engine() as engine, until_signalled() as stop:
        outbox = engine.outbox(channels)
        if every is not None:
            session.say(f"sending every {every:g} s until SIGTERM or SIGINT")
        total, rounds = SendReport(), 0
        while True:
            engine.projections.catch_up(["outbox"])
            report = outbox.send_due(engine.now())
            total += report
            rounds += 1
            session.lines(
                {"sent": report.sent, "failed": report.failed, "dead": report.dead},
                [
                    f"{render.utc(engine.now())}: {report.sent} sent, {report.failed} failed "
                    f"(to retry), {report.dead} dead"
                ],
            )
            if every is None or stop.wait(every):
                break
        if every is not None:
            session.say(f"stopped after {rounds} rounds: {total.sent} sent in all")


@notices_app.command("list")
def notices_list(
    ctx: typer.Context,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only messages that failed or were given up.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many (1 to 100000).")] = 100,
) -> None:
    """List the outbox's messages, oldest first: state, attempts, channel, last error."""
    from dispute_engine.delivery.outbox import STATES  # noqa: PLC0415

    session = Session.of(ctx)
    parse.within(limit, "--limit", 1, MAX_LIMIT)
    with session.engine(create=False) as engine:
        engine.projections.catch_up(["outbox"])
        entries = engine.outbox().entries(FAILED_STATES if failed else STATES, limit=limit)
    rows = [
        (
            e.message.dispute_id,
            e.message.position,
            e.message.channel,
            e.message.template,
            e.state,
            e.attempts,
            render.utc(e.sent_at if e.state == "sent" else e.due_at),
            e.last_error or "-",
        )
        for e in entries
    ]
    data = [
        {
            "message_id": e.message.message_id,
            "dispute_id": e.message.dispute_id,
            "position": e.message.position,
            "channel": e.message.channel,
            "language": e.message.language,
            "template": e.message.template,
            "state": e.state,
            "attempts": e.attempts,
            "due_at": e.due_at,
            "sent_at": e.sent_at,
            "last_error": e.last_error,
        }
        for e in entries
    ]
    session.emit(
        data,
        lambda: render.table(
            ("dispute", "version", "channel", "template", "state", "attempts", "at", "error"),
            rows,
        ),
    )
