"""What every command shares: the database, the output form and who acts, from the callback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import typer
from pydantic_core import to_jsonable_python

from dispute_engine.cli.handler import flags_named
from dispute_engine.cli.who import local_identity
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.settings import Settings

if TYPE_CHECKING:
    from dispute_engine.engine import DisputeEngine

WRITE_ROLES = (Role.INVESTIGATOR, Role.APPROVER)


@dataclass
class Session:
    """The global options of one command line, and the settings read once from the environment."""

    db: str | None
    as_json: bool
    actor_id: str | None
    role: str | None

    @classmethod
    def of(cls, ctx: typer.Context) -> Session:
        """The session the callback put on the context."""
        session = ctx.find_root().obj
        assert isinstance(session, Session)
        return session

    @cached_property
    def settings(self) -> Settings:
        """``DISPUTE_ENGINE_*`` settings. Raises pydantic's errors, which the handler words."""
        return Settings()

    @contextmanager
    def engine(
        self, settings: Settings | None = None, *, create: bool = True
    ) -> Iterator[DisputeEngine]:
        """The engine on ``--db`` (else the settings' database), released afterwards.

        Reading commands pass ``create=False``: they never create a database. The engine
        (and the storage code) is imported here, so commands without a database load none.
        """
        from dispute_engine.engine import DisputeEngine  # noqa: PLC0415

        with flags_named({"db": "--db"}):
            engine = DisputeEngine.open(self.db, settings=settings or self.settings, create=create)
        try:
            yield engine
        finally:
            engine.shutdown()

    def actor(self, default_role: Role) -> Actor:
        """Who acts in a write command.

        With the staff directory (``require_directory``): the local identity, whose key signs
        what must be signed; ``--actor`` only picks which, and roles come from the directory.
        Without it (the embedded demo): ``--actor`` is required, ``--role`` may be given.
        Raises InvalidInput naming the flag, IdentityFileRefused (the key file).
        """
        if self.settings.require_directory:
            if self.role:
                raise InvalidInput.of("--role", "roles come from the staff directory; drop --role")
            return local_identity(self.actor_id).actor([])
        if not self.actor_id:
            raise InvalidInput.of(
                "--actor", "a write command needs who acts: --actor ID or DISPUTE_ENGINE_ACTOR"
            )
        role = self.role or default_role
        if role not in WRITE_ROLES:
            raise InvalidInput.of("--role", "must be investigator or approver")
        with flags_named({"id": "--actor"}):
            return Actor(id=canonical_id(self.actor_id, field="--actor"), roles={Role(role)})

    def emit(self, data: object, human: Callable[[], None]) -> None:
        """Print JSON for scripts with ``--json``, else what ``human`` prints for people."""
        if self.as_json:
            typer.echo(json.dumps(to_jsonable_python(data), indent=2, ensure_ascii=False))
        else:
            human()

    def lines(self, data: object, lines: Sequence[str]) -> None:
        """Print ``data`` as JSON, or ``lines`` for people."""

        def human() -> None:
            for line in lines:
                typer.echo(line)

        self.emit(data, human)

    def say(self, text: str) -> None:
        """A progress line, on stderr: stdout carries only results."""
        typer.echo(text, err=True)
