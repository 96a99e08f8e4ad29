"""The ``dispute-engine`` application: its groups, global options and the one error handler."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import version as installed_version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dispute_engine.cli.handler import reported
from dispute_engine.cli.session import Session
from dispute_engine.domain.errors import InvalidInput

# Global options may come before or after the command (`show ID --db URL` as `--db URL show ID`).
_VALUED = ("--db", "--actor", "--role")
_FLAGS = ("--json",)


def hoisted(args: Sequence[str]) -> list[str]:
    """The global options moved in front of the command, so click sees them on the group.

    Raises InvalidInput for a global option that ends the line without its value.
    """
    front: list[str] = []
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":  # everything after is an argument, never an option
            rest += [arg, *items]
            break
        if arg in _FLAGS or (arg.split("=", 1)[0] in _VALUED and "=" in arg):
            front.append(arg)
        elif arg in _VALUED:
            value = next(items, None)
            if value is None:
                raise InvalidInput.of(arg, "needs a value")
            front += [arg, value]
        else:
            rest.append(arg)
    return front + rest


class OneLineErrors(TyperGroup):
    """The root command: parses and runs everything inside the one error handler."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line and exit with its code (see docs/reference/cli.md)."""
        code = reported(
            lambda: super(OneLineErrors, self).main(
                hoisted(sys.argv[1:] if args is None else args),
                prog_name or "dispute-engine",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        )
        sys.exit(code)


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)


app = typer.Typer(
    cls=OneLineErrors,
    help="Resolve wallet transaction disputes: file, investigate, decide, audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
chain_app = _group("Ask the chain what transactions did.")
projections_app = _group("Run and rebuild the read models.")
sla_app = _group("Service-level clocks: check for breaches, report.")
audit_app = _group("Verify and export the audit trail.")
credit_app = _group("Provisional credit: money owed to the claimant before the decision.")
notices_app = _group("Deliver the recorded notices to claimants, and list them.")
report_app = _group("Reports on how the help went.")
app.add_typer(chain_app, name="chain")
app.add_typer(projections_app, name="projections")
app.add_typer(sla_app, name="sla")
app.add_typer(audit_app, name="audit")
app.add_typer(credit_app, name="credit")
app.add_typer(notices_app, name="notices")
app.add_typer(report_app, name="report")


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"dispute-engine {installed_version('dispute-engine')}")
        raise typer.Exit(0)


@app.callback()
def options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL: sqlite:///path, postgresql://..., memory:. "
            "Default: $DISPUTE_ENGINE_DB, else sqlite:///./disputes.db",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            envvar="DISPUTE_ENGINE_ACTOR",
            help="Who acts (recorded on every event); required by every write command.",
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            envvar="DISPUTE_ENGINE_ROLE",
            help="investigator or approver; approve, send-back and execute default to approver.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Resolve wallet transaction disputes: file, investigate, decide, audit.

    --db, --json, --actor and --role may also come after the command.
    """
    ctx.obj = Session(db=db, as_json=as_json, actor_id=actor, role=role)
