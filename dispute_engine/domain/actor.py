"""Who acts on a dispute, the roles they hold, and which role may do what."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from dispute_engine.domain.errors import NotAuthorized
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.value_object import ValueObject


class Role(StrEnum):
    """What an actor is allowed to do."""

    INVESTIGATOR = "investigator"
    APPROVER = "approver"
    AUDITOR = "auditor"
    SYSTEM = "system"


class Actor(ValueObject):
    """A person or service acting on disputes; recorded on every event."""

    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
    roles: frozenset[Role]


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
    """Raises NotAuthorized unless the actor holds a role allowed to perform the action."""
    allowed = PERMISSIONS[action]
    if not actor.roles & allowed:
        roles = " or ".join(sorted(allowed))
        raise NotAuthorized(f"{actor.id} may not {action}: needs the role {roles}", actor=actor.id)
