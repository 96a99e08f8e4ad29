"""The public error hierarchy (see :mod:`dispute_engine.domain.errors`)."""

from dispute_engine.domain.errors import (
    ChainMismatch,
    ChainNotConfigured,
    ChainUnavailable,
    ConcurrencyConflict,
    DisputeEngineError,
    DisputeNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    PayoutFailed,
    PayoutRefused,
    StorageUnavailable,
)

__all__ = [
    "ChainMismatch",
    "ChainNotConfigured",
    "ChainUnavailable",
    "ConcurrencyConflict",
    "DisputeEngineError",
    "DisputeNotFound",
    "IdempotencyKeyReused",
    "InvalidInput",
    "InvalidTransition",
    "NotAuthorized",
    "PayoutFailed",
    "PayoutRefused",
    "StorageUnavailable",
]
