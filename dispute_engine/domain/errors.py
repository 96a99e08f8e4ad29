"""The errors every caller of the engine sees.

DisputeEngineError
├── InvalidInput (ValueError)            bad input; nothing was written
│   ├── IdempotencyKeyReused             same key, different filing
│   └── MalformedSignature               not a signature, or not over a challenge
├── InvalidTransition                    command not allowed in the current status
├── NotAuthorized (PermissionError)      missing role, or four-eyes rule broken
│   ├── SignatureRefused                 a wallet signature by the wrong signer
│   │   ├── ChallengeExpired             signed after the challenge's expiry
│   │   ├── ChallengeReused              the challenge's nonce was already used
│   │   └── IdentityMethodLocked         five failed wallet signatures locked the method
│   └── DecisionSignatureRefused         a decision step unsigned, or not by the member's key
├── DisputeNotFound (LookupError)        no dispute with that id (at that moment)
├── StaffNotFound (LookupError)          no member of the staff directory with that id
├── ConcurrencyConflict                  another writer saved first; reload and retry
├── ChainUnavailable (ConnectionError)   node down, refusing or too slow; retriable
│   └── ChainMismatch                    the node is on another chain than configured
├── ChainNotConfigured (LookupError)     no node for the dispute's chain
├── StorageUnavailable (ConnectionError) the database cannot be opened, reached or written
├── CorruptHistory                       a stored event is unreadable or missing
├── EvidenceAltered                      evidence bytes no longer have their sha256
├── EngineShutDown                       the engine was shut down; open a new one
├── PayoutFailed                         the payout rail refused; nothing was recorded
├── PayoutRefused                        the payout breaks the gateway's own checks (decimals,
│                                        limits); nothing was paid, the dispute stays approved
├── PersonalDataErased                   the claimant was forgotten: their data key is destroyed
├── PersonalDataRefused (ValueError)     a sealed field is damaged, or another claimant's or field's
├── FeedUnavailable (ConnectionError)    the event feed's broker is down or did not acknowledge
└── IdentityFileRefused (PermissionError) a private key file missing, malformed or too open
    └── KeyFileTooOpen                   readable or writable by group or others
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID


class DisputeEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str, *, dispute_id: UUID | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.dispute_id = dispute_id

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state, so an error crosses a process boundary whatever its signature."""
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(
    kind: type[DisputeEngineError], args: tuple[Any, ...], state: dict[str, Any]
) -> DisputeEngineError:
    """An error restored from a pickle: its arguments and attributes, without ``__init__``."""
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InvalidInput(DisputeEngineError, ValueError):
    """Raised when a command's input is malformed; nothing was written.

    ``errors`` lists each problem as ``{"field": "transaction.tx_hash", "message": ...}``.
    """

    def __init__(
        self,
        errors: Iterable[Mapping[str, Any]],
        *,
        dispute_id: UUID | None = None,
    ) -> None:
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        super().__init__(f"invalid input: {message}", dispute_id=dispute_id)

    @classmethod
    def of(cls, field: str, message: str, *, dispute_id: UUID | None = None) -> InvalidInput:
        """One problem with one field."""
        return cls([{"field": field, "message": message}], dispute_id=dispute_id)

    @property
    def fields(self) -> list[str]:
        """The dotted paths of the fields at fault."""
        return [str(e["field"]) for e in self.errors]


class IdempotencyKeyReused(InvalidInput):
    """Raised when an idempotency key comes back with a different filing."""


class MalformedSignature(InvalidInput):
    """Raised when a signature or a signed challenge cannot be read at all; nothing was written."""


class InvalidTransition(DisputeEngineError):
    """Raised when a command is not allowed in the dispute's current status."""

    def __init__(
        self,
        message: str,
        *,
        action: str,
        status: str,
        allowed: Iterable[str],
        dispute_id: UUID | None = None,
    ) -> None:
        super().__init__(message, dispute_id=dispute_id)
        self.action = action
        self.status = status
        self.allowed = tuple(allowed)


class NotAuthorized(DisputeEngineError, PermissionError):
    """Raised when the actor lacks the role, or the four-eyes rule would be broken."""

    def __init__(self, message: str, *, actor: str, dispute_id: UUID | None = None) -> None:
        super().__init__(message, dispute_id=dispute_id)
        self.actor = actor


class DisputeNotFound(DisputeEngineError, LookupError):
    """Raised when no dispute has the id (or none existed at the moment asked for)."""


class ConcurrencyConflict(DisputeEngineError):
    """Raised when another writer saved the dispute first; reload and retry is safe."""


class ChainUnavailable(DisputeEngineError, ConnectionError):
    """Raised when a chain node is down, refuses, answers garbage or times out.

    Retriable: nothing was recorded.
    """

    def __init__(self, message: str, *, chain_id: int | None = None) -> None:
        super().__init__(message)
        self.chain_id = chain_id


class ChainMismatch(ChainUnavailable):
    """Raised when a node reports a different chain id than it is configured for."""


class ChainNotConfigured(DisputeEngineError, LookupError):
    """Raised when a dispute's chain has no node configured."""


class StorageUnavailable(DisputeEngineError, ConnectionError):
    """Raised when the database cannot be opened or reached; nothing was recorded."""


class CorruptHistory(DisputeEngineError):
    """Raised when a dispute's stored events cannot be read back: one is altered or missing.

    ``version`` is the first version that is unreadable or absent. Nothing was written.
    """

    def __init__(self, message: str, *, dispute_id: UUID, version: int) -> None:
        super().__init__(message, dispute_id=dispute_id)
        self.version = version


class EvidenceAltered(DisputeEngineError):
    """Raised when stored evidence bytes no longer hash to the sha256 they were stored under.

    ``sha256`` names the evidence. Nothing is returned.
    """

    def __init__(self, message: str, *, sha256: str) -> None:
        super().__init__(message)
        self.sha256 = sha256


class EngineShutDown(DisputeEngineError):
    """Raised when an engine is used after ``shutdown()``; open a new one."""


class PayoutFailed(DisputeEngineError):
    """Raised when the payout rail refuses an instruction; nothing was recorded."""


class SignatureRefused(NotAuthorized):
    """Raised when a claimant's wallet signature does not prove control of the claimed wallet.

    ``actor`` is the claimed wallet address.
    """


class DecisionSignatureRefused(NotAuthorized):
    """Raised when an approval, send-back or execution is not signed, or its signature does not
    verify against the key the directory holds for the acting member at that moment.

    Nothing was recorded.
    """


class StaffNotFound(DisputeEngineError, LookupError):
    """Raised when the staff directory has no member with the id. ``staff_id`` is canonical."""

    def __init__(self, message: str, *, staff_id: str) -> None:
        super().__init__(message)
        self.staff_id = staff_id


class ChallengeExpired(SignatureRefused):
    """Raised when a challenge is answered after its expiry."""


class ChallengeReused(SignatureRefused):
    """Raised when a challenge's nonce was already used or was never issued for the dispute."""


class IdentityMethodLocked(SignatureRefused):
    """Raised when a dispute's wallet-signature method is locked: five attempts failed.

    Nothing is recorded; the dispute's other identity methods stay open.
    """


class IdentityFileRefused(DisputeEngineError, PermissionError):
    """Raised when a private key file cannot be used: missing, unreadable or malformed.

    ``path`` is the file; nothing was signed.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class KeyFileTooOpen(IdentityFileRefused):
    """Raised when a private key file is readable or writable by its group or by others."""


class PayoutRefused(DisputeEngineError):
    """Raised when the payout gateway's own checks refuse an instruction before sending it:
    its decimals differ from the asset's, or it exceeds a per-payout or per-day limit.

    Nothing was paid and nothing was recorded; the dispute stays approved. ``reason`` is
    ``decimals``, ``per_payout`` or ``per_day``; ``approval_signature`` or ``unsealed_event``
    when the approval, or any stored event of the dispute, does not stand.
    """

    def __init__(self, message: str, *, reason: str, dispute_id: UUID | None = None) -> None:
        super().__init__(message, dispute_id=dispute_id)
        self.reason = reason


class PersonalDataErased(DisputeEngineError):
    """Raised when personal data is read after its claimant was forgotten (its key destroyed).

    Views show such a field as "[erased]". ``claimant_id`` is the forgotten claimant.
    """

    def __init__(self, message: str, *, claimant_id: str) -> None:
        super().__init__(message)
        self.claimant_id = claimant_id


class PersonalDataRefused(DisputeEngineError, ValueError):
    """Raised when an encrypted field cannot be opened: damaged, or sealed for another claimant,
    another field, or under a master key this engine does not hold; or when a sealed sender is
    not the address whose pseudonym the claim records."""


class FeedUnavailable(DisputeEngineError, ConnectionError):
    """Raised when the event feed's broker cannot be reached or did not acknowledge every event.

    ``last_position`` is the last position up to which every event was acknowledged (None when
    none was); publishing again from after it is safe, the broker drops duplicates.
    """

    def __init__(self, message: str, *, last_position: int | None) -> None:
        super().__init__(message)
        self.last_position = last_position
