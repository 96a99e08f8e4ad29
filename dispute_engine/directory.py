"""The staff directory's write side, and the checks every write makes against it.

Members are ``Staff`` aggregates in the engine's own event store, so each change is an event in
the same history, hash log and seals as the disputes. In directory mode (the setting
``require_directory``) whoever acts must be an active member, with the roles the directory
gives them, never the roles they name; approvals, send-backs and executions must be signed
with the key the directory holds for them at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.utils import get_topic

from dispute_engine.domain.actor import Actor, Role, require_permission
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    DecisionSignatureRefused,
    InvalidInput,
    NotAuthorized,
    StaffNotFound,
)
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.staff import FOUNDING, Founding, Staff
from dispute_engine.event_store import DisputeEvents, all_notifications
from dispute_engine.identity import Identity, SigningActor, verify_signature


class Directory:
    """Registers, revokes and looks up members; resolves who really acts.

    Raises the engine's errors only: ConcurrencyConflict for a change that lost a race.
    """

    def __init__(
        self, app: DisputeEvents, *, clock: Callable[[], datetime], required: bool
    ) -> None:
        self._app = app
        self._now = clock
        self.required = required
        self._founded = False

    # -- reading --------------------------------------------------------------

    def member(self, staff_id: str) -> Staff:
        """The member under any spelling of their id.

        Raises StaffNotFound, InvalidInput (an id with invisible characters).
        """
        member = canonical_id(staff_id, field="staff_id")
        try:
            found: object = self._app.repository.get(Staff.create_id(member))
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Staff):
            raise StaffNotFound(f"{member} is not in the staff directory", staff_id=member)
        return found

    def members(self) -> list[Staff]:
        """Every member ever registered, revoked ones too, by staff id."""
        ids = dict.fromkeys(UUID(str(n.originator_id)) for n in self._registrations(limit=None))
        found: list[object] = [self._app.repository.get(i) for i in ids]
        return sorted((m for m in found if isinstance(m, Staff)), key=lambda m: m.staff_id)

    def is_founded(self) -> bool:
        """Whether the first admin was registered (``staff init`` ran).

        One indexed read of the founding's first event until it is seen; a founding is never
        undone, so from then on nothing is read (every assignment asks).
        """
        if not self._founded:
            self._founded = self._app.holds(FOUNDING)
        return self._founded

    # -- changes ----------------------------------------------------------------

    def register(
        self,
        staff_id: str,
        *,
        roles: Iterable[Role | str],
        languages: Iterable[str],
        public_key: str,
        display_name: str | None = None,
        by: Actor | Identity,
    ) -> Staff:
        """Add a member with their first key. Raises NotAuthorized, InvalidInput (any field, or
        a member already in the directory)."""
        admin = self.acting(by)
        member = Staff.register(
            staff_id,
            display_name=display_name if display_name is not None else staff_id.strip(),
            roles=roles,
            languages=languages,
            public_key=public_key,
            by=admin,
            now=self._now(),
        )
        self._save_new(member)
        return member

    def found(
        self,
        staff_id: str,
        *,
        public_key: str,
        languages: Iterable[str],
        display_name: str | None = None,
    ) -> Staff:
        """Register the first admin, once, on a directory without any member.

        Two foundings at once: one lands, the other is refused, as is any founding after the
        first. Raises NotAuthorized (the directory has its first admin), InvalidInput.
        """
        member_id = canonical_id(staff_id, field="staff_id")
        if self.is_founded() or self._has_members():
            raise NotAuthorized(
                "the staff directory already has its first admin: ask an admin to add you",
                actor=member_id,
            )
        member = Staff.register(
            member_id,
            display_name=display_name if display_name is not None else staff_id.strip(),
            roles=[Role.ADMIN],
            languages=languages,
            public_key=public_key,
            by=Actor(id=member_id, roles=frozenset({Role.ADMIN})),
            now=self._now(),
        )
        try:
            self._app.save(member, Founding.found(member))
        except IntegrityError:
            raise NotAuthorized(
                "the staff directory was founded by someone else meanwhile", actor=member_id
            ) from None
        return member

    def revoke(self, staff_id: str, *, by: Actor | Identity) -> Staff:
        """Take away the member's right to act from now; their past signatures still verify.

        Raises StaffNotFound, NotAuthorized, InvalidTransition (already revoked).
        """
        admin = self.acting(by)
        member = self.member(staff_id)
        member.revoke(by=admin, now=self._now())
        self._save(member)
        return member

    def change(
        self,
        staff_id: str,
        *,
        roles: Iterable[Role | str] | None,
        languages: Iterable[str] | None,
        expected_version: int | None,
        by: Actor | Identity,
    ) -> Staff:
        """Replace the member's roles, the languages they serve, or both, in one save.

        ``expected_version`` is the member's version the caller read: a member changed since
        is a conflict, so a change worked out from what was read never undoes another.
        Raises StaffNotFound, NotAuthorized, InvalidTransition (revoked), InvalidInput
        (nothing to change, or any field), ConcurrencyConflict.
        """
        if roles is None and languages is None:
            raise InvalidInput.of("roles", "name the roles or the languages to change")
        if expected_version is not None and (
            not isinstance(expected_version, int) or isinstance(expected_version, bool)
        ):
            raise InvalidInput.of("expected_version", "must be a whole number")
        admin = self.acting(by)
        member = self.member(staff_id)
        if expected_version is not None and expected_version != member.version:
            raise ConcurrencyConflict(
                f"{member.staff_id} was changed by someone else since version "
                f"{expected_version}; reload and retry"
            )
        now = self._now()
        if roles is not None:
            member.change_roles(roles, by=admin, now=now)
        if languages is not None:
            member.change_languages(languages, by=admin, now=now)
        self._save(member)
        return member

    def register_key(self, staff_id: str, public_key: str, *, by: Actor | Identity) -> Staff:
        """Rotate the member to a new key from now; older signatures keep verifying against
        the key in force when they were made. Raises StaffNotFound, NotAuthorized,
        InvalidTransition, InvalidInput."""
        admin = self.acting(by)
        member = self.member(staff_id)
        member.register_key(public_key, by=admin, now=self._now())
        self._save(member)
        return member

    def _save_new(self, member: Staff) -> None:
        try:
            self._app.save(member)
        except IntegrityError:
            raise InvalidInput.of(
                "staff_id", f"{member.staff_id} is already in the staff directory"
            ) from None

    def _save(self, member: Staff) -> None:
        try:
            self._app.save(member)
        except IntegrityError:
            raise ConcurrencyConflict(
                f"{member.staff_id} was changed by someone else; reload and retry"
            ) from None

    def _has_members(self) -> bool:
        return bool(self._registrations(limit=1))

    def _registrations(self, *, limit: int | None) -> list[Notification]:
        topic = get_topic(Staff.Registered)
        return list(islice(all_notifications(self._app.recorder, [topic]), limit))

    # -- who acts -----------------------------------------------------------------

    def acting(self, by: Actor | Identity) -> Actor:
        """The actor a write runs as: in directory mode the member with the directory's roles
        (a signing actor keeps its key), otherwise ``by`` unchanged. An ``Identity`` names no
        roles: it always acts with the directory's.

        Raises NotAuthorized (not a member, revoked, or a key file that is not the member's
        current key), InvalidInput (``by`` is neither an Actor nor an Identity).
        """
        if isinstance(by, Identity):
            return self._as_member(by.actor([]))
        if not isinstance(by, Actor):
            raise InvalidInput.of("by", f"must be an Actor, not {type(by).__name__}")
        if not self.required:
            return by
        return self._as_member(by)

    def _as_member(self, by: Actor) -> Actor:
        try:
            member = self.member(by.id)
        except StaffNotFound:
            raise NotAuthorized(
                f"{by.id} is not in the staff directory; ask an admin to add them", actor=by.id
            ) from None
        actor = member.actor()  # NotAuthorized once revoked
        if isinstance(by, SigningActor):
            if by.public_key_hex != member.public_key:
                raise NotAuthorized(
                    f"the key {by.id} acts with is not the one the directory holds for them",
                    actor=by.id,
                )
            return by.model_copy(update={"roles": actor.roles})
        return actor

    def sign(self, actor: Actor, statement: bytes) -> str | None:
        """The actor's signature of a decision statement; in directory mode it must verify
        against the member's key in force now.

        Raises DecisionSignatureRefused (unsigned in directory mode, or a wrong key).
        """
        signature = actor.sign(statement) if isinstance(actor, SigningActor) else None
        if not self.required:
            return signature
        if signature is None:
            raise DecisionSignatureRefused(
                f"{actor.id} must sign this step: act with their key (an Identity)",
                actor=actor.id,
            )
        problem = self.signature_problem(actor.id, statement, signature, self._now())
        if problem is not None:
            raise DecisionSignatureRefused(problem, actor=actor.id)
        return signature

    def signature_problem(
        self, staff_id: str, statement: bytes, signature: str | None, at: datetime
    ) -> str | None:
        """Why a recorded signature does not stand (unsigned, no member, no key in force at
        ``at``, or not that key's signature), or None when it verifies."""
        if signature is None:
            return f"not signed by {staff_id}"
        try:
            member = self.member(staff_id)
        except StaffNotFound as exc:
            return exc.message
        except InvalidInput:
            return f"{staff_id!r} is no staff id"
        key = member.key_valid_at(at)
        if key is None:
            return f"{member.staff_id} held no key at {at.isoformat()}"
        if not verify_signature(key, statement, signature):
            return f"not signed with {member.staff_id}'s key in force at {at.isoformat()}"
        return None

    def approval_problem(
        self, staff_id: str, statement: bytes, signature: str | None, at: datetime
    ) -> str | None:
        """Why a recorded approval does not stand, or None: its signature (see
        :meth:`signature_problem`) and, in directory mode, an approver who did not hold the
        approver role at ``at`` (or held admin, who may not move money)."""
        problem = self.signature_problem(staff_id, statement, signature, at)
        if problem is not None or not self.required:
            return problem
        member = self.member(staff_id)
        try:
            require_permission(
                Actor(id=member.staff_id, roles=member.roles_at(at)), Action.APPROVE_DECISION
            )
        except NotAuthorized:
            return f"{member.staff_id} could not approve at {at.isoformat()}"
        return None
