"""The operator's commands: the demo, the chain, the views, the SLA checker and the audit trail."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import platformdirs
import typer
from pydantic import SecretStr

from dispute_engine.cli import parse, render
from dispute_engine.cli.app import app, audit_app, chain_app, projections_app, sla_app
from dispute_engine.cli.handler import REFUSED, flags_named
from dispute_engine.cli.session import Session
from dispute_engine.cli.workflow import DisputeId
from dispute_engine.database import StorageUrl
from dispute_engine.domain.actor import Role
from dispute_engine.domain.errors import ChainNotConfigured, InvalidInput
from dispute_engine.seals import ensure_key_file

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
MIN_EVERY, MAX_EVERY = 0.1, 86_400.0  # seconds between SLA checks: no busy loop, at least daily
MAX_DAYS = 36_500


class ExportFormat(StrEnum):
    """The audit log's export formats."""

    CSV = "csv"
    JSONL = "jsonl"


@app.command()
def demo(ctx: typer.Context) -> None:
    """Walk three disputes about real transactions on an in-process chain (zh, es, en).

    Each run pays from a new hot wallet, so it works on a database an earlier run used.
    """
    from dispute_engine.bootstrap import in_process_chain, sandbox  # noqa: PLC0415
    from dispute_engine.demo import new_hot_wallet, run_demo  # noqa: PLC0415

    session = Session.of(ctx)
    wallet = new_hot_wallet()
    update: dict[str, object] = {"chains": in_process_chain(), "hot_wallet_key": wallet.key}
    if session.settings.sealing_key is None:
        key_file = demo_key_file(StorageUrl.parse(session.db or session.settings.db))
        ensure_key_file(key_file)
        update["sealing_key"] = SecretStr(str(key_file))
        session.say(f"events sealed with the key in {key_file} (DISPUTE_ENGINE_SEALING_KEY)")
    settings = session.settings.model_copy(update=update)
    with session.engine(settings) as engine:
        run_demo(engine, sandbox(engine), typer.echo, hot_wallet=wallet.address)


def demo_key_file(storage: StorageUrl) -> Path:
    """Where the demo keeps the key it makes: beside an SQLite file, else in the user's config."""
    path = storage.sqlite_path
    if path:
        return Path(f"{path}.sealing-key")
    return platformdirs.user_config_path("dispute-engine") / "demo.sealing-key"


def _chains_configured(session: Session) -> None:
    if not session.settings.chains:
        raise ChainNotConfigured(
            "no chain nodes are configured: set DISPUTE_ENGINE_CHAINS, "
            """e.g. '{"1": "https://node.example"}'"""
        )


@chain_app.command("lookup")
def chain_lookup(ctx: typer.Context, dispute_id: DisputeId) -> None:
    """Look up a dispute's transaction on its chain and record the facts."""
    session = Session.of(ctx)
    actor = session.actor(Role.INVESTIGATOR)
    target = parse.dispute_id(dispute_id)
    _chains_configured(session)
    with session.engine() as engine:
        facts = engine.look_up_transaction(target, by=actor)
    summary = f"{facts.status}, block {facts.block_number}, final {facts.finalized}"
    mismatches = ", ".join(facts.mismatches) or "none"
    session.emit(facts, lambda: typer.echo(f"{summary}; mismatches: {mismatches}"))


@chain_app.command("recheck")
def chain_recheck(ctx: typer.Context) -> None:
    """Look again at disputes whose chain facts are not final; print those that changed."""
    session = Session.of(ctx)
    actor = session.actor(Role.INVESTIGATOR)
    _chains_configured(session)
    with session.engine() as engine:
        changed = engine.recheck_unfinalized(by=actor)
    session.lines(changed, [str(i) for i in changed] or ["no facts changed"])


@contextmanager
def until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT, so loops stop cleanly between rounds."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@projections_app.command("run")
def projections_run(
    ctx: typer.Context,
    follow: Annotated[bool, typer.Option(help="Keep following new events until stopped.")] = False,
) -> None:
    """Bring every view up to date (and, with --follow, keep it so)."""
    session = Session.of(ctx)
    with session.engine() as engine:
        applied = engine.projections.catch_up()
        session.lines(
            applied, [f"{name}: {count} events applied" for name, count in applied.items()]
        )
        if follow:
            session.say("following new events until SIGTERM or SIGINT")
            with until_signalled() as stop:
                engine.projections.follow(stop)
            session.say("stopped following")


@projections_app.command("rebuild")
def projections_rebuild(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="work_queue, sla, audit_log, quality, outbox or feed",
            show_default=False,
        ),
    ],
) -> None:
    """Throw a view away and rebuild it from every event."""
    session = Session.of(ctx)
    with session.engine() as engine, flags_named({"name": "NAME"}):
        count = engine.projections.rebuild(name)
    session.lines({"view": name, "events": count}, [f"{name}: rebuilt from {count} events"])


@sla_app.command("check")
def sla_check(
    ctx: typer.Context,
    every: Annotated[
        float | None,
        typer.Option(help="Check every SECONDS (0.1 to 86400) until SIGTERM or SIGINT."),
    ] = None,
) -> None:
    """Record the SLA warnings and breaches that are due (once each, however many run)."""
    session = Session.of(ctx)
    if every is not None:
        parse.within(every, "--every", MIN_EVERY, MAX_EVERY, " seconds")
    with session.engine() as engine, until_signalled() as stop:
        if every is not None:
            session.say(f"checking every {every:g} s until SIGTERM or SIGINT")
        rounds = 0
        while True:
            recorded = engine.record_sla_breaches()
            credits = engine.record_credit_deadlines()
            rounds += 1
            lines = [
                f"{a.dispute_id} {a.metric} "
                + ("breached" if a.threshold >= 100 else f"warning at {a.threshold}%")
                + f", due {render.utc(a.due_at)}"
                for a in recorded
            ] + [f"{dispute_id} {name}" for dispute_id, name in credits]
            breached = sum(a.threshold >= 100 for a in recorded)
            summary = (
                f"{render.utc(engine.now())}: {breached} breached, "
                f"{len(recorded) - breached} warnings recorded"
            )
            session.lines(recorded, [*lines, summary])
            if every is None or stop.wait(every):
                break
        if every is not None:
            session.say(f"stopped after {rounds} checks")


@sla_app.command("report")
def sla_report(
    ctx: typer.Context,
    days: Annotated[
        int, typer.Option(help="The period: clocks started in the last DAYS (1 to 36500).")
    ] = 30,
) -> None:
    """Met and breached share per metric and priority over a period."""
    session = Session.of(ctx)
    parse.within(days, "--days", 1, MAX_DAYS)
    with session.engine(create=False) as engine:
        now = engine.now()
        rows = engine.sla_report(since=now - timedelta(days=days), until=now)
    table = [
        (
            r.metric,
            r.priority,
            r.met,
            r.breached,
            r.open,
            r.stopped,
            "-" if r.met_share is None else f"{r.met_share:.0%}",
        )
        for r in rows
    ]
    session.emit(
        [asdict(r) | {"met_share": r.met_share} for r in rows],
        lambda: render.table(
            ("metric", "priority", "met", "breached", "open", "stopped", "met %"), table
        ),
    )


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    witness: Annotated[
        Path | None,
        typer.Option(
            help="The witness folder (checkpoints.jsonl) to prove the log consistent with; "
            "default DISPUTE_ENGINE_WITNESS_DIR."
        ),
    ] = None,
) -> None:
    """Check every event's seal, the audit log's Merkle tree, its signed checkpoints and the
    witness, every evidence blob and every decision signature.

    Sealed events not logged yet are appended first (with rights only to read, reported).
    Nothing is deleted, rebuilt or rewritten. Exits 0 only when every stored event is sealed
    and logged and everything holds; 1 naming each problem.
    """
    session = Session.of(ctx)
    with session.engine(create=False) as engine:
        report = engine.audit.verify(witness=witness, progress=progress_bar())
    if not session.as_json:
        for problem in report.problems:
            typer.echo(str(problem), err=True)
    if report.ok:
        line = (
            f"OK: {report.events} events sealed and logged, {report.checkpoints} checkpoints, "
            f"{report.blobs} evidence blobs"
        )
    else:
        line = (
            f"FAILED: {len(report.problems)} problems; {report.logged} of {report.events} "
            "stored events logged"
        )
    data = asdict(report) | {"ok": report.ok}
    session.lines(data, [line])
    if not report.ok:
        raise typer.Exit(REFUSED)


def progress_bar(every: int = 10_000) -> Callable[[int, int], None] | None:
    """A progress line on stderr for audits of many events, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total >= every:
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\rchecking events: {done}/{total} ({done / total:.0%}){end}")
            sys.stderr.flush()

    return show


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="csv or jsonl")
    ] = ExportFormat.JSONL,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Export the whole audit log (brought up to date first) as CSV or JSON Lines: leaf
    index, position, dispute, version, event, actor, time and leaf hash; no event data."""
    session = Session.of(ctx)
    target = None if output is None else parse.output_path(output, "--output")
    with session.engine(create=False) as engine:
        text = engine.export_audit_log(fmt.value)
    if target is None:
        typer.echo(text, nl=False)
        return
    try:
        target.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise InvalidInput.of("--output", f"cannot write {target}: {exc}") from None
