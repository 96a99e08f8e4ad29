"""Money the chain can vouch for: overrides, the chain-verified bound, decimals at filing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine import Actor, ClaimedTransaction, FileDispute, Role
from dispute_engine.commands import ProposeDecision
from dispute_engine.domain import events
from dispute_engine.domain.chain_facts import (
    ChainFacts,
    Comparison,
    compare,
    required_overrides,
    verified_units,
)
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.dispute import Dispute
from dispute_engine.errors import InvalidInput
from dispute_engine.views import DisputeView
from tests.factories import RECIPIENT, SENDER, USDT, filing, transaction

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
BOB = Actor(id="bob", roles={Role.APPROVER})
CLAIMED_UNITS = 125_500_000  # 125.50 USDT


def facts(**changes: Any) -> ChainFacts:
    data: dict[str, Any] = {
        "chain_id": 1,
        "tx_hash": "0x" + "ab" * 32,
        "status": "success",
        "block_number": 10,
        "block_time": "2026-11-20T08:15:00Z",
        "sender": SENDER,
        "recipient": USDT,
        "native_asset": "ETH",
        "native_decimals": 18,
        "token_transfers": [
            {
                "token_address": USDT,
                "sender": SENDER,
                "recipient": RECIPIENT,
                "units": CLAIMED_UNITS,
                "decimals": 6,
                "log_index": 0,
            }
        ],
        "observed_at": NOW,
    }
    return ChainFacts.model_validate({**data, **changes})


def investigating() -> Dispute:
    command = FileDispute.model_validate(filing())
    dispute = Dispute.file(command.claim, idempotency_key="k", by=ALICE, now=NOW)
    dispute.assign("alice", by=ALICE, now=NOW)
    return dispute


def looked_up(chain: ChainFacts) -> Dispute:
    dispute = investigating()
    dispute.record_chain_facts(chain, by=ALICE, now=NOW, time_tolerance=HOUR)
    return dispute


def propose(dispute: Dispute, outcome: str = "refund", amount: str | None = None, *o: str) -> None:
    dispute.propose_decision(
        Outcome(outcome),
        None if amount is None else Decimal(amount),
        "why",
        by=ALICE,
        now=NOW,
        overrides=(*o, "checklist"),
    )


# -- the pure rules ------------------------------------------------------------------


def test_without_a_lookup_the_only_override_needed_is_no_lookup():
    assert required_overrides(None) == ("no_lookup",)


def test_only_contradicted_money_facts_need_an_override():
    every = Comparison(
        mismatches=("status", "sender", "recipient", "asset", "decimals", "amount", "time"),
        moved=None,
    )
    assert required_overrides(every) == ("status", "recipient", "asset", "decimals", "amount")
    assert required_overrides(Comparison(mismatches=("sender", "time"), moved=5)) == ()


@given(moved=st.integers(min_value=0, max_value=2**256 - 1))
def test_the_chain_vouches_for_what_a_successful_transfer_moved(moved: int):
    assert verified_units(Comparison(mismatches=(), moved=moved)) == moved
    assert verified_units(Comparison(mismatches=("amount",), moved=moved)) == moved
    assert verified_units(Comparison(mismatches=("status",), moved=moved)) == 0


def test_the_chain_vouches_for_nothing_without_facts_or_a_moved_amount():
    assert verified_units(None) == 0
    assert verified_units(Comparison(mismatches=("asset",), moved=None)) == 0


def test_a_token_whose_decimals_differ_from_the_claim_is_a_decimals_mismatch():
    claim = ClaimedTransaction.model_validate(transaction(decimals=18, amount="1"))
    found = compare(claim, facts(), time_tolerance=HOUR)
    assert found.mismatches == ("decimals", "amount")
    assert found.moved is None  # units of two scales are never compared


def test_a_native_claim_in_other_decimals_is_a_decimals_mismatch():
    claim = ClaimedTransaction.model_validate(
        transaction(asset="ETH", token_address=None, decimals=6, amount="1", recipient=RECIPIENT)
    )
    chain = facts(recipient=RECIPIENT, native_units=10**6, token_transfers=[])
    found = compare(claim, chain, time_tolerance=HOUR)
    assert found.mismatches == ("decimals",)
    assert found.moved is None


def test_a_token_whose_decimals_are_unknown_is_not_a_decimals_mismatch():
    unknown = facts().token_transfers[0].model_copy(update={"decimals": None})
    claim = ClaimedTransaction.model_validate(transaction())
    found = compare(claim, facts(token_transfers=[unknown.model_dump()]), time_tolerance=HOUR)
    assert found.mismatches == ()
    assert found.moved == CLAIMED_UNITS


# -- decimals at filing --------------------------------------------------------------


def test_claimed_decimals_that_differ_from_the_known_ones_are_refused():
    claim = ClaimedTransaction.model_validate(transaction(decimals=18, amount="1"))
    with pytest.raises(InvalidInput) as raised:
        claim.with_known_decimals(6)
    assert raised.value.errors == [
        {"field": "transaction.decimals", "message": "USDT has 6 decimals on chain 1, not 18"}
    ]


def test_decimals_filled_in_from_the_symbol_give_way_to_the_known_ones():
    claim = ClaimedTransaction.model_validate(transaction(asset="USDT", amount="1.5"))
    assert claim.decimals == 6
    known = claim.with_known_decimals(18)
    assert (known.decimals, known.money.units) == (18, 15 * 10**17)


def test_an_amount_finer_than_the_known_decimals_is_refused_on_its_field():
    claim = ClaimedTransaction.model_validate(transaction(asset="USDT", amount="1.5"))
    with pytest.raises(InvalidInput) as raised:
        claim.with_known_decimals(0)
    assert raised.value.fields == ["transaction.amount"]


@pytest.mark.parametrize("known", [None, 6])
def test_a_claim_in_the_known_decimals_or_an_unknown_asset_is_kept(known: int | None):
    claim = ClaimedTransaction.model_validate(transaction(decimals=6))
    assert claim.with_known_decimals(known) is claim


# -- proposals -----------------------------------------------------------------------


def test_a_refund_without_a_lookup_needs_no_lookup_named():
    dispute = investigating()
    with pytest.raises(InvalidInput, match="no chain lookup") as raised:
        propose(dispute)
    assert raised.value.fields == ["overrides"]
    assert dispute.collect_events()[-1].__class__.__name__ == "Assigned"


def test_no_lookup_alone_pays_nothing_the_chain_did_not_verify():
    dispute = investigating()
    with pytest.raises(InvalidInput, match="needs the override amount") as raised:
        propose(dispute, "refund", None, "no_lookup")
    assert raised.value.fields == ["overrides"]
    propose(dispute, "refund", None, "no_lookup", "amount")
    assert dispute.decision is not None
    assert dispute.decision.overrides == ("amount", "checklist", "no_lookup")


def test_a_rejection_needs_no_lookup_and_no_override():
    dispute = investigating()
    propose(dispute, "reject")
    assert dispute.status == "resolved"


def test_a_refund_the_chain_confirms_needs_no_override():
    dispute = looked_up(facts())
    propose(dispute)
    assert dispute.decision is not None
    assert (dispute.decision.units, dispute.decision.overrides) == (CLAIMED_UNITS, ("checklist",))


@pytest.mark.parametrize(
    ("changes", "needed"),
    [
        ({"status": "failed", "token_transfers": []}, ["status"]),
        ({"token_transfers": []}, ["asset"]),
        (
            {"token_transfers": [{**facts().token_transfers[0].model_dump(), "units": 1}]},
            ["amount"],
        ),
        (
            {"token_transfers": [{**facts().token_transfers[0].model_dump(), "decimals": 18}]},
            ["decimals", "amount"],
        ),
        (
            {"token_transfers": [{**facts().token_transfers[0].model_dump(), "recipient": SENDER}]},
            ["recipient"],
        ),
    ],
)
def test_each_contradicted_money_fact_must_be_named(changes: dict[str, Any], needed: list[str]):
    dispute = looked_up(facts(**changes))
    for missing in needed:
        named = [n for n in [*needed, "amount"] if n != missing]
        with pytest.raises(InvalidInput, match=missing) as raised:
            propose(dispute, "refund", None, *named)
        assert raised.value.fields == ["overrides"]
    propose(dispute, "refund", None, *needed, "amount")
    assert dispute.decision is not None
    assert set(dispute.decision.overrides) == {*needed, "amount", "checklist"}


def test_a_mismatch_in_sender_or_time_needs_no_override():
    late = (NOW + timedelta(days=3)).isoformat()
    dispute = looked_up(facts(block_time=late))
    propose(dispute)
    assert dispute.decision is not None


def test_a_failed_transfer_pays_nothing_without_an_amount_override():
    dispute = looked_up(facts(status="failed", token_transfers=[]))
    with pytest.raises(InvalidInput, match="vouches for 0 USDT"):
        propose(dispute, "partial_refund", "1", "status")
    propose(dispute, "partial_refund", "1", "status", "amount")


def test_the_latest_facts_decide_what_must_be_named():
    dispute = looked_up(facts(status="pending", block_number=None, token_transfers=[]))
    dispute.record_chain_facts(facts(block_number=11), by=ALICE, now=NOW, time_tolerance=HOUR)
    propose(dispute)
    assert dispute.decision is not None


def test_overrides_are_recorded_on_the_event_and_survive_replay():
    dispute = investigating()
    propose(dispute, "refund", None, "amount", "no_lookup", "amount")
    proposed = dispute.collect_events()[-1]
    assert proposed.overrides == ["amount", "checklist", "no_lookup"]  # type: ignore[attr-defined]
    replayed: Any = None
    for event in [*investigating().collect_events(), proposed]:
        replayed = event.mutate(replayed)
    expected = ["amount", "checklist", "no_lookup"]
    assert DisputeView.of(replayed).decision.overrides == expected  # type: ignore[union-attr]


def test_a_decision_proposed_before_overrides_existed_is_read_with_none_and_one_approval():
    dispute = investigating()
    earlier = dispute.collect_events()
    propose(dispute, "refund", None, "no_lookup", "amount")
    mapper: Mapper[UUID] = Mapper(transcoder=JSONTranscoder())
    for transcoding in (UUIDAsHex(), DatetimeAsISO()):
        mapper.transcoder.register(transcoding)
    stored = mapper.to_stored_event(dispute.collect_events()[-1])
    state = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 3
    del state["overrides"]  # as release 0.1 stored it
    del state["approvals_required"]
    v1 = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        mapper.transcoder.encode(state),
    )
    proposed = mapper.to_domain_event(v1)
    assert isinstance(proposed, events.DecisionProposed)
    assert proposed.overrides == []
    assert proposed.approvals_required == 1
    replayed: Any = None
    for event in [*earlier, proposed]:
        replayed = event.mutate(replayed)
    assert replayed.decision.overrides == ()
    assert replayed.decision.approvals_required == 1


def test_overrides_are_limited_to_the_chain_facts_and_a_rejection_names_none():
    with pytest.raises(InvalidInput) as raised:
        ProposeDecision.model_validate({"outcome": "refund", "rationale": "r", "overrides": ["x"]})
    assert raised.value.fields[0].startswith("overrides")
    with pytest.raises(InvalidInput) as raised:
        ProposeDecision(outcome="reject", rationale="r", overrides=("status",))
    assert raised.value.fields == ["overrides"]


@given(
    status=st.sampled_from(["success", "failed"]),
    units=st.one_of(st.just(CLAIMED_UNITS), st.integers(min_value=1, max_value=2 * CLAIMED_UNITS)),
    decimals=st.sampled_from([None, 6, 6, 18]),
    token=st.sampled_from([USDT, SENDER]),
    paid=st.lists(st.integers(min_value=1, max_value=CLAIMED_UNITS), max_size=3),
)
def test_without_an_amount_override_the_chain_bounds_the_total_paid(
    status: str, units: int, decimals: int | None, token: str, paid: list[int]
):
    log = {**facts().token_transfers[0].model_dump(), "units": units, "decimals": decimals}
    log["token_address"] = token
    dispute = looked_up(facts(status=status, token_transfers=[log] if status == "success" else []))
    latest = dispute.chain_facts
    assert latest is not None
    named = required_overrides(latest[1])
    for number, want in enumerate(paid, start=1):
        amount = str(Decimal(want).scaleb(-6))
        # An appeal is decided by people who did not decide the dispute before.
        investigator = Actor(id=f"investigator-{number}", roles={Role.INVESTIGATOR})
        approver = Actor(id=f"approver-{number}", roles={Role.APPROVER})
        try:
            dispute.propose_decision(
                Outcome.ADJUSTMENT,
                Decimal(amount),
                "why",
                by=investigator,
                now=NOW,
                overrides=(*(n for n in named if n != "amount"), "checklist"),
            )
        except InvalidInput:
            continue
        dispute.approve_decision(by=approver, now=NOW)
        dispute.record_execution(f"ref-{number}", by=approver, now=NOW)
        dispute.reopen("appeal", by=ALICE, now=NOW, appeal_window=timedelta(days=30))
    assert dispute.paid.units <= verified_units(latest[1])
