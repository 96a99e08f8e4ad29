"""The public error hierarchy (see :mod:`dispute_engine.domain.errors`)."""

from dispute_engine.domain.errors import (
    ChainUnavailable,
    ConcurrencyConflict,
    DisputeEngineError,
    DisputeNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    PayoutFailed,
)

__all__ = [
    "ChainUnavailable",
    "ConcurrencyConflict",
    "DisputeEngineError",
    "DisputeNotFound",
    "IdempotencyKeyReused",
    "InvalidInput",
    "InvalidTransition",
    "NotAuthorized",
    "PayoutFailed",
]
