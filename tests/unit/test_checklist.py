"""Reason checklists: items done by recorded facts, overrides, versions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dispute_engine.domain import checklist as checklists
from dispute_engine.domain.chain_facts import ChainFacts, Comparison
from dispute_engine.domain.checklist import (
    CURRENT_CHECKLIST_VERSION,
    Checklist,
    ChecklistPolicy,
    RecordedFacts,
    checklist_for,
    markdown_table,
    open_items,
    require_covered,
    uncovered,
)
from dispute_engine.domain.claim import Reason
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.evidence import Evidence
from tests.factories import RECIPIENT, SENDER

WHEN = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
REASONS: tuple[Reason, ...] = (
    "not_received",
    "wrong_recipient",
    "wrong_amount",
    "duplicate",
    "unauthorized",
    "failed_but_debited",
    "other",
)


@dataclass(frozen=True)
class Piece:
    kind: str
    source: str


def lookup(**overrides: Any) -> tuple[ChainFacts, Comparison]:
    facts = ChainFacts.model_validate(
        {
            "chain_id": 1,
            "tx_hash": "0x" + "ab" * 32,
            "status": "success",
            "block_number": 10,
            "block_time": WHEN,
            "confirmations": 70,
            "finalized": True,
            "sender": SENDER,
            "recipient": RECIPIENT,
            "native_units": 10**18,
            "native_asset": "ETH",
            "native_decimals": 18,
            "observed_at": WHEN,
            **overrides,
        }
    )
    return facts, Comparison(mismatches=(), moved=facts.native_units)


def status(items: Checklist, facts: RecordedFacts) -> dict[str, bool]:
    return {s.name: s.done for s in items.evaluate(facts)}


def test_every_reason_has_a_checklist_under_the_current_version():
    for reason in REASONS:
        items = checklist_for(reason)
        assert items.version == CURRENT_CHECKLIST_VERSION
        assert items.items, reason
        names = [i.name for i in items.items]
        assert len(names) == len(set(names)), reason
        assert "checklist" not in names


def test_a_new_dispute_has_every_item_open():
    for reason in REASONS:
        statuses = checklist_for(reason).evaluate(RecordedFacts())
        assert open_items(statuses) == tuple(i.name for i in checklist_for(reason).items)


def test_unauthorized_needs_a_strong_identity_check_a_statement_and_the_lookup():
    items = checklist_for("unauthorized")
    assert [i.name for i in items.items] == [
        "identity_verified",
        "claimant_statement",
        "chain_lookup",
    ]
    weak = RecordedFacts(identity_method="security_question")
    assert status(items, weak)["identity_verified"] is False
    for method in ("wallet_signature", "document"):
        assert status(items, RecordedFacts(identity_method=method))["identity_verified"] is True


def test_a_statement_counts_only_from_the_claimant():
    items = checklist_for("unauthorized")
    by_staff = RecordedFacts(evidence=(Piece("statement", "investigator"),))
    by_claimant = RecordedFacts(evidence=(Piece("statement", "claimant"),))
    assert status(items, by_staff)["claimant_statement"] is False
    assert status(items, by_claimant)["claimant_statement"] is True


def test_recorded_facts_complete_an_unauthorized_checklist_without_a_click():
    facts = RecordedFacts(
        identity_method="wallet_signature",
        evidence=(Piece("statement", "claimant"),),
        chain_lookups=(lookup(),),
    )
    assert open_items(checklist_for("unauthorized").evaluate(facts)) == ()


def test_the_aggregates_own_evidence_records_satisfy_the_checklist():
    evidence = Evidence("00" * 32, 10, "text/plain", "s.txt", "statement", "claimant", "x", WHEN)
    facts = RecordedFacts(evidence=(evidence,))
    assert status(checklist_for("other"), facts)["claimant_statement"] is True


def test_wrong_recipient_needs_the_recipients_chain_facts_and_a_contact_attempt():
    items = checklist_for("wrong_recipient")
    facts = RecordedFacts(chain_lookups=(lookup(),))
    assert status(items, facts)["recipient_on_chain"] is True
    assert status(items, facts)["recipient_contacted"] is False
    contacted = replace(facts, contacted=("recipient",))
    assert status(items, contacted)["recipient_contacted"] is True
    unknown = RecordedFacts(chain_lookups=(lookup(status="not_found", recipient=None),))
    assert status(items, unknown)["recipient_on_chain"] is False


def test_a_token_transfers_recipient_comes_from_its_log_not_the_contract():
    log = {
        "token_address": RECIPIENT,
        "sender": SENDER,
        "recipient": SENDER,
        "units": 5,
        "log_index": 0,
    }
    facts = RecordedFacts(chain_lookups=(lookup(recipient=None, token_transfers=[log]),))
    assert status(checklist_for("wrong_recipient"), facts)["recipient_on_chain"] is True


def test_a_pending_observation_settles_nothing():
    facts = RecordedFacts(chain_lookups=(lookup(status="pending", finalized=False),))
    assert status(checklist_for("other"), facts)["chain_lookup"] is False


def test_only_the_latest_observation_counts():
    older, newer = lookup(), lookup(status="pending", finalized=False)
    facts = RecordedFacts(chain_lookups=(older, newer))
    assert status(checklist_for("other"), facts)["chain_lookup"] is False


def test_not_received_and_failed_but_debited_need_a_final_block():
    for reason in ("not_received", "failed_but_debited"):
        items = checklist_for(reason)
        unfinal = RecordedFacts(chain_lookups=(lookup(finalized=False),))
        assert status(items, unfinal)["chain_final"] is False, reason
        absent = RecordedFacts(chain_lookups=(lookup(status="not_found", finalized=True),))
        assert status(items, absent)["chain_final"] is False, reason
        final = RecordedFacts(chain_lookups=(lookup(status="failed"),))
        assert status(items, final)["chain_final"] is True, reason


def test_a_duplicate_needs_proof_of_both_payments():
    items = checklist_for("duplicate")
    one = RecordedFacts(evidence=(Piece("receipt", "claimant"),))
    two = RecordedFacts(evidence=(Piece("receipt", "claimant"), Piece("document", "investigator")))
    assert status(items, one)["both_payments_shown"] is False
    assert status(items, two)["both_payments_shown"] is True


def test_evidence_of_another_kind_does_not_count():
    facts = RecordedFacts(evidence=(Piece("chat_log", "claimant"), Piece("identity", "claimant")))
    assert status(checklist_for("not_received"), facts)["payment_proof"] is False
    assert status(checklist_for("wrong_amount"), facts)["intended_amount_proof"] is True


def test_each_open_item_can_be_overridden_by_name():
    statuses = checklist_for("unauthorized").evaluate(RecordedFacts())
    assert uncovered(statuses, ["identity_verified"]) == ("claimant_statement", "chain_lookup")
    assert uncovered(statuses, ["identity_verified", "claimant_statement", "chain_lookup"]) == ()


def test_checklist_overrides_every_open_item_at_once():
    statuses = checklist_for("duplicate").evaluate(RecordedFacts())
    assert uncovered(statuses, ["checklist"]) == ()


def test_override_names_are_compared_in_canonical_form():
    statuses = checklist_for("other").evaluate(RecordedFacts())
    assert uncovered(statuses, [" CHECKLIST "]) == ()
    assert uncovered(statuses, ["Chain_Lookup"]) == ("identity_verified", "claimant_statement")


def test_money_rule_overrides_do_not_cover_checklist_items():
    statuses = checklist_for("other").evaluate(RecordedFacts())
    assert uncovered(statuses, ["amount", "no_lookup"]) == open_items(statuses)


def test_an_override_with_invisible_characters_is_invalid_input():
    statuses = checklist_for("other").evaluate(RecordedFacts())
    with pytest.raises(InvalidInput) as caught:
        uncovered(statuses, ["check\u200blist"])
    assert caught.value.fields == ["overrides"]


def test_a_decision_is_refused_while_items_are_open_and_not_overridden():
    statuses = checklist_for("unauthorized").evaluate(RecordedFacts(identity_method="document"))
    with pytest.raises(InvalidInput) as caught:
        require_covered(statuses, ["claimant_statement"])
    assert caught.value.fields == ["overrides"]
    assert "chain_lookup" in str(caught.value)
    assert "claimant_statement" not in str(caught.value)
    require_covered(statuses, ["claimant_statement", "chain_lookup"])


def test_a_dispute_keeps_the_checklist_version_it_was_filed_under(
    monkeypatch: pytest.MonkeyPatch,
):
    filed_under = checklist_for("other").version
    stricter = ChecklistPolicy(
        version="2099-01",
        reasons={"other": (*checklist_for("other").items, checklists.PAYMENT_PROOF)},
    )
    monkeypatch.setitem(checklists.CHECKLISTS, "2099-01", stricter)
    assert "payment_proof" not in [i.name for i in checklist_for("other", filed_under).items]
    assert "payment_proof" in [i.name for i in checklist_for("other", "2099-01").items]


def test_an_unknown_version_or_reason_is_a_lookup_error():
    with pytest.raises(LookupError):
        checklist_for("other", "1999-01")
    with pytest.raises(LookupError):
        checklist_for("stolen_phone")


def test_the_explanation_shows_the_current_checklists():
    doc = Path(__file__).parents[2] / "docs/explanation/workflow.md"
    assert markdown_table() in doc.read_text(encoding="utf-8")


def test_an_evaluated_checklist_keeps_each_items_description_and_its_reason():
    listed = checklist_for("not_received")
    assert listed.reason == "not_received"
    statuses = listed.evaluate(checklists.RecordedFacts())
    assert [(s.name, s.description) for s in statuses] == [
        (i.name, i.description) for i in listed.items
    ]


def test_unknown_versions_and_reasons_are_named_in_the_lookup_error():
    with pytest.raises(LookupError, match=r"^no checklist version 1999$"):
        checklist_for("other", "1999")
    with pytest.raises(LookupError, match=r"^no checklist version 1999$"):
        markdown_table("1999")
    with pytest.raises(
        LookupError, match=r"^checklist version 2026-12 has no checklist for gossip$"
    ):
        checklist_for("gossip")


def test_the_refusal_lists_every_uncovered_item():
    statuses = checklist_for("not_received").evaluate(checklists.RecordedFacts())
    with pytest.raises(InvalidInput) as refused:
        require_covered(statuses, ["chain_final"])
    assert refused.value.errors == [
        {
            "field": "overrides",
            "message": "open checklist items must be completed or overridden with a rationale: "
            "identity_verified, chain_lookup, payment_proof",
        }
    ]


def test_the_checklist_table_has_its_header_and_a_row_per_item_of_every_reason():
    lines = markdown_table().splitlines()
    assert lines[:2] == ["| reason | item | done when |", "|---|---|---|"]
    policy = checklists.CHECKLISTS[checklists.CURRENT_CHECKLIST_VERSION]
    assert len(lines) == 2 + sum(len(items) for items in policy.reasons.values())
