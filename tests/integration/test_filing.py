"""Filing disputes on SQLite and PostgreSQL: validation, idempotency, nothing half-written."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from dispute_engine import Actor, DisputeEngine, FileDispute, Settings
from dispute_engine.errors import IdempotencyKeyReused, InvalidInput, NotAuthorized
from tests.conftest import FakeClock
from tests.factories import file_dispute, filing, stored_rows


def test_filed_dispute_reads_back_with_its_normalised_claim(engine: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(
        engine, alice, transaction={"sender": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}
    )
    view = engine.get(dispute_id)
    assert view.status == "filed"
    assert view.version == 1
    assert view.claim.transaction.sender == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert view.disputed_amount == view.claim.transaction.amount
    assert str(view.disputed_amount) == "125.5"
    assert view.filed_by == "alice"


def test_retried_filing_returns_the_same_dispute_and_writes_nothing(
    engine: DisputeEngine, alice: Actor
):
    command = FileDispute.model_validate(filing())
    first = engine.file_dispute(command, by=alice)
    before = stored_rows(engine)
    assert engine.file_dispute(command, by=alice) == first
    assert stored_rows(engine) == before


def test_same_key_with_a_different_claim_is_refused(engine: DisputeEngine, alice: Actor):
    data = filing()
    engine.file_dispute(FileDispute.model_validate(data), by=alice)
    before = stored_rows(engine)
    changed = {**data, "transaction": {**data["transaction"], "amount": "99"}}
    with pytest.raises(IdempotencyKeyReused) as raised:
        engine.file_dispute(FileDispute.model_validate(changed), by=alice)
    assert raised.value.fields == ["idempotency_key"]
    assert stored_rows(engine) == before


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"transaction": {"tx_hash": "0xabc"}}, "transaction.tx_hash"),
    ({"transaction": {"tx_hash": "0x" + "zz" * 32}}, "transaction.tx_hash"),
    ({"transaction": {"tx_hash": "0x" + "ab" * 33}}, "transaction.tx_hash"),
    (
        {"transaction": {"sender": "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}},
        "transaction.sender",
    ),
    ({"transaction": {"recipient": "0x1234"}}, "transaction.recipient"),
    ({"transaction": {"amount": "0"}}, "transaction.amount"),
    ({"transaction": {"amount": "-5"}}, "transaction.amount"),
    ({"transaction": {"amount": "NaN"}}, "transaction.amount"),
    ({"transaction": {"amount": "Infinity"}}, "transaction.amount"),
    ({"transaction": {"amount": "1e999999"}}, "transaction.amount"),
    ({"transaction": {"amount": "1.0000001"}}, "transaction.amount"),
    ({"transaction": {"amount": 1.5}}, "transaction.amount"),
    ({"transaction": {"asset": "NOPE", "token_address": None}}, "transaction.decimals"),
    ({"transaction": {"occurred_at": "2026-11-20T08:15:00"}}, "transaction.occurred_at"),
    ({"transaction": {"chain_id": 0}}, "transaction.chain_id"),
    ({"channel": "fax"}, "channel"),
    ({"language": "not a tag!"}, "language"),
    ({"jurisdiction": "United States"}, "jurisdiction"),
    ({"priority": "whenever"}, "priority"),
    ({"reason": "bored"}, "reason"),
    ({"description": ""}, "description"),
    ({"description": "x" * 4001}, "description"),
    ({"claimant_id": "a\x00b"}, "claimant_id"),
    ({"idempotency_key": ""}, "idempotency_key"),
    ({"surprise": "field"}, "surprise"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_FIELDS)
def test_bad_filing_names_the_field_and_writes_nothing(
    engine: DisputeEngine, alice: Actor, overrides: dict[str, Any], field: str
):
    before = stored_rows(engine)
    with pytest.raises(InvalidInput) as raised:
        file_dispute(engine, alice, **overrides)
    assert field in raised.value.fields
    assert isinstance(raised.value, ValueError)
    assert stored_rows(engine) == before


def test_transaction_in_the_future_is_refused_and_nothing_written(
    engine: DisputeEngine, alice: Actor, clock: FakeClock
):
    before = stored_rows(engine)
    future = (clock.now + timedelta(hours=1)).isoformat()
    with pytest.raises(InvalidInput) as raised:
        file_dispute(engine, alice, transaction={"occurred_at": future})
    assert raised.value.fields == ["transaction.occurred_at"]
    assert stored_rows(engine) == before


def test_auditor_cannot_file(engine: DisputeEngine, auditor: Actor):
    before = stored_rows(engine)
    with pytest.raises(NotAuthorized):
        file_dispute(engine, auditor)
    assert stored_rows(engine) == before


def test_missing_jurisdiction_takes_the_configured_default(engine: DisputeEngine, alice: Actor):
    dispute_id = file_dispute(engine, alice, jurisdiction=None)
    assert engine.get(dispute_id).claim.jurisdiction == engine.settings.default_jurisdiction


def test_the_default_jurisdiction_is_checked_as_a_claims_own(
    db_url: str, clock: FakeClock, alice: Actor
):
    with pytest.raises(ValidationError, match="ISO 3166"):
        Settings(default_jurisdiction="nonsense")
    engine = DisputeEngine.open(
        db_url, clock=clock, settings=Settings(default_jurisdiction="us-ca")
    )
    try:
        dispute_id = file_dispute(engine, alice, jurisdiction=None)
        assert engine.get(dispute_id).claim.jurisdiction == "US-CA"
        [filed] = engine.history(dispute_id)
        assert filed.data["claim"]["jurisdiction"] == "US-CA"  # as recorded, not as given
    finally:
        engine.shutdown()


def test_concurrent_retries_of_one_filing_make_one_dispute(engine: DisputeEngine, alice: Actor):
    command = FileDispute.model_validate(filing())
    ids: list[object] = []
    barrier = threading.Barrier(6)

    def retry() -> None:
        barrier.wait()
        ids.append(engine.file_dispute(command, by=alice))

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6
    assert len(set(ids)) == 1
    assert stored_rows(engine)[0] == 1
