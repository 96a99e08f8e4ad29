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

_INVESTIGATOR_ACTIONS = frozenset(Action) - {
    Action.APPROVE_DECISION,
    Action.SEND_BACK,
    Action.RECORD_SLA,
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
}


def require_permission(actor: Actor, action: Action | str) -> None:
    """Raises NotAuthorized unless the actor holds a role allowed to perform the action,
    InvalidInput when ``actor`` is not an Actor."""
    if not isinstance(actor, Actor):
        raise InvalidInput.of("by", f"must be an Actor, not {type(actor).__name__}")
    allowed = PERMISSIONS[action]
    if not actor.roles & allowed:
        roles = " or ".join(sorted(allowed))
        raise NotAuthorized(f"{actor.id} may not {action}: needs the role {roles}", actor=actor.id)
