"""The engine's staff part: the directory's commands and reads, who really acts, signed
decision steps, and each member's queue of work."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from dispute_engine.decision_signatures import (
    SIGNED,
    SignatureFinding,
    approvals_problem,
    check_decision_signatures,
)
from dispute_engine.directory import Directory
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.claim import PRIORITY_RANK
from dispute_engine.domain.decision_signing import SignedAction
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    InvalidInput,
    PayoutRefused,
    StaffNotFound,
    StorageUnavailable,
)
from dispute_engine.domain.routing import COUNTING_CLOCKS, QueueEntry, route
from dispute_engine.domain.staff import Staff
from dispute_engine.engine_core import EngineCore
from dispute_engine.identity import Identity
from dispute_engine.views import DisputeView, StaffView

MAX_QUEUE = 1000


class LanguageNotServed(UserWarning):
    """A dispute was given to someone who does not serve its language (recorded all the same)."""


class Staffing:
    """Registers and revokes members, resolves who acts, signs and checks decision steps.

    Every method raises the engine's errors only (StorageUnavailable, EngineShutDown, ...).
    """

    def __init__(self, core: EngineCore) -> None:
        self._core = core
        self.directory = Directory(
            core.events, clock=core.now, required=core.settings.require_directory
        )

    # -- who acts -------------------------------------------------------------------

    def acting(self, by: Actor | Identity) -> Actor:
        """The actor a write runs as (see :meth:`Directory.acting`). Raises NotAuthorized."""
        with self._core.storage_boundary():
            return self.directory.acting(by)

    def sign(self, actor: Actor, dispute: Dispute, action: SignedAction) -> str | None:
        """The actor's signature of the step on the dispute's decision; None with no decision
        (the command is then refused by its status). Raises DecisionSignatureRefused."""
        if dispute.decision is None:
            return None
        with self._core.storage_boundary():
            return self.directory.sign(actor, dispute.statement(action))

    def require_signed_approval(self, dispute: Dispute) -> None:
        """In directory mode, refuse to pay a decision unless every approval it needs stands:
        read from the dispute's stored events, each signed with the key then in force of a
        member then holding the approver role, by as many distinct people (not the proposer)
        as the decision needs. Raises PayoutRefused (``approval_signature``).
        """
        decision = dispute.decision
        if not self.directory.required or decision is None or decision.approved_at is None:
            return
        statement = dispute.statement(SignedAction.APPROVE)
        with self._core.storage_boundary():
            stored = self._core.events.events.get(dispute.id)
            problem = approvals_problem(stored, decision, statement, self.directory)
        if problem is not None:
            raise PayoutRefused(
                f"decision {decision.number} of dispute {dispute.id} is not paid: its approval "
                f"does not stand ({problem})",
                reason="approval_signature",
                dispute_id=dispute.id,
            )

    def warn_if_unserved(self, dispute: Dispute, investigator: str) -> None:
        """Warn (LanguageNotServed) when the assignee does not serve the dispute's language
        (its claim is read only when a directory says who serves what)."""
        try:
            with self._core.storage_boundary():
                if not self.directory.required and not self.directory.is_founded():
                    return
                member = self.directory.member(investigator)
        except StaffNotFound:
            return  # not a member: directory mode has refused the assigner already if need be
        language = dispute.claim.language
        if not member.serves(language):
            warnings.warn(
                f"{member.staff_id} does not serve {language} "
                f"(serves {', '.join(member.languages) or 'no language'})",
                LanguageNotServed,
                stacklevel=4,
            )

    # -- the directory ----------------------------------------------------------------

    def init_staff(
        self,
        staff_id: str,
        *,
        public_key: str,
        languages: Iterable[str] = (),
        display_name: str | None = None,
    ) -> StaffView:
        """Register the directory's first admin, once. Raises NotAuthorized, InvalidInput."""
        with self._core.storage_boundary():
            member = self.directory.found(
                staff_id, public_key=public_key, languages=languages, display_name=display_name
            )
        return StaffView.of(member)

    def register_staff(
        self,
        staff_id: str,
        *,
        roles: Iterable[Role | str],
        languages: Iterable[str],
        public_key: str,
        display_name: str | None = None,
        by: Actor | Identity,
    ) -> StaffView:
        """Add a member. Raises NotAuthorized, InvalidInput (also: already a member)."""
        with self._core.storage_boundary():
            member = self.directory.register(
                staff_id,
                roles=roles,
                languages=languages,
                public_key=public_key,
                display_name=display_name,
                by=by,
            )
        return StaffView.of(member)

    def register_staff_key(
        self, staff_id: str, *, public_key: str, by: Actor | Identity
    ) -> StaffView:
        """Rotate a member's key. Raises StaffNotFound, NotAuthorized, InvalidTransition,
        InvalidInput, ConcurrencyConflict."""
        with self._core.storage_boundary():
            return StaffView.of(self.directory.register_key(staff_id, public_key, by=by))

    def change_staff(
        self,
        staff_id: str,
        *,
        roles: Iterable[Role | str] | None,
        languages: Iterable[str] | None,
        expected_version: int | None,
        by: Actor | Identity,
    ) -> StaffView:
        """Replace a member's roles and/or languages. Raises StaffNotFound, NotAuthorized,
        InvalidTransition, InvalidInput, ConcurrencyConflict."""
        with self._core.storage_boundary():
            member = self.directory.change(
                staff_id,
                roles=roles,
                languages=languages,
                expected_version=expected_version,
                by=by,
            )
        return StaffView.of(member)

    def revoke_staff(self, staff_id: str, *, by: Actor | Identity) -> StaffView:
        """Revoke a member. Raises StaffNotFound, NotAuthorized, InvalidTransition,
        ConcurrencyConflict."""
        with self._core.storage_boundary():
            return StaffView.of(self.directory.revoke(staff_id, by=by))

    def staff(self, staff_id: str) -> StaffView:
        """A member as the directory records them. Raises StaffNotFound, InvalidInput."""
        with self._core.storage_boundary():
            return StaffView.of(self.directory.member(staff_id))

    def member_id(self, staff_id: str) -> UUID:
        """The aggregate id of a member in the directory. Raises StaffNotFound, InvalidInput."""
        with self._core.storage_boundary():
            return self.directory.member(staff_id).id

    def list_staff(self, *, include_revoked: bool = True) -> list[StaffView]:
        """Every member by staff id, from the directory view brought up to date first."""
        try:
            read_models = self._core.projections
            read_models.catch_up(["staff_directory"])
            members: list[Any] = read_models.staff_members(include_revoked=include_revoked)
        except StorageUnavailable:
            if self._core.creates:
                raise
            # Opened for reading only, where the view cannot be built or brought up to date:
            # the same answer from the directory's events.
            with self._core.storage_boundary():
                members = [m for m in self.directory.members() if include_revoked or m.active]
        return [StaffView.of(m) for m in members]

    # -- routing ----------------------------------------------------------------------

    def next_dispute_ids(self, for_staff: str, limit: int) -> list[UUID]:
        """The ids of the disputes ``for_staff`` should take next (see ``next_disputes``).

        Raises StaffNotFound, InvalidInput (``limit`` outside 1..1000).
        """
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_QUEUE:
            raise InvalidInput.of("limit", f"must be a whole number from 1 to {MAX_QUEUE}")
        with self._core.storage_boundary():
            member: Staff = self.directory.member(for_staff)
        roles = member.roles if member.active else frozenset()
        try:
            read_models = self._core.projections
            read_models.catch_up(["work_queue", "sla"])
            ids = read_models.next_disputes(
                staff_id=member.staff_id, roles=roles, languages=member.languages, limit=limit
            )
        except StorageUnavailable:
            if self._core.creates:
                raise
            # Opened for reading only, where the views cannot be built or brought up to date
            # (SELECT rights, a read-only file): the same answer from the events.
            disputes = self._core.load_many(self._core.all_ids())
            entries = (_queue_entry(DisputeView.of(d)) for d in disputes)
            ids = route(
                entries,
                staff_id=member.staff_id,
                roles=roles,
                languages=member.languages,
                limit=limit,
            )
        return [UUID(i) for i in ids]

    # -- audit ------------------------------------------------------------------------

    def verify_decision_signatures(self) -> list[SignatureFinding]:
        """Every approval, send-back and execution whose signature does not stand."""
        with self._core.storage_boundary():
            events = self._core.events
            # Only disputes with a signed step are replayed: a stored event's topic names
            # its class, so the database finds them without decoding anything.
            patterns = [f"%.{kind.__name__}" for kind in SIGNED]
            rows = self._core.db.fetchall(
                f"SELECT DISTINCT originator_id FROM {self._core.events_table} WHERE "
                + " OR ".join("topic LIKE ?" for _ in patterns),
                patterns,
            )
            signed = sorted(UUID(str(r["originator_id"])) for r in rows)
            stream = (
                events.mapper.to_domain_event(stored)
                for dispute_id in signed
                for stored in events.recorder.select_events(dispute_id)
            )
            return check_decision_signatures(stream, self.directory)


def _queue_entry(view: DisputeView) -> QueueEntry:
    counting = [c.due_at for c in view.sla_clocks if c.state in COUNTING_CLOCKS and c.due_at]
    return QueueEntry(
        dispute_id=str(view.id),
        status=str(view.status),
        assignee=view.assignee,
        language=view.claim.language,
        priority_rank=PRIORITY_RANK[view.priority],
        filed_at=view.filed_at,
        due_at=min(counting, default=None),
    )
