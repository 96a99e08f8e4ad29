"""``dispute-engine``: a thin command-line layer over the public Python API."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from dispute_engine.application import DisputeEngine
from dispute_engine.commands import AddEvidence, FileDispute, ProposeDecision
from dispute_engine.demo import run_demo
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.errors import DisputeEngineError, InvalidInput
from dispute_engine.domain.lifecycle import markdown_table
from dispute_engine.settings import Settings
from dispute_engine.views import DisputeView

app = typer.Typer(
    help="Resolve wallet transaction disputes: file, investigate, decide, audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(help="Ask the chain what transactions did.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
projections_app = typer.Typer(help="Run and rebuild the read models.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
sla_app = typer.Typer(
    help="Service-level clocks: check for breaches, report.", no_args_is_help=True
)
app.add_typer(sla_app, name="sla")
audit_app = typer.Typer(help="Verify and export the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL: sqlite:///path, postgresql://..., memory:. "
        "Default: $DISPUTE_ENGINE_DB, else sqlite:///./disputes.db",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ActorId = Annotated[
    str,
    typer.Option("--actor", envvar="DISPUTE_ENGINE_ACTOR", help="Who is acting (recorded)."),
]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
DisputeId = Annotated[str, typer.Argument(help="The dispute's id (a UUID).")]


@contextmanager
def _reported() -> Iterator[None]:
    """Any engine error becomes one line on stderr and exit code 2 (bad input) or 1."""
    try:
        yield
    except DisputeEngineError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, InvalidInput) else 1) from None


@contextmanager
def _engine(
    db: str | None, settings: Settings | None = None, *, create: bool = True
) -> Iterator[DisputeEngine]:
    """Open the engine, reporting its errors as one line each.

    Reading commands pass ``create=False``: they never create a database.
    """
    with _reported():
        engine = DisputeEngine.open(db, settings=settings, create=create)
        try:
            yield engine
        finally:
            engine.close()


def _dispute_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput.of("id", f"not a dispute id: {text!r}") from None


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.of("at", f"not an ISO 8601 time: {text!r}") from None


def _print(data: Any, as_json: bool, table: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(to_jsonable_python(data), indent=2, ensure_ascii=False))
    else:
        table()


def _echo_lines(lines: Sequence[str]) -> None:
    for line in lines:
        typer.echo(line)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), ["-" * w for w in widths], *cells]:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _show_dispute(view: DisputeView) -> None:
    tx = view.claim.transaction
    pairs: list[tuple[str, object]] = [
        ("id", view.id),
        ("status", view.status),
        ("version", view.version),
        ("claimant", f"{view.claim.claimant_id} ({view.claim.language}, {view.claim.channel})"),
        ("reason", view.claim.reason),
        ("priority", view.claim.priority),
        ("transaction", f"chain {tx.chain_id} {tx.tx_hash}"),
        ("amount", f"{view.disputed_amount} {tx.asset} (paid {view.paid_amount})"),
        ("filed", f"{view.filed_at.isoformat()} by {view.filed_by}"),
        ("assignee", view.assignee or "-"),
        ("evidence", len(view.evidence)),
        ("notes", len(view.notes)),
    ]
    if view.decision:
        d = view.decision
        pairs.append(("decision", f"#{d.number} {d.outcome} {d.amount} by {d.proposed_by}"))
    for clock in view.sla_clocks:
        pairs.append((f"sla {clock.metric}", f"{clock.state}, due {clock.due_at}"))
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        typer.echo(f"{key.ljust(width)}  {value}")


@app.command()
def lifecycle() -> None:
    """Print the table of allowed transitions (Markdown)."""
    typer.echo(markdown_table(), nl=False)


@app.command()
def demo(db: Db = None) -> None:
    """Walk three disputes about real transactions on an in-process chain (zh, es, en)."""
    from chain.client import ETH_TESTER_URL  # noqa: PLC0415 - the demo wires adapters
    from chain.sandbox import SANDBOX_HOT_WALLET_KEY, Sandbox  # noqa: PLC0415

    settings = Settings(
        chains={Sandbox.chain_id: ETH_TESTER_URL},
        hot_wallet_key=SecretStr(SANDBOX_HOT_WALLET_KEY),
    )
    with _engine(db, settings) as engine:
        run_demo(engine, Sandbox.of(engine), typer.echo)


@app.command("file")
def file_(
    db: Db = None,
    actor: ActorId = "investigator",
    from_json: Annotated[
        Path | None,
        typer.Option(
            "--from-json", exists=True, dir_okay=False, help="A JSON file holding the whole filing."
        ),
    ] = None,
    claimant: Annotated[str | None, typer.Option(help="The claimant's user id.")] = None,
    channel: Annotated[str, typer.Option(help="app | chat | email | social | phone")] = "app",
    language: Annotated[str, typer.Option(help="BCP 47 tag: en, zh, es, ...")] = "en",
    jurisdiction: Annotated[str | None, typer.Option(help="ISO 3166, e.g. US or US-CA")] = None,
    priority: Annotated[str, typer.Option(help="low | normal | high | urgent")] = "normal",
    reason: Annotated[str, typer.Option(help="not_received | wrong_recipient | ...")] = "other",
    chain_id: Annotated[int, typer.Option(help="The chain's id, e.g. 1")] = 1,
    tx_hash: Annotated[str, typer.Option(help="0x + 64 hex digits")] = "",
    asset: Annotated[str, typer.Option(help="e.g. ETH, USDT")] = "ETH",
    token_address: Annotated[str | None, typer.Option(help="The token contract, if any")] = None,
    amount: Annotated[str, typer.Option(help="Exact amount, e.g. 125.50")] = "",
    sender: Annotated[str, typer.Option(help="The sending address")] = "",
    recipient: Annotated[str, typer.Option(help="The receiving address")] = "",
    occurred_at: Annotated[str, typer.Option(help="ISO 8601 with zone")] = "",
    description: Annotated[str, typer.Option(help="What the claimant says")] = "",
    idempotency_key: Annotated[str, typer.Option(help="Same key, same dispute")] = "",
    as_json: AsJson = False,
) -> None:
    """File a dispute from flags or from a JSON file; prints its id."""
    with _engine(db) as engine:
        if from_json is not None:
            command = FileDispute.model_validate_json(from_json.read_bytes())
        else:
            command = FileDispute.model_validate(
                {
                    "claimant_id": claimant or "",
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
                        "amount": amount,
                        "sender": sender,
                        "recipient": recipient,
                        "occurred_at": occurred_at,
                    },
                    "description": description,
                    "idempotency_key": idempotency_key,
                }
            )
        dispute_id = engine.file_dispute(command, by=_investigator(actor))
        _print({"id": dispute_id}, as_json, lambda: typer.echo(str(dispute_id)))


def _investigator(actor: str) -> Actor:
    return Actor(id=actor, roles={Role.INVESTIGATOR})


RoleName = Annotated[
    str,
    typer.Option("--role", envvar="DISPUTE_ENGINE_ROLE", help="investigator or approver"),
]


def _act(
    db: str | None, dispute_id: str, actor: str, role: str, command: Callable[..., object]
) -> None:
    """Run one workflow command as the actor, then print its result or the new status."""
    with _reported():
        if role not in (Role.INVESTIGATOR, Role.APPROVER):
            raise InvalidInput.of("role", "must be investigator or approver")
        acting = Actor(id=actor, roles={Role(role)})
        with _engine(db) as engine:
            target = _dispute_id(dispute_id)
            result = command(engine, target, acting)
            typer.echo(result if isinstance(result, str) else engine.get(target).status)


@app.command()
def assign(
    dispute_id: DisputeId,
    investigator: Annotated[str, typer.Option(help="Who takes the dispute.")],
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Give a dispute to an investigator."""
    _act(
        db, dispute_id, actor, role, lambda e, i, by: e.assign(i, investigator=investigator, by=by)
    )


@app.command("verify-identity")
def verify_identity(
    dispute_id: DisputeId,
    method: Annotated[str, typer.Option(help="How: security_question, id_document, ...")],
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Record that the claimant's identity was checked."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.verify_identity(i, method=method, by=by))


@app.command("request-evidence")
def request_evidence(
    dispute_id: DisputeId,
    what: Annotated[str, typer.Option(help="What the claimant should send.")],
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Ask the claimant for evidence (the SLA clocks pause until they answer)."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.request_evidence(i, what=what, by=by))


@app.command("add-evidence")
def add_evidence(
    dispute_id: DisputeId,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file.")],
    media_type: Annotated[str, typer.Option(help="image/png, application/pdf, ...")],
    kind: Annotated[str, typer.Option(help="screenshot, statement, chat_log, ...")] = "other",
    source: Annotated[str, typer.Option(help="claimant or investigator")] = "investigator",
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Attach a file as evidence; prints its sha256."""
    evidence = AddEvidence.model_validate(
        {
            "kind": kind,
            "media_type": media_type,
            "filename": path.name,
            "content": path.read_bytes(),
            "source": source,
        }
    )
    _act(db, dispute_id, actor, role, lambda e, i, by: e.add_evidence(i, evidence, by=by))


@app.command()
def note(
    dispute_id: DisputeId,
    text: Annotated[str, typer.Argument(help="The note.")],
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Keep an internal note on a dispute."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.add_note(i, text, by=by))


@app.command()
def propose(
    dispute_id: DisputeId,
    outcome: Annotated[str, typer.Option(help="refund, partial_refund, adjustment or reject")],
    rationale: Annotated[str, typer.Option(help="Why.")],
    amount: Annotated[str | None, typer.Option(help="Exact amount (not for reject).")] = None,
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Propose a decision; a rejection resolves at once, money waits for an approver."""
    fields = {"outcome": outcome, "amount": amount, "rationale": rationale}
    _act(
        db,
        dispute_id,
        actor,
        role,
        lambda e, i, by: e.propose_decision(i, ProposeDecision.model_validate(fields), by=by),
    )


@app.command()
def approve(
    dispute_id: DisputeId,
    db: Db = None,
    actor: ActorId = "approver",
    role: RoleName = "approver",
) -> None:
    """Approve the proposed decision (never its proposer)."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.approve_decision(i, by=by))


@app.command("send-back")
def send_back(
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="What the investigator should look at.")],
    db: Db = None,
    actor: ActorId = "approver",
    role: RoleName = "approver",
) -> None:
    """Return the proposed decision to investigation."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.send_back(i, reason=reason, by=by))


@app.command()
def execute(
    dispute_id: DisputeId,
    db: Db = None,
    actor: ActorId = "approver",
    role: RoleName = "approver",
) -> None:
    """Pay the approved decision, exactly once; prints the payout's reference."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.execute_decision(i, by=by))


@app.command()
def notify(
    dispute_id: DisputeId,
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Record a notice to the claimant in their language; prints it."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.notify_claimant(i, by=by))


@app.command()
def close(
    dispute_id: DisputeId,
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Close a resolved dispute."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.close(i, by=by))


@app.command()
def reopen(
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="The appeal.")],
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Reopen a resolved or closed dispute within the appeal window."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.reopen(i, reason=reason, by=by))


@app.command()
def withdraw(
    dispute_id: DisputeId,
    reason: Annotated[str, typer.Option(help="Why the claimant withdrew.")] = "claimant withdrew",
    db: Db = None,
    actor: ActorId = "investigator",
    role: RoleName = "investigator",
) -> None:
    """Withdraw a dispute at the claimant's request."""
    _act(db, dispute_id, actor, role, lambda e, i, by: e.withdraw(i, reason=reason, by=by))


@chain_app.command("lookup")
def chain_lookup(
    dispute_id: DisputeId, db: Db = None, actor: ActorId = "investigator", as_json: AsJson = False
) -> None:
    """Look up a dispute's transaction on its chain and record the facts."""
    with _engine(db) as engine:
        facts = engine.look_up_transaction(_dispute_id(dispute_id), by=_investigator(actor))
        summary = f"{facts.status}, block {facts.block_number}, final {facts.finalized}"
        mismatches = ", ".join(facts.mismatches) or "none"
        _print(facts, as_json, lambda: typer.echo(f"{summary}; mismatches: {mismatches}"))


@chain_app.command("recheck")
def chain_recheck(db: Db = None, actor: ActorId = "investigator", as_json: AsJson = False) -> None:
    """Look again at disputes whose chain facts are not final; print those that changed."""
    with _engine(db) as engine:
        changed = engine.recheck_unfinalized(by=_investigator(actor))
        lines = [str(i) for i in changed] or ["no facts changed"]
        _print(changed, as_json, partial(_echo_lines, lines))


@app.command()
def show(dispute_id: DisputeId, db: Db = None, as_json: AsJson = False) -> None:
    """Show a dispute as it stands."""
    with _engine(db, create=False) as engine:
        view = engine.get(_dispute_id(dispute_id))
        _print(view, as_json, lambda: _show_dispute(view))


@app.command()
def history(dispute_id: DisputeId, db: Db = None, as_json: AsJson = False) -> None:
    """List every recorded event of a dispute, with actor, time and hash."""
    with _engine(db, create=False) as engine:
        entries = engine.history(_dispute_id(dispute_id))
        rows = [(e.version, e.at.isoformat(), e.name, e.actor, e.hash[:12]) for e in entries]
        _print(
            entries,
            as_json,
            lambda: _table(("version", "at", "event", "actor", "hash"), rows),
        )


@app.command("state-at")
def state_at(
    dispute_id: DisputeId,
    db: Db = None,
    version: Annotated[int | None, typer.Option(help="The state after this version.")] = None,
    at: Annotated[
        str | None, typer.Option(help="The state at this moment: ISO 8601 with a zone.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show a dispute as it stood after a version or at a moment."""
    with _engine(db, create=False) as engine:
        moment = _moment(at) if at is not None else None
        view = engine.state_at(_dispute_id(dispute_id), at=moment, version=version)
        _print(view, as_json, lambda: _show_dispute(view))


@app.command("list")
def list_(
    db: Db = None,
    status: Annotated[str | None, typer.Option(help="Only disputes in this status.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this investigator's.")] = None,
    as_json: AsJson = False,
) -> None:
    """List disputes, optionally by status and assignee."""
    with _engine(db, create=False) as engine:
        views = engine.list_disputes(status=status, assignee=assignee)
        rows = [
            (
                v.id,
                v.status,
                v.claim.priority,
                v.assignee or "-",
                f"{v.disputed_amount} {v.claim.transaction.asset}",
                v.filed_at.isoformat(timespec="minutes"),
            )
            for v in views
        ]
        _print(
            [v.model_dump() for v in views],
            as_json,
            lambda: _table(("id", "status", "priority", "assignee", "amount", "filed"), rows),
        )


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
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
    db: Db = None,
    follow: Annotated[bool, typer.Option(help="Keep following new events until stopped.")] = False,
) -> None:
    """Bring every view up to date (and, with --follow, keep it so)."""
    with _engine(db) as engine:
        for name, count in engine.projections.catch_up().items():
            typer.echo(f"{name}: {count} events applied")
        if follow:
            with _until_signalled() as stop:
                engine.projections.follow(stop)


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="work_queue, sla or audit_log")], db: Db = None
) -> None:
    """Throw a view away and rebuild it from every event."""
    with _engine(db) as engine:
        count = engine.projections.rebuild(name)
        typer.echo(f"{name}: rebuilt from {count} events")


@sla_app.command("check")
def sla_check(
    db: Db = None,
    every: Annotated[
        float | None, typer.Option(help="Check every SECONDS until SIGTERM or SIGINT.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Record the SLA warnings and breaches that are due (once each, however many run)."""
    with _engine(db) as engine, _until_signalled() as stop:
        while True:
            recorded = engine.record_sla_breaches()
            lines = [
                f"{a.dispute_id} {a.clock} {a.threshold}% due {a.due_at.isoformat()}"
                for a in recorded
            ]
            _print(recorded, as_json, partial(_echo_lines, lines))
            if every is None or stop.wait(every):
                return


@sla_app.command("report")
def sla_report(
    db: Db = None,
    days: Annotated[int, typer.Option(help="The period: clocks started in the last DAYS.")] = 30,
    as_json: AsJson = False,
) -> None:
    """Met and breached share per metric and priority over a period."""
    with _engine(db, create=False) as engine:
        rows = engine.sla_report(since=engine.now() - timedelta(days=days), until=engine.now())
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
        _print(
            [asdict(r) | {"met_share": r.met_share} for r in rows],
            as_json,
            lambda: _table(
                ("metric", "priority", "met", "breached", "open", "stopped", "met %"), table
            ),
        )


@audit_app.command("verify")
def audit_verify(db: Db = None) -> None:
    """Recompute every event's hash from the event store and compare with the audit log."""
    with _engine(db, create=False) as engine:
        checked, problems = engine.verify_audit_log()
        for p in problems:
            typer.echo(f"{p.dispute_id} v{p.version}: {p.problem}", err=True)
        if any(p.problem != "not in the audit log yet" for p in problems):
            typer.echo(f"FAILED: {len(problems)} discrepancies in {checked} logged events")
            raise typer.Exit(1)
        typer.echo(f"OK: {checked} logged events match the event store")


@audit_app.command("export")
def audit_export(
    db: Db = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Export the whole audit log (brought up to date first) as CSV or JSON Lines."""
    with _engine(db, create=False) as engine:
        text = engine.export_audit_log(fmt)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
