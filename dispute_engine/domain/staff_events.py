"""The events the staff directory records, as classes other modules read them by.

The ``Staff`` aggregate names them in its ``@event`` decorators and makes each its own, so
they are stored under ``dispute_engine.domain.staff:Staff.<Name>``.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate


class StaffEvent(Aggregate.Event):
    """Every directory event records the admin who made the change."""

    actor: str


class Registered(StaffEvent, Aggregate.Created):
    """A member was added, with their first key."""

    staff_id: str
    display_name: str
    roles: list[str]
    languages: list[str]
    public_key: str


class RolesChanged(StaffEvent):
    """A member's roles were replaced."""

    roles: list[str]


class LanguagesChanged(StaffEvent):
    """The languages a member serves were replaced."""

    languages: list[str]


class KeyRegistered(StaffEvent):
    """A member's key was rotated: the new one is in force from the event's time."""

    public_key: str


class Revoked(StaffEvent):
    """A member lost every right to act."""
