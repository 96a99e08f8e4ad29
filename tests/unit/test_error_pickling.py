"""Errors cross process boundaries intact (multiprocessing pools, executors)."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from uuid import UUID

import pytest

from dispute_engine.delivery.channel import DeliveryFailed
from dispute_engine.domain import errors

DISPUTE = UUID("00000000-0000-4000-8000-000000000001")

SAMPLES: list[errors.DisputeEngineError] = [
    errors.DisputeEngineError("plain", dispute_id=DISPUTE),
    errors.InvalidInput([{"field": "amount", "message": "must be positive"}], dispute_id=DISPUTE),
    errors.IdempotencyKeyReused.of("idempotency_key", "reused"),
    errors.InvalidTransition(
        "cannot close", action="close", status="filed", allowed=["withdraw"], dispute_id=DISPUTE
    ),
    errors.NotAuthorized("not an approver", actor="bob", dispute_id=DISPUTE),
    errors.ChainUnavailable("node down", chain_id=1),
    errors.CorruptHistory("unreadable", dispute_id=DISPUTE, version=3),
    errors.StaffNotFound("no such member", staff_id="carol"),
    errors.EvidenceAltered("bytes changed", sha256="ab" * 32),
    errors.KeyFileTooOpen("mode 0644", path="/tmp/key"),
    errors.PayoutRefused("over the limit", reason="limit", dispute_id=DISPUTE),
    errors.PersonalDataErased("forgotten", claimant_id="c-1"),
    errors.FeedUnavailable("broker down", last_position=7),
    DeliveryFailed("refused", retriable=False),
]


def _signature_owners() -> set[type[errors.DisputeEngineError]]:
    """Every error class that defines its own ``__init__``."""
    owners: set[type[errors.DisputeEngineError]] = set()
    pending: list[type[errors.DisputeEngineError]] = [errors.DisputeEngineError]
    while pending:
        kind = pending.pop()
        if "__init__" in vars(kind):
            owners.add(kind)
        pending.extend(kind.__subclasses__())
    return owners


def test_the_samples_cover_every_constructor_signature() -> None:
    sampled = {type(error) for error in SAMPLES}
    covered = {owner for owner in _signature_owners() if any(issubclass(s, owner) for s in sampled)}
    assert covered == _signature_owners()


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_an_error_survives_pickling_with_its_type_message_and_fields(
    error: errors.DisputeEngineError,
) -> None:
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is type(error)
    assert str(restored) == str(error)
    assert vars(restored) == vars(error)


def _refuse(amount: int) -> None:
    raise errors.InvalidInput.of("amount", f"{amount} is not allowed", dispute_id=DISPUTE)


def test_an_error_raised_in_a_worker_process_reaches_the_caller_typed() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_refuse, -5)
        with pytest.raises(errors.InvalidInput) as caught:
            future.result(timeout=60)
    assert caught.value.fields == ["amount"]
    assert caught.value.dispute_id == DISPUTE
