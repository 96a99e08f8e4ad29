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
from dispute_engine.errors import InvalidTransition, PersonalDataErased
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
    """A rail during whose first payment another desk tries to forget the claimant."""

    engine: DisputeEngine | None = None
    by: Actor | None = None
    refused: list[InvalidTransition]

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        receipt = super().pay(instruction)
        if self.engine is not None and self.by is not None:
            engine, self.engine = self.engine, None
            try:
                engine.forget_claimant(instruction.claimant_id, by=self.by)
            except InvalidTransition as refused:
                self.refused = [refused]
        return receipt


class DyingAfterPaying(PayoutLedger):
    """A rail whose process dies once after paying, before the engine records the payout."""

    dies = True

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        receipt = super().pay(instruction)
        if self.dies:
            self.dies = False
            raise KeyboardInterrupt  # the process ends here: nothing after it runs
        return receipt


def keyed_with(
    db_url: str, clock: FakeClock, rail: list[PayoutLedger], kind: type
) -> DisputeEngine:
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())

    def gateway(db: Database) -> PayoutLedger:
        rail.append(kind(db))
        return rail[0]

    return DisputeEngine.open(
        db_url, clock=clock, settings=sealed_settings(master_key=key), payout_gateway=gateway
    )


def test_forgetting_waits_for_a_payout_under_way_which_completes_once(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    rail: list[PayoutLedger] = []
    engine = keyed_with(db_url, clock, rail, ForgettingMidPayment)
    try:
        dispute = approved_refund(engine, alice, bob)
        mid = rail[0]
        assert isinstance(mid, ForgettingMidPayment)
        mid.engine, mid.by = engine, bob
        reference = engine.execute_decision(dispute, by=bob)
        [refused] = mid.refused
        assert (refused.action, refused.allowed, refused.dispute_id) == (
            "forget_claimant",
            ("execute_decision",),
            dispute,
        )
        view = engine.get(dispute)
        assert (view.status, reference) == ("resolved", f"ledger:{dispute}:1")
        assert view.claim.transaction.sender == WALLET  # the key was not destroyed
        assert engine.forget_claimant("user-1842", by=bob) == [dispute]  # now it can go
        assert len(mid.instructions()) == 1
    finally:
        engine.shutdown()


def test_a_payout_cut_off_after_paying_blocks_forgetting_until_it_is_recorded(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    rail: list[PayoutLedger] = []
    engine = keyed_with(db_url, clock, rail, DyingAfterPaying)
    try:
        dispute = approved_refund(engine, alice, bob)
        with pytest.raises(KeyboardInterrupt):
            engine.execute_decision(dispute, by=bob)
        assert engine.get(dispute).status == "approved"  # paid, not recorded
        before = stored_rows(engine)
        with pytest.raises(InvalidTransition, match="payout begun and not recorded") as refused:
            engine.forget_claimant("user-1842", by=bob)
        assert refused.value.allowed == ("execute_decision",)
        assert stored_rows(engine) == before
        assert engine.get(dispute).claim.transaction.sender == WALLET  # nothing destroyed
        assert engine.execute_decision(dispute, by=bob) == f"ledger:{dispute}:1"
        assert len(rail[0].instructions()) == 1  # the rail found its first payment
        assert engine.forget_claimant("user-1842", by=bob) == [dispute]
    finally:
        engine.shutdown()


def test_without_a_master_key_the_address_is_recorded_as_given(
    engine: DisputeEngine, alice: Actor, bob: Actor
):
    engine.execute_decision(approved_refund(engine, alice, bob), by=bob)
    assert raw_addresses(engine) == [WALLET]
