"""The reading commands: a dispute, its history, its past, the list, the lifecycle table."""

from __future__ import annotations

from typing import Annotated

import typer

from dispute_engine.cli import parse, render
from dispute_engine.cli.app import app
from dispute_engine.cli.handler import flags_named
from dispute_engine.cli.session import Session
from dispute_engine.cli.workflow import DisputeId
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.lifecycle import markdown_table
from dispute_engine.views import HistoryEntry

MAX_VERSION = 2**31 - 1


@app.command()
def lifecycle() -> None:
    """Print the table of allowed transitions (Markdown)."""
    typer.echo(markdown_table(), nl=False)


@app.command()
def show(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Show a dispute as it stands: claim, chain facts, decision, payouts, clocks."""
    session = Session.of(ctx)
    target = parse.dispute_id(dispute_id)
    with session.engine(create=False) as engine:
        view = engine.get(target)
    session.emit(view, lambda: render.dispute(view))


@app.command()
def history(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """List every recorded event of a dispute, with actor, time and hash."""
    session = Session.of(ctx)
    target = parse.dispute_id(dispute_id)
    with session.engine(create=False) as engine:
        entries = engine.history(target)
    emit_history(session, entries)


def emit_history(session: Session, entries: list[HistoryEntry]) -> None:
    """Print events as a table (version, time, name, actor, hash), or all of them as JSON."""
    rows = [(e.version, render.utc(e.at), e.name, e.actor, e.hash[:12]) for e in entries]
    session.emit(entries, lambda: render.table(("version", "at", "event", "actor", "hash"), rows))


@app.command("state-at")
def state_at(
    ctx: typer.Context,
    dispute_id: DisputeId,
    version: Annotated[
        int | None, typer.Option(help="The state after this version (1 or more).")
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="The state at this moment: ISO 8601 with a zone.")
    ] = None,
) -> None:
    """Show a dispute as it stood after a version or at a moment."""
    session = Session.of(ctx)
    target = parse.dispute_id(dispute_id)
    if (version is None) == (at is None):
        raise InvalidInput.of("--version", "give exactly one of --version and --at")
    moment = None if at is None else parse.moment(at, "--at")
    if version is not None:
        parse.within(version, "--version", 1, MAX_VERSION)
    with (
        session.engine(create=False) as engine,
        flags_named({"version": "--version", "at": "--at"}),
    ):
        view = engine.state_at(target, at=moment, version=version)
    session.emit(view, lambda: render.dispute(view))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only disputes in this status.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this investigator's.")] = None,
) -> None:
    """List disputes, most urgent and oldest first, optionally by status and assignee."""
    session = Session.of(ctx)
    with session.engine(create=False) as engine, flags_named({"status": "--status"}):
        views = engine.list_disputes(status=status, assignee=assignee)
    rows = [
        (
            v.id,
            v.status,
            v.claim.priority,
            v.assignee or "-",
            f"{v.disputed_amount} {v.claim.transaction.asset}",
            render.utc(v.filed_at),
        )
        for v in views
    ]
    session.emit(
        views,
        lambda: render.table(("id", "status", "priority", "assignee", "amount", "filed"), rows),
    )
