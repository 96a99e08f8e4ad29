"""With a master key the refund's recipient, the claimant's own wallet, is recorded in the
payout instructions sealed under the claimant's key: the table never holds it in clear, the
ledger opens it, and once the claimant is forgotten it reads as erased and nothing more is paid
to them. The claim itself records a pseudonym (see test_sealed_sender)."""

from __future__ import annotations

import base64
import os
from uuid import UUID

import pytest
from eth_utils import to_checksum_address
from pydantic import SecretStr

from dispute_engine import Actor, DisputeEngine, ProposeDecision
from dispute_engine.database import Database
from dispute_engine.errors import PersonalDataErased
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.ports import PayoutInstruction, PayoutReceipt
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, sealed_settings, stored_rows, transaction
from tests.integration.test_sealed_claim import address_stored_anywhere

WALLET = to_checksum_address("0x5eed00000000000000000000000000c0dEaDbEeF")
REFUND = ProposeDecision(outcome="refund", rationale="never credited", overrides=UNCHECKED)


def approved_refund(engine: DisputeEngine, alice: Actor, bob: Actor) -> UUID:
    dispute = file_dispute(engine, alice, transaction=transaction(sender=WALLET))
    engine.assign(dispute, investigator="alice", by=alice)
    engine.propose_decision(dispute, REFUND, by=alice)
    engine.approve_decision(dispute, by=bob)
    return dispute


def ledger(engine: DisputeEngine) -> PayoutLedger:
    gateway = engine._core.payout_gateway
    assert isinstance(gateway, PayoutLedger)
    return gateway


def raw_addresses(engine: DisputeEngine) -> list[str]:
    db = engine._core.db
    rows = db.fetchall(f"SELECT to_address FROM {db.table('payout_instructions')}")
    return [str(r["to_address"]) for r in rows]


def test_the_payout_table_holds_the_address_sealed_and_the_ledger_opens_it(
    keyed: DisputeEngine, alice: Actor, bob: Actor, db_url: str
):
    keyed.execute_decision(approved_refund(keyed, alice, bob), by=bob)
    [instruction] = ledger(keyed).instructions()
    assert instruction["to_address"] == WALLET
    [stored] = raw_addresses(keyed)
    assert stored.startswith("pd1.")
    keyed.projections.catch_up()
    assert address_stored_anywhere(db_url, WALLET) == []


def test_after_forgetting_the_address_is_erased_and_nothing_more_is_paid(
    keyed: DisputeEngine, alice: Actor, bob: Actor
):
    paid = approved_refund(keyed, alice, bob)
    keyed.execute_decision(paid, by=bob)
    waiting = approved_refund(keyed, alice, bob)
    uncredited = file_dispute(keyed, alice, transaction=transaction(sender=WALLET))
    keyed.assign(uncredited, investigator="alice", by=alice)
    keyed.forget_claimant("user-1842", by=bob)
    assert [i["to_address"] for i in ledger(keyed).instructions()] == ["[erased]"]
    before = stored_rows(keyed)
    with pytest.raises(PersonalDataErased):
        keyed.execute_decision(waiting, by=bob)
    with pytest.raises(PersonalDataErased):
        keyed.grant_provisional_credit(uncredited, by=bob)
    assert stored_rows(keyed) == before
    assert keyed.get(waiting).status == "approved"
    assert keyed.get(uncredited).provisional_credits == []


class ForgettingMidPayment(PayoutLedger):
    """A rail during whose first payment the claimant is forgotten (by another desk)."""

    engine: DisputeEngine | None = None
    by: Actor | None = None

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        receipt = super().pay(instruction)
        if self.engine is not None and self.by is not None:
            engine, self.engine = self.engine, None
            engine.forget_claimant(instruction.claimant_id, by=self.by)
        return receipt


def test_a_payout_begun_before_the_forgetting_is_completed_once(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    rail: list[ForgettingMidPayment] = []

    def gateway(db: Database) -> ForgettingMidPayment:
        rail.append(ForgettingMidPayment(db))
        return rail[0]

    engine = DisputeEngine.open(
        db_url, clock=clock, settings=sealed_settings(master_key=key), payout_gateway=gateway
    )
    try:
        dispute = approved_refund(engine, alice, bob)
        rail[0].engine, rail[0].by = engine, bob
        reference = engine.execute_decision(dispute, by=bob)  # the save clashes, then retries
        view = engine.get(dispute)
        assert (view.status, reference) == ("resolved", f"ledger:{dispute}:1")
        assert len(rail[0].instructions()) == 1
    finally:
        engine.shutdown()


def test_without_a_master_key_the_address_is_recorded_as_given(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    engine.execute_decision(approved_refund(engine, alice, bob), by=bob)
    assert raw_addresses(engine) == [WALLET]
