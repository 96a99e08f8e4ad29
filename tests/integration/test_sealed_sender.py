"""With a master key, the claimant's wallet (the claimed transaction's sender, where a refund
goes) is recorded nowhere in clear: the claim records a pseudonym and keeps the address sealed;
the chain's facts name the pseudonym in its place; the challenge the claimant signs, the payout
and the view open the real address. A whole case on a real node (anvil), on SQLite and
PostgreSQL, leaves the address in no table, before and after the claimant is forgotten."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from dispute_engine import Actor, DisputeEngine, FileDispute, ProposeDecision, Role
from dispute_engine.bundle import verify_bundle
from dispute_engine.domain.claim import address_pseudonym
from dispute_engine.domain.decision_signing import SignedAction
from dispute_engine.domain.dispute import Dispute
from dispute_engine.errors import PersonalDataErased, PersonalDataRefused
from dispute_engine.identity import Identity, verify_signature
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.settings import Settings
from projections.feed import without_personal_data
from tests.chain_node import ANVIL_CHAIN_ID, TEST_TOKENS, Anvil, anvil
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, filing, sealed_settings, stored_rows
from tests.integration.test_chain import claim_for
from tests.integration.test_claimant_identity import signed
from tests.integration.test_sealed_claim import address_stored_anywhere
from tests.integration.test_signed_approvals import Desk, approval_statement, proposed

REFUND = ProposeDecision(outcome="refund", rationale="never credited", overrides=["checklist"])


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with anvil() as running:
        yield running


@pytest.fixture
def on_chain(db_url: str, node: Anvil) -> Iterator[DisputeEngine]:
    """An engine with a master key and a sealing key, on the node."""
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    settings = sealed_settings(
        master_key=key, chains={ANVIL_CHAIN_ID: node.url}, tokens=TEST_TOKENS
    )
    engine = DisputeEngine.open(
        db_url, clock=FakeClock(datetime.now(UTC) + timedelta(minutes=5)), settings=settings
    )
    yield engine
    engine.shutdown()


def fresh_wallet(node: Anvil) -> LocalAccount:
    """A wallet made for this test (found nowhere else), funded, able to send on the node."""
    wallet: LocalAccount = Account.create()
    node.rpc("anvil_setBalance", wallet.address, hex(10**19))
    node.rpc("anvil_impersonateAccount", wallet.address)
    return wallet


def ledger(engine: DisputeEngine) -> PayoutLedger:
    gateway = engine._core.payout_gateway
    assert isinstance(gateway, PayoutLedger)
    return gateway


def test_a_whole_case_stores_the_claimants_wallet_in_no_table(
    on_chain: DisputeEngine, node: Anvil, db_url: str, alice: Actor, bob: Actor, tmp_path: Path
):
    engine = on_chain
    wallet = fresh_wallet(node)
    sent = node.send(wallet.address, node.accounts[2], 10**18)
    dispute = file_dispute(engine, alice, transaction=claim_for(node, sent))
    engine.assign(dispute, investigator="alice", by=alice)
    facts = engine.look_up_transaction(dispute, by=alice)
    assert (facts.mismatches, facts.sender) == ([], wallet.address)
    challenge = engine.issue_identity_challenge(dispute, by=alice)
    assert f"Wallet: {wallet.address}" in challenge.message
    engine.verify_identity(
        dispute, method="wallet_signature", signature=signed(wallet, challenge.message), by=alice
    )
    engine.propose_decision(dispute, REFUND, by=alice)
    engine.approve_decision(dispute, by=bob)
    engine.execute_decision(dispute, by=bob)
    view = engine.get(dispute)
    assert view.identity_verified
    assert view.claim.transaction.sender == wallet.address
    assert view.chain_facts is not None
    assert view.chain_facts.sender == wallet.address
    assert [i["to_address"] for i in ledger(engine).instructions()] == [wallet.address]
    pseudonym = address_pseudonym(dispute, wallet.address)
    assert engine.state_at(dispute, version=1).claim.transaction.sender == "[sealed]"
    [filed] = [e for e in engine.history(dispute) if e.name == "Filed"]
    assert filed.data["claim"]["transaction"]["sender"] == pseudonym
    published = without_personal_data(filed.data)  # as the event feed publishes it
    assert published["claim"]["transaction"]["sender"] == pseudonym
    assert "sender" not in published["claim"]  # the envelope is dropped
    engine.projections.catch_up()
    assert address_stored_anywhere(db_url, wallet.address) == []

    engine.forget_claimant("user-1842", by=bob)
    engine.projections.catch_up()
    assert engine.get(dispute).claim.transaction.sender == "[erased]"
    report = engine.verify_audit_log()
    assert report.ok, report.problems
    assert engine.verify_decision_signatures() == []
    engine.audit.export_bundle(tmp_path / "bundle", dispute_id=dispute)
    assert verify_bundle(tmp_path / "bundle").ok
    assert wallet.address.lower()[2:] not in (tmp_path / "bundle" / "events.jsonl").read_text()
    assert address_stored_anywhere(db_url, wallet.address) == []


def test_a_claim_naming_another_sender_than_the_chain_is_a_sender_mismatch(
    on_chain: DisputeEngine, node: Anvil, alice: Actor
):
    wallet, other = fresh_wallet(node), fresh_wallet(node)
    sent = node.send(wallet.address, node.accounts[2], 10**18)
    claim = claim_for(node, sent, sender=other.address)
    dispute = file_dispute(on_chain, alice, transaction=claim)
    on_chain.assign(dispute, investigator="alice", by=alice)
    facts = on_chain.look_up_transaction(dispute, by=alice)
    assert facts.mismatches == ["sender"]
    assert facts.sender == wallet.address  # not the claimant's: as the chain gives it


def swapped(engine: DisputeEngine, alice: Actor, envelope: str) -> UUID:
    """A dispute filed by alice whose sealed sender is replaced by ``envelope``."""
    command = FileDispute.model_validate(filing())
    claim = command.claim.model_copy(update={"jurisdiction": "US"})
    sealed = engine.claimants.seal_claim(claim)
    assert sealed is not None
    dispute = Dispute.file(
        claim,
        idempotency_key=command.idempotency_key,
        by=alice,
        now=engine.now(),
        sealed={**sealed, "sender": envelope},
    )
    engine._core.save(dispute)
    engine.assign(dispute.id, investigator="alice", by=alice)
    return dispute.id


@pytest.mark.parametrize("whose", ["another address", "another claimant"])
def test_a_sealed_sender_swapped_for_another_envelope_is_never_paid(
    keyed: DisputeEngine, alice: Actor, bob: Actor, whose: str
):
    claimant = "user-1842" if whose == "another address" else "user-9999"
    stranger = Account.create().address
    envelope = keyed.claimants.seal(claimant, "claim.sender", stranger)
    dispute = swapped(keyed, alice, envelope)
    before = stored_rows(keyed)
    with pytest.raises(PersonalDataRefused):
        keyed.issue_identity_challenge(dispute, by=alice)
    assert stored_rows(keyed) == before
    refund = ProposeDecision(outcome="refund", rationale="x", overrides=UNCHECKED)
    keyed.propose_decision(dispute, refund, by=alice)
    keyed.approve_decision(dispute, by=bob)
    before = stored_rows(keyed)
    with pytest.raises(PersonalDataRefused):
        keyed.execute_decision(dispute, by=bob)
    assert stored_rows(keyed) == before
    assert ledger(keyed).instructions() == []
    assert keyed.history(dispute)[-1].name == "DecisionApproved"


def test_a_forgotten_claimant_is_neither_challenged_nor_paid(
    keyed: DisputeEngine, alice: Actor, bob: Actor
):
    dispute = file_dispute(keyed, alice)
    keyed.assign(dispute, investigator="alice", by=alice)
    keyed.forget_claimant("user-1842", by=bob)
    before = stored_rows(keyed)
    with pytest.raises(PersonalDataErased):
        keyed.issue_identity_challenge(dispute, by=alice)
    assert stored_rows(keyed) == before


def test_without_a_master_key_the_claim_records_the_sender_as_given(
    engine: DisputeEngine, alice: Actor, db_url: str
):
    wallet = Account.create().address
    dispute = file_dispute(engine, alice, transaction={"sender": wallet})
    [filed] = [e for e in engine.history(dispute) if e.name == "Filed"]
    assert filed.data["claim"]["transaction"]["sender"] == wallet
    assert "sender" not in filed.data["claim"]
    assert engine.get(dispute).claim.transaction.sender == wallet
    assert address_stored_anywhere(db_url, wallet) != []  # so the scan can fail


def test_signed_decisions_name_the_pseudonym_and_still_verify_after_forgetting(
    db_url: str, clock: FakeClock
):
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    engine = DisputeEngine.open(
        db_url, clock=clock, settings=sealed_settings(master_key=key, require_directory=True)
    )
    try:
        root = Identity.generate("root")
        engine.init_staff("root", public_key=root.public_key_hex, languages=["en"])
        desk = Desk(engine, {"root": root})
        desk.add("alice", Role.INVESTIGATOR)
        desk.add("bob", Role.APPROVER)
        wallet = Account.create().address
        dispute = proposed(desk, transaction={"sender": wallet})
        engine.approve_decision(dispute, by=desk.actor("bob"))
        engine.execute_decision(dispute, by=desk.actor("bob"))
        executed = approval_statement(engine, dispute, SignedAction.EXECUTE)
        assert address_pseudonym(dispute, wallet).encode() in executed
        assert wallet.encode() not in executed
        engine.forget_claimant("user-1842", by=desk.actor("bob"))
        [signature] = [
            e.data["signature"] for e in engine.history(dispute) if e.name == "DecisionExecuted"
        ]
        assert verify_signature(desk.keys["bob"].public_key_hex, executed, signature)
        assert engine.verify_decision_signatures() == []
        engine.projections.catch_up()
        report = engine.verify_audit_log()
        assert report.ok, report.problems
        assert address_stored_anywhere(db_url, wallet) == []
    finally:
        engine.shutdown()


def test_a_claim_filed_without_a_master_key_is_paid_to_its_clear_sender_with_one(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    wallet = Account.create().address
    before = DisputeEngine.open(db_url, clock=clock)
    try:
        dispute = file_dispute(before, alice, transaction={"sender": wallet})
    finally:
        before.shutdown()
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    engine = DisputeEngine.open(db_url, clock=clock, settings=Settings(master_key=key))
    try:
        engine.assign(dispute, investigator="alice", by=alice)
        challenge = engine.issue_identity_challenge(dispute, by=alice)
        assert f"Wallet: {wallet}" in challenge.message
        refund = ProposeDecision(outcome="refund", rationale="x", overrides=UNCHECKED)
        engine.propose_decision(dispute, refund, by=alice)
        engine.approve_decision(dispute, by=bob)
        engine.execute_decision(dispute, by=bob)
        assert [i["to_address"] for i in ledger(engine).instructions()] == [wallet]
        assert engine.get(dispute).claim.transaction.sender == wallet
    finally:
        engine.shutdown()


def test_an_engine_without_the_master_key_pays_no_sealed_sender(
    db_url: str, clock: FakeClock, alice: Actor, bob: Actor
):
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    sealing = DisputeEngine.open(db_url, clock=clock, settings=Settings(master_key=key))
    try:
        dispute = file_dispute(sealing, alice)
        sealing.assign(dispute, investigator="alice", by=alice)
        refund = ProposeDecision(outcome="refund", rationale="x", overrides=UNCHECKED)
        sealing.propose_decision(dispute, refund, by=alice)
        sealing.approve_decision(dispute, by=bob)
    finally:
        sealing.shutdown()
    engine = DisputeEngine.open(db_url, clock=clock)
    try:
        before = stored_rows(engine)
        with pytest.raises(PersonalDataRefused, match="no master key"):
            engine.execute_decision(dispute, by=bob)
        assert stored_rows(engine) == before
        assert engine.get(dispute).claim.transaction.sender == "[sealed]"
    finally:
        engine.shutdown()
