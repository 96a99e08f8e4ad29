"""The staff directory's member: who they are, what they may do, which languages and keys they hold.

One ``Staff`` aggregate per member, keyed by the canonical staff id. Public methods check the
rules (only admins change the directory, no one grants themselves a role, a revoked member stays
revoked); private ``@event`` methods only change state, because they rerun on every replay.
Keys rotate: each key keeps the period it was valid in, so a signature made with an old key is
checked against the key that was in force when it was made.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from pydantic import AfterValidator, Field

from dispute_engine.domain import staff_events
from dispute_engine.domain.actor import (
    CHANGE_STAFF,
    REGISTER_STAFF,
    REVOKE_STAFF,
    Actor,
    Role,
    require_permission,
    role_conflict,
)
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import InvalidInput, InvalidTransition, NotAuthorized
from dispute_engine.domain.value_object import ValueObject

STAFF = UUID("0b6f3d0e-7a51-4c8e-9f2d-3c1a5e7b9d24")
ACTIVE = "active"
REVOKED = "revoked"

# BCP 47 as support desks use it: a language, an optional script, an optional region
# (en, zh-Hant, es-MX, es-419). Private-use and extension subtags are not served languages.
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?$")
_PUBLIC_KEY = re.compile(r"^[0-9a-f]{64}$")
_MAX_LANGUAGES = 32


def language_tag(text: str) -> str:
    """A served language in its canonical BCP 47 case (``zh-hant`` -> ``zh-Hant``).

    Raises InvalidInput for anything that is not a language, optional script, optional region.
    """
    parts = text.strip().replace("_", "-").split("-")
    cased = [parts[0].lower()]
    for part in parts[1:]:
        cased.append(part.title() if len(part) == 4 else part.upper())
    tag = "-".join(cased)
    if not _LANGUAGE_TAG.fullmatch(tag):
        raise ValueError(f"{text!r} is not a BCP 47 language tag such as en, zh-Hant or es-MX")
    return tag


def public_key_hex(text: str) -> str:
    """An Ed25519 public key as 64 lowercase hex digits (an optional ``0x`` is dropped)."""
    key = text.strip().lower().removeprefix("0x")
    if not _PUBLIC_KEY.fullmatch(key):
        raise ValueError("must be an Ed25519 public key: 64 hex digits (32 bytes)")
    return key


def serves(languages: Iterable[str], language: str) -> bool:
    """Whether one of ``languages`` covers ``language``: ``zh`` covers ``zh-Hant``, not the
    reverse. Raises InvalidInput for a malformed tag."""
    try:
        wanted = language_tag(language).split("-")
    except ValueError as exc:
        raise InvalidInput.of("language", str(exc)) from None
    return any(wanted[: len(tag.split("-"))] == tag.split("-") for tag in languages)


def _display_name(text: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cn") for c in text):
        raise ValueError("must not contain control or invisible characters")
    return text


def _languages(tags: tuple[str, ...]) -> tuple[str, ...]:
    canonical = tuple(dict.fromkeys(language_tag(t) for t in tags))
    if len(canonical) > _MAX_LANGUAGES:
        raise ValueError(f"at most {_MAX_LANGUAGES} languages")
    return tuple(sorted(canonical))


def _roles(roles: frozenset[Role]) -> frozenset[Role]:
    if not roles:
        raise ValueError("a member needs at least one role")
    conflict = role_conflict(roles)
    if conflict is not None:
        raise ValueError(f"{' and '.join(sorted(conflict))} may not be held by one member")
    return roles


Roles = Annotated[frozenset[Role], AfterValidator(_roles)]
Languages = Annotated[tuple[str, ...], AfterValidator(_languages)]
PublicKey = Annotated[str, AfterValidator(public_key_hex)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_display_name)]


class StaffProfile(ValueObject):
    """What an admin states about a member; validated before any event is recorded."""

    display_name: DisplayName
    roles: Roles
    languages: Languages
    public_key: PublicKey


class _RolesChange(ValueObject):
    roles: Roles


class _LanguagesChange(ValueObject):
    languages: Languages


class _KeyChange(ValueObject):
    public_key: PublicKey


@dataclass(frozen=True)
class KeyPeriod:
    """One key of a member and when it was in force: ``valid_from`` <= t < ``valid_until``."""

    public_key: str
    valid_from: datetime
    valid_until: datetime | None

    def covers(self, when: datetime) -> bool:
        """Whether the key was in force at ``when``."""
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)


def _aware(when: datetime, field: str) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidInput.of(field, "must carry a time zone")
    return when


class Staff(Aggregate):
    """One member of the support desk as the directory records them."""

    class Event(staff_events.StaffEvent):
        """The base of every directory event."""

    # The event classes of staff_events.py, made the member's own by the library.
    Registered = staff_events.Registered
    RolesChanged = staff_events.RolesChanged
    LanguagesChanged = staff_events.LanguagesChanged
    KeyRegistered = staff_events.KeyRegistered
    Revoked = staff_events.Revoked

    @staticmethod
    def create_id(staff_id: str) -> UUID:
        """The aggregate id for a staff id; every spelling of one person gives the same id.

        Raises InvalidInput for a staff id holding control or invisible characters.
        """
        return uuid5(STAFF, canonical_id(staff_id, field="staff_id"))

    @classmethod
    def register(
        cls,
        staff_id: str,
        *,
        display_name: str,
        roles: Iterable[Role | str],
        languages: Iterable[str],
        public_key: str,
        by: Actor,
        now: datetime,
    ) -> Staff:
        """Add a member to the directory with their first key, valid from ``now``.

        Raises NotAuthorized (not an admin, or granting oneself more than admin) and
        InvalidInput (any field, or a time without a zone).
        """
        require_permission(by, REGISTER_STAFF)
        member = canonical_id(staff_id, field="staff_id")
        profile = StaffProfile.model_validate(
            {
                "display_name": display_name,
                "roles": _values(roles),
                "languages": _values(languages),
                "public_key": public_key,
            }
        )
        _refuse_self_grant(member, profile.roles, by)
        return cls(
            staff_id=member,
            display_name=profile.display_name,
            roles=sorted(profile.roles),
            languages=list(profile.languages),
            public_key=profile.public_key,
            actor=by.id,
            timestamp=_aware(now, "now"),
        )

    @event(staff_events.Registered)
    def __init__(
        self,
        staff_id: str,
        display_name: str,
        roles: list[str],
        languages: list[str],
        public_key: str,
        actor: str,
        timestamp: datetime,
    ) -> None:
        self.staff_id = staff_id
        self.display_name = display_name
        self.roles = frozenset(Role(r) for r in roles)
        # Every set of roles the member held, from when: approvals are checked against the
        # roles held when they were made.
        self.role_history: list[tuple[datetime, frozenset[Role]]] = [(timestamp, self.roles)]
        self.languages = tuple(languages)
        self.keys: list[KeyPeriod] = [KeyPeriod(public_key, timestamp, None)]
        self.status = ACTIVE
        self.registered_by = actor
        self.registered_at = timestamp
        self.revoked_at: datetime | None = None

    # -- reading --------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether the member may act (not revoked)."""
        return self.status == ACTIVE

    @property
    def public_key(self) -> str | None:
        """The key in force now, or None once revoked."""
        current = self.keys[-1]
        return current.public_key if current.valid_until is None else None

    def key_valid_at(self, when: datetime) -> str | None:
        """The key that was in force at ``when``, or None (before registration, after revocation).

        Raises InvalidInput for a time without a zone.
        """
        _aware(when, "when")
        for period in self.keys:
            if period.covers(when):
                return period.public_key
        return None

    def roles_at(self, when: datetime) -> frozenset[Role]:
        """The roles the member held at ``when``: none before registration or once revoked.

        Raises InvalidInput for a time without a zone.
        """
        _aware(when, "when")
        if self.revoked_at is not None and when >= self.revoked_at:
            return frozenset()
        held: frozenset[Role] = frozenset()
        for since, roles in self.role_history:
            if since <= when:
                held = roles
        return held

    def serves(self, language: str) -> bool:
        """Whether the member serves a language: ``zh`` serves ``zh-Hant``, not the reverse.

        Raises InvalidInput for a malformed tag.
        """
        return serves(self.languages, language)

    def actor(self) -> Actor:
        """The member as an actor with the roles the directory gives them, never self-declared.

        Raises NotAuthorized once the member is revoked.
        """
        if not self.active:
            raise NotAuthorized(f"{self.staff_id} has been revoked", actor=self.staff_id)
        return Actor(id=self.staff_id, roles=self.roles)

    # -- changes --------------------------------------------------------------

    def change_roles(self, roles: Iterable[Role | str], *, by: Actor, now: datetime) -> None:
        """Replace the member's roles.

        Raises NotAuthorized (not an admin, granting oneself a role, or taking away one's own
        admin role), InvalidTransition (revoked), InvalidInput (no role, admin with approver,
        nothing changed).
        """
        self._require_active(CHANGE_STAFF, by)
        new = _RolesChange.model_validate({"roles": _values(roles)}).roles
        _refuse_self_grant(self.staff_id, new - self.roles, by)
        if Role.ADMIN in self.roles - new and by.id == self.staff_id:
            raise NotAuthorized(
                "an admin may not take away their own admin role; ask another", actor=by.id
            )
        if new == self.roles:
            raise InvalidInput.of("roles", f"{self.staff_id} already holds exactly these roles")
        self._roles_changed(roles=sorted(new), actor=by.id, timestamp=self._after(now))

    @event(staff_events.RolesChanged)
    def _roles_changed(self, roles: list[str], actor: str, timestamp: datetime) -> None:
        self.roles = frozenset(Role(r) for r in roles)
        self.role_history.append((timestamp, self.roles))

    def change_languages(self, languages: Iterable[str], *, by: Actor, now: datetime) -> None:
        """Replace the languages the member serves. Raises NotAuthorized, InvalidTransition,
        InvalidInput."""
        self._require_active(CHANGE_STAFF, by)
        new = _LanguagesChange.model_validate({"languages": _values(languages)}).languages
        if new == self.languages:
            raise InvalidInput.of("languages", f"{self.staff_id} already serves these languages")
        self._languages_changed(languages=list(new), actor=by.id, timestamp=self._after(now))

    @event(staff_events.LanguagesChanged)
    def _languages_changed(self, languages: list[str], actor: str, timestamp: datetime) -> None:
        self.languages = tuple(languages)

    def register_key(self, public_key: str, *, by: Actor, now: datetime) -> None:
        """Rotate to a new key from ``now``; the old key stays on record for older signatures.

        A key the member held before may not come back (a leaked old key stays retired).
        Raises NotAuthorized, InvalidTransition (revoked), InvalidInput.
        """
        self._require_active(CHANGE_STAFF, by)
        key = _KeyChange.model_validate({"public_key": public_key}).public_key
        if any(period.public_key == key for period in self.keys):
            raise InvalidInput.of("public_key", f"{self.staff_id} has already held this key")
        self._key_registered(public_key=key, actor=by.id, timestamp=self._after(now))

    @event(staff_events.KeyRegistered)
    def _key_registered(self, public_key: str, actor: str, timestamp: datetime) -> None:
        self.keys[-1] = KeyPeriod(self.keys[-1].public_key, self.keys[-1].valid_from, timestamp)
        self.keys.append(KeyPeriod(public_key, timestamp, None))

    def revoke(self, *, by: Actor, now: datetime) -> None:
        """Take away every right to act from ``now``; the member's past signatures still verify.

        Raises NotAuthorized (not an admin, or revoking oneself), InvalidTransition (already
        revoked), InvalidInput.
        """
        self._require_active(REVOKE_STAFF, by)
        if by.id == self.staff_id:
            raise NotAuthorized("an admin may not revoke themselves; ask another", actor=by.id)
        self._revoked(actor=by.id, timestamp=self._after(now))

    @event(staff_events.Revoked)
    def _revoked(self, actor: str, timestamp: datetime) -> None:
        self.keys[-1] = KeyPeriod(self.keys[-1].public_key, self.keys[-1].valid_from, timestamp)
        self.status = REVOKED
        self.revoked_at = timestamp

    # -- rules ----------------------------------------------------------------

    def _require_active(self, action: str, by: Actor) -> None:
        require_permission(by, action)
        if not self.active:
            raise InvalidTransition(
                f"{self.staff_id} has been revoked; a revoked member cannot be changed",
                action=action,
                status=self.status,
                allowed=(ACTIVE,),
            )

    def _after(self, now: datetime) -> datetime:
        """``now``, refused when before the member's latest change: key periods must not cross."""
        _aware(now, "now")
        if now < self.modified_on:
            raise InvalidInput.of(
                "now", f"is before the member's last change at {self.modified_on}"
            )
        return now


def _values(values: Iterable[Any]) -> Any:
    """A list of the values; a bare string is one value, not its letters. Anything else is
    passed on as is, for validation to refuse with InvalidInput."""
    if isinstance(values, str):
        return [values]
    if isinstance(values, Iterable) and not isinstance(values, bytes | bytearray | dict):
        return list(values)
    return values


def _refuse_self_grant(member: str, granted: frozenset[Role], by: Actor) -> None:
    """No one gives themselves a role; registering oneself as the first admin is the exception."""
    if by.id == member and granted - {Role.ADMIN}:
        raise NotAuthorized(
            f"{by.id} may not grant themselves {', '.join(sorted(granted - {Role.ADMIN}))}",
            actor=by.id,
        )


FOUNDING = uuid5(STAFF, "founding")


class Founding(Aggregate):
    """The directory's first admin, recorded once: saved with that admin's registration, so
    of two first admins registered at once the second one's save fails."""

    @staticmethod
    def create_id(first_admin: str) -> UUID:
        """One founding per directory, whoever founds it."""
        return FOUNDING

    @classmethod
    def found(cls, first_admin: Staff) -> Founding:
        """The founding by ``first_admin``, as registered by themselves."""
        return cls(
            first_admin=first_admin.staff_id,
            actor=first_admin.staff_id,
            timestamp=first_admin.created_on,
        )

    @event("Founded")
    def __init__(self, first_admin: str, actor: str, timestamp: datetime) -> None:
        self.first_admin = first_admin
