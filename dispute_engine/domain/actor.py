"""Who acts on a dispute, the roles they hold, and which role may do what."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import InvalidInput, NotAuthorized
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.value_object import ValueObject


class Role(StrEnum):
    """What an actor is allowed to do."""

    INVESTIGATOR = "investigator"
    APPROVER = "approver"
    AUDITOR = "auditor"
    SYSTEM = "system"
    ADMIN = "admin"


def _canonical(value: str) -> str:
    try:
        return canonical_id(value)
    except InvalidInput as exc:
        raise ValueError(exc.errors[0]["message"]) from None


class Actor(ValueObject):
    """A person or service acting on disputes; recorded on every event.

    The id is kept in its canonical form (NFKC, casefolded, trimmed), so ``ALICE`` and
    ``alice`` are one actor everywhere. Raises InvalidInput for invisible or control
    characters.
    """

    id: Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_canonical)]
    roles: frozenset[Role]


def same_actor(recorded: str, actor: Actor) -> bool:
    """Whether an id recorded on an event names the actor (ids recorded before canonical
    ids were enforced are compared in their canonical form too)."""
    try:
        return canonical_id(recorded) == actor.id
    except InvalidInput:
        return recorded == actor.id


FILE = "file"  # filing is not an Action on an existing dispute, but is permissioned too
# Staff directory changes: not Actions on a dispute, but permissioned like them.
REGISTER_STAFF = "register_staff"
CHANGE_STAFF = "change_staff"
REVOKE_STAFF = "revoke_staff"

_INVESTIGATOR_ACTIONS = frozenset(Action) - {
    Action.APPROVE_DECISION,
    Action.SEND_BACK,
    Action.RECORD_SLA,
    Action.GRANT_PROVISIONAL_CREDIT,
    Action.RECORD_FEEDBACK,
    Action.FORGET_CLAIMANT,
}

# Which roles may perform each action; auditors only read, so they appear nowhere.
PERMISSIONS: dict[Action | str, frozenset[Role]] = {
    FILE: frozenset({Role.INVESTIGATOR}),
    **{a: frozenset({Role.INVESTIGATOR}) for a in _INVESTIGATOR_ACTIONS},
    Action.ADD_NOTE: frozenset({Role.INVESTIGATOR, Role.APPROVER}),
    Action.APPROVE_DECISION: frozenset({Role.APPROVER}),
    Action.SEND_BACK: frozenset({Role.APPROVER}),
    Action.EXECUTE_DECISION: frozenset({Role.INVESTIGATOR, Role.APPROVER}),
    Action.RECORD_SLA: frozenset({Role.SYSTEM}),
    # A provisional credit pays money: an approver grants it, as they approve a decision.
    Action.GRANT_PROVISIONAL_CREDIT: frozenset({Role.APPROVER}),
    Action.ESCALATE: frozenset({Role.INVESTIGATOR, Role.APPROVER}),
    # The claimant's answer, relayed by the channel that received it.
    Action.RECORD_FEEDBACK: frozenset({Role.SYSTEM}),
    # Erasing a person is irreversible: an approver decides it.
    Action.FORGET_CLAIMANT: frozenset({Role.APPROVER}),
    REGISTER_STAFF: frozenset({Role.ADMIN}),
    CHANGE_STAFF: frozenset({Role.ADMIN}),
    REVOKE_STAFF: frozenset({Role.ADMIN}),
}

# Separation of duties: whoever manages the directory may not also move money, or one person
# could register an accomplice (or a second name) and approve or pay their refunds. An admin
# is refused these actions even when also holding a role that would allow them.
DENIED: dict[Action | str, frozenset[Role]] = {
    Action.APPROVE_DECISION: frozenset({Role.ADMIN}),
    Action.GRANT_PROVISIONAL_CREDIT: frozenset({Role.ADMIN}),
    Action.EXECUTE_DECISION: frozenset({Role.ADMIN}),
}

# Roles no one member may hold together, for the same reason.
INCOMPATIBLE_ROLES: frozenset[frozenset[Role]] = frozenset({frozenset({Role.ADMIN, Role.APPROVER})})


def role_conflict(roles: frozenset[Role]) -> frozenset[Role] | None:
    """The first pair of roles that may not be held together, or None when the set is allowed."""
    for pair in sorted(INCOMPATIBLE_ROLES, key=sorted):
        if pair <= roles:
            return pair
    return None


def require_permission(actor: Actor, action: Action | str) -> None:
    """Raises NotAuthorized unless the actor holds a role allowed to perform the action.

    Also raised when the actor holds a role denied the action (separation of duties);
    InvalidInput when ``actor`` is not an Actor.
    """
    if not isinstance(actor, Actor):
        raise InvalidInput.of("by", f"must be an Actor, not {type(actor).__name__}")
    allowed = PERMISSIONS[action]
    if not actor.roles & allowed:
        roles = " or ".join(sorted(allowed))
        raise NotAuthorized(f"{actor.id} may not {action}: needs the role {roles}", actor=actor.id)
    denied = actor.roles & DENIED.get(action, frozenset())
    if denied:
        roles = " and ".join(sorted(denied))
        raise NotAuthorized(
            f"{actor.id} may not {action}: the role {roles} may not move money",
            actor=actor.id,
        )
