"""The staff directory's commands (keys, the first admin, members) and a member's own queue.

Every write here acts as a local identity (a private key file); ``--actor`` only picks which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from dispute_engine.cli import render
from dispute_engine.cli.app import app
from dispute_engine.cli.handler import flags_named
from dispute_engine.cli.reading import emit_history
from dispute_engine.cli.session import Session
from dispute_engine.cli.who import local_identity
from dispute_engine.domain.actor import Role
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.staff import language_tag
from dispute_engine.identity import Identity, identity_path
from dispute_engine.views import StaffView

staff_app = typer.Typer(
    help="The staff directory: keys, the first admin, members.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(staff_app, name="staff")

StaffId = Annotated[
    str, typer.Argument(metavar="ID", help="The member's staff id.", show_default=False)
]
MAX_QUEUE = 1000
_FIELDS = {
    "staff_id": "ID",
    "roles": "--grant",
    "languages": "--language",
    "public_key": "--public-key",
    "display_name": "--name",
}


def _member(view: StaffView) -> None:
    keys = [
        f"{k.public_key} from {render.utc(k.valid_from)}"
        + (f" until {render.utc(k.valid_until)}" if k.valid_until else "")
        for k in view.keys
    ]
    render.pairs(
        [
            ("staff id", view.staff_id),
            ("name", view.display_name),
            ("status", view.status),
            ("roles", ", ".join(view.roles)),
            ("languages", ", ".join(view.languages) or "-"),
            ("registered", f"{render.utc(view.registered_at)} by {view.registered_by}"),
            ("revoked", render.utc(view.revoked_at)),
            *(("key", key) for key in keys),
        ]
    )


@staff_app.command()
def keygen(
    ctx: typer.Context,
    staff_id: Annotated[str, typer.Option("--id", help="Your staff id.", show_default=False)],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a key file that exists (the old key is lost).")
    ] = False,
) -> None:
    """Make your private key (file mode 0600) and print the public key for an admin to add."""
    session = Session.of(ctx)
    with flags_named({"staff_id": "--id"}):
        identity = Identity.generate(staff_id)
        path = identity.save(identity_path(identity.staff_id), overwrite=force)
    session.say(f"private key of {identity.staff_id} written to {path}")
    session.emit(
        {"staff_id": identity.staff_id, "public_key": identity.public_key_hex, "path": str(path)},
        lambda: typer.echo(identity.public_key_hex),
    )


@staff_app.command()
def init(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Your display name.")] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="A language you serve (repeatable).")
    ] = None,
) -> None:
    """Make your local identity the directory's first admin; only on an empty directory."""
    session = Session.of(ctx)
    identity = local_identity(session.actor_id)
    with session.engine() as engine, flags_named(_FIELDS):
        view = engine.init_staff(
            identity.staff_id,
            public_key=identity.public_key_hex,
            languages=language or [],
            display_name=name,
        )
    session.emit(view, lambda: _member(view))


@staff_app.command()
def add(
    ctx: typer.Context,
    staff_id: StaffId,
    public_key: Annotated[
        str,
        typer.Option(
            help="The member's public key, as `staff keygen` printed it.", show_default=False
        ),
    ],
    role: Annotated[
        list[str],
        typer.Option(
            "--grant", help="A role: investigator | approver | auditor | admin (repeatable)."
        ),
    ],
    language: Annotated[
        list[str] | None, typer.Option("--language", help="A language served (repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
) -> None:
    """Add a member to the directory (admins only)."""
    session = Session.of(ctx)
    admin = local_identity(session.actor_id).actor([Role.ADMIN])
    with session.engine() as engine, flags_named(_FIELDS):
        view = engine.register_staff(
            staff_id,
            roles=role,
            languages=language or [],
            public_key=public_key,
            display_name=name,
            by=admin,
        )
    session.emit(view, lambda: _member(view))


@staff_app.command()
def revoke(ctx: typer.Context, staff_id: StaffId) -> None:
    """Revoke a member: they can no longer act; what they signed stays verifiable."""
    session = Session.of(ctx)
    admin = local_identity(session.actor_id).actor([Role.ADMIN])
    with session.engine() as engine, flags_named(_FIELDS):
        view = engine.revoke_staff(staff_id, by=admin)
    session.emit(view, lambda: _member(view))


@staff_app.command()
def change(
    ctx: typer.Context,
    staff_id: StaffId,
    grant: Annotated[
        list[str] | None,
        typer.Option("--grant", help="A role to give: investigator | approver | auditor | admin."),
    ] = None,
    revoke_role: Annotated[
        list[str] | None, typer.Option("--revoke-role", help="A role to take away.")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="A language to serve from now.")
    ] = None,
    drop_language: Annotated[
        list[str] | None, typer.Option("--drop-language", help="A language no longer served.")
    ] = None,
) -> None:
    """Change a member's roles or languages (admins only; each flag repeatable)."""
    session = Session.of(ctx)
    if not (grant or revoke_role or language or drop_language):
        raise InvalidInput.of(
            "--grant", "give --grant, --revoke-role, --language or --drop-language"
        )
    admin = local_identity(session.actor_id).actor([Role.ADMIN])
    with session.engine() as engine, flags_named(_FIELDS):
        member = engine.staff(staff_id)
        roles = _changed(member.roles, grant, revoke_role, "--revoke-role", str.lower)
        languages = _changed(
            member.languages, language, drop_language, "--drop-language", _language
        )
        # Worked out from the member as read: a change made meanwhile is a conflict.
        view = engine.change_staff(
            staff_id,
            roles=roles,
            languages=languages,
            expected_version=member.version,
            by=admin,
        )
    session.emit(view, lambda: _member(view))


def _language(tag: str) -> str:
    try:
        return language_tag(tag)
    except ValueError as exc:
        raise InvalidInput.of("--drop-language", str(exc)) from None


def _changed(
    held: list[str],
    added: list[str] | None,
    removed: list[str] | None,
    flag: str,
    canonical: Callable[[str], str],
) -> list[str] | None:
    """``held`` with ``added`` and without ``removed``; None when neither is given."""
    if not added and not removed:
        return None
    gone = {canonical(r) for r in removed or []}
    missing = sorted(gone - set(held))
    if missing:
        raise InvalidInput.of(flag, f"the member does not have {', '.join(missing)}")
    return [v for v in held if v not in gone] + list(added or [])


@staff_app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    staff_id: StaffId,
    public_key: Annotated[
        str, typer.Option(help="The member's new public key.", show_default=False)
    ],
) -> None:
    """Give a member a new key from now; approvals signed with the old one stay valid."""
    session = Session.of(ctx)
    admin = local_identity(session.actor_id).actor([Role.ADMIN])
    with session.engine() as engine, flags_named(_FIELDS):
        view = engine.register_staff_key(staff_id, public_key=public_key, by=admin)
    session.emit(view, lambda: _member(view))


@staff_app.command("list")
def list_(
    ctx: typer.Context,
    everyone: Annotated[bool, typer.Option("--all", help="Include revoked members.")] = False,
) -> None:
    """List the directory's members."""
    session = Session.of(ctx)
    with session.engine(create=False) as engine:
        views = engine.list_staff(include_revoked=everyone)
    rows = [
        (v.staff_id, v.display_name, ",".join(v.roles), ",".join(v.languages) or "-", v.status)
        for v in views
    ]
    session.emit(views, lambda: render.table(("id", "name", "roles", "languages", "status"), rows))


@staff_app.command()
def show(ctx: typer.Context, staff_id: StaffId) -> None:
    """Show a member: roles, languages, and every key with the period it was in force."""
    session = Session.of(ctx)
    with session.engine(create=False) as engine, flags_named(_FIELDS):
        view = engine.staff(staff_id)
    session.emit(view, lambda: _member(view))


@staff_app.command()
def history(ctx: typer.Context, staff_id: StaffId) -> None:
    """List every directory event of a member (registration, changes, keys, revocation) with
    the admin who made it."""
    session = Session.of(ctx)
    with session.engine(create=False) as engine, flags_named(_FIELDS):
        entries = engine.staff_history(staff_id)
    emit_history(session, entries)


@app.command()
def queue(
    ctx: typer.Context,
    mine: Annotated[bool, typer.Option("--mine", help="Your own queue (your identity).")] = False,
    for_staff: Annotated[str | None, typer.Option("--for", help="Another member's queue.")] = None,
    limit: Annotated[int, typer.Option(help=f"At most this many (1 to {MAX_QUEUE}).")] = 10,
) -> None:
    """The most urgent disputes a member can work on, in the languages they serve."""
    session = Session.of(ctx)
    if mine == (for_staff is not None):
        raise InvalidInput.of("--mine", "give exactly one of --mine and --for ID")
    if not 1 <= limit <= MAX_QUEUE:
        raise InvalidInput.of("--limit", f"must be between 1 and {MAX_QUEUE}")
    member = local_identity(session.actor_id).staff_id if for_staff is None else for_staff
    # A reading command: the views are brought up to date where the database lets it write,
    # otherwise the queue is worked out from the events.
    with session.engine(create=False) as engine, flags_named({"for_staff": "--for"}):
        views = engine.next_disputes(for_staff=member, limit=limit)
    rows = [
        (
            v.id,
            v.status,
            v.claim.priority,
            v.claim.language,
            render.utc(min((c.due_at for c in v.sla_clocks if c.due_at), default=None)),
        )
        for v in views
    ]
    session.emit(views, lambda: render.table(("id", "status", "priority", "language", "due"), rows))
