"""The auditor's commands: ask the log who did what, and verify an offline bundle.

``audit verify-bundle`` opens no database and loads none of the storage code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer._click.core import ParameterSource

from dispute_engine.bundle import verify_bundle
from dispute_engine.cli import parse, render
from dispute_engine.cli.app import audit_app
from dispute_engine.cli.handler import REFUSED, flags_named
from dispute_engine.cli.session import Session
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.seals import decode_key, key_ring

# The engine's field names, as the flags that set them.
FLAGS = {
    "ID": "--dispute",
    "dispute": "--dispute",
    "actor": "--actor",
    "event": "--event",
    "since": "--since",
    "until": "--until",
    "out": "--out",
}
Moment = Annotated[
    str | None, typer.Option(help="ISO 8601 time with a zone; inclusive.", show_default=False)
]


def actor_filter(ctx: typer.Context) -> str | None:
    """The ``--actor`` given on this command line (not DISPUTE_ENGINE_ACTOR), if any."""
    root = ctx.find_root()
    if root.get_parameter_source("actor") is not ParameterSource.COMMANDLINE:
        return None
    return Session.of(ctx).actor_id


def export_bundle(
    session: Session,
    *,
    out: Path | None,
    dispute: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """``audit export --out DIR`` with a dispute and/or a time range: write the bundle."""
    if out is None:
        raise InvalidInput.of("--out", "name the folder to write the bundle to")
    if (dispute, since, until) == (None, None, None):
        raise InvalidInput.of("--dispute", "give a dispute, --since/--until, or both")
    with flags_named(FLAGS):
        dispute_id = None if dispute is None else parse.dispute_id(dispute)
        start = None if since is None else parse.moment(since, "--since")
        end = None if until is None else parse.moment(until, "--until")
        with session.engine(create=False) as engine:
            written = engine.audit.export_bundle(out, dispute_id=dispute_id, since=start, until=end)
    if written.not_yet_checkpointed:
        session.say(
            f"{written.not_yet_checkpointed} matching events are newer than the last "
            "checkpoint: they are not in the bundle"
        )
    session.lines(
        written,
        [
            f"wrote {written.events} events of {written.disputes} disputes to {written.path}, "
            f"proven against the checkpoint of {written.tree_size} events "
            f"({written.checkpoints} checkpoints)"
        ],
    )


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    dispute: Annotated[
        str | None, typer.Option(help="Only this dispute's events.", show_default=False)
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(help="Only events of this name (DecisionApproved, ...).", show_default=False),
    ] = None,
    since: Moment = None,
    until: Moment = None,
) -> None:
    """The logged events matching every given filter, in log order, each with its leaf index.

    --actor (compared by canonical id: "Alice " is alice) keeps only that person's events.
    The leaf index is what `audit export` proves an event's inclusion by. Reads only.
    """
    session = Session.of(ctx)
    with flags_named(FLAGS):
        dispute_id = None if dispute is None else parse.dispute_id(dispute)
        start = None if since is None else parse.moment(since, "--since")
        end = None if until is None else parse.moment(until, "--until")
        with session.engine(create=False) as engine:
            rows = engine.audit.query(
                actor=actor_filter(ctx),
                dispute_id=dispute_id,
                event=event,
                since=start,
                until=end,
            )
    data = [
        {
            "leaf_index": r.leaf_index,
            "at": r.at,
            "dispute_id": r.dispute_id,
            "version": r.version,
            "event": r.event,
            "actor": r.actor,
        }
        for r in rows
    ]
    session.emit(
        data,
        lambda: render.table(
            ("LEAF", "AT", "DISPUTE", "V", "EVENT", "ACTOR"),
            [
                (r.leaf_index, render.utc(r.at), r.dispute_id, r.version, r.event, r.actor)
                for r in rows
            ],
        ),
    )


@audit_app.command("verify-bundle")
def audit_verify_bundle(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="The bundle's folder.", show_default=False)
    ],
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(
            help="A public key (hex) the operator gave you; repeat for each. Any other key in "
            "the bundle is then a problem.",
            show_default=False,
        ),
    ] = None,
    witness: Annotated[
        Path | None,
        typer.Option(
            help="A witness folder (checkpoints.jsonl): each checkpoint it holds up to the "
            "bundle's newest must be one of the bundle's.",
            show_default=False,
        ),
    ] = None,
    cipher_key: Annotated[
        str | None,
        typer.Option(
            envvar="DISPUTE_ENGINE_EVENT_CIPHER_KEY",
            help="The store's event cipher key (base64), to replay a store that encrypts its "
            "events; better given as DISPUTE_ENGINE_EVENT_CIPHER_KEY than on the command line.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Verify an offline bundle without a database: seals, checkpoints, consistency and
    inclusion proofs, and that replaying each dispute's events gives the state it carries.

    Exits 1, having printed each problem as `file:line: why`.
    """
    session = Session.of(ctx)
    if not folder.is_dir():
        raise InvalidInput.of("DIR", f"{folder} is not a folder")
    trusted = (
        None
        if trusted_key is None
        else [decode_key(text, field="--trusted-key") for text in trusted_key]
    )
    with flags_named({"cipher_key": "--cipher-key"}):
        report = verify_bundle(folder, trusted_keys=trusted, cipher_key=cipher_key, witness=witness)
    lines = (
        [
            f"OK: {report.events} events proven in the log, {report.checkpoints} checkpoints "
            f"consistent, {report.disputes} dispute states replayed"
            + ("" if witness is None else f", {report.witnessed} witnessed checkpoints match")
        ]
        if report.ok
        else [str(problem) for problem in report.problems]
    )
    session.lines(
        {
            "ok": report.ok,
            "events": report.events,
            "checkpoints": report.checkpoints,
            "disputes": report.disputes,
            "witnessed": report.witnessed,
            "problems": [
                {"file": p.file, "line": p.line, "message": p.message} for p in report.problems
            ],
        },
        lines,
    )
    if not report.ok:
        typer.echo(
            f"error: the bundle in {folder} does not verify: {len(report.problems)} problems",
            err=True,
        )
        raise typer.Exit(REFUSED)


@audit_app.command("keys")
def audit_keys(ctx: typer.Context) -> None:
    """The engine's public keys (DISPUTE_ENGINE_SEALING_KEY's and the retired ones): what an
    auditor passes to `audit verify-bundle --trusted-key`, handed over another way than the
    bundle. Opens no database."""
    session = Session.of(ctx)
    secret = session.settings.sealing_key
    ring = key_ring(
        None if secret is None else secret.get_secret_value(),
        session.settings.retired_sealing_keys,
    )
    current = None if ring.current is None else ring.current.key_id
    keys = [
        {"key_id": kid, "public_key": raw.hex(), "use": "current" if kid == current else "retired"}
        for kid, raw in ring.public_keys().items()
    ]
    if not keys:
        raise InvalidInput.of(
            "DISPUTE_ENGINE_SEALING_KEY", "no key is set (nor DISPUTE_ENGINE_RETIRED_SEALING_KEYS)"
        )
    session.emit(
        keys,
        lambda: render.table(
            ("KEY ID", "PUBLIC KEY", "USE"),
            [(k["key_id"], k["public_key"], k["use"]) for k in keys],
        ),
    )
