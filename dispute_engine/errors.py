"""The public error hierarchy (see :mod:`dispute_engine.domain.errors`)."""

from dispute_engine.domain.errors import (
    ChainMismatch,
    ChainNotConfigured,
    ChainUnavailable,
    ConcurrencyConflict,
    CorruptHistory,
    DisputeEngineError,
    DisputeNotFound,
    EngineShutDown,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    PayoutFailed,
    StorageUnavailable,
)

__all__ = [
    "ChainMismatch",
    "ChainNotConfigured",
    "ChainUnavailable",
    "ConcurrencyConflict",
    "CorruptHistory",
    "DisputeEngineError",
    "DisputeNotFound",
    "EngineShutDown",
    "IdempotencyKeyReused",
    "InvalidInput",
    "InvalidTransition",
    "NotAuthorized",
    "PayoutFailed",
    "StorageUnavailable",
]
