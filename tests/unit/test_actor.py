"""Actors are compared by their canonical ids: one person, one id, however it is spelt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.domain.actor import require_permission, same_actor
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.lifecycle import Action
from dispute_engine.errors import InvalidInput, NotAuthorized
from tests.factories import UNCHECKED, filing

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


@pytest.mark.parametrize("spelling", ["alice", "ALICE", " Alice ", FULLWIDTH_ALICE])
def test_every_spelling_of_one_person_is_one_actor(spelling: str):
    assert Actor(id=spelling, roles={Role.APPROVER}).id == "alice"


@pytest.mark.parametrize("bad", ["ali\u200bce", "alice\u202e", "al\x00ice", "\u2060", "   "])
def test_ids_with_invisible_or_control_characters_are_refused(bad: str):
    with pytest.raises(InvalidInput) as raised:
        Actor(id=bad, roles={Role.APPROVER})
    assert raised.value.fields == ["id"]


@pytest.mark.parametrize("spelling", ["ALICE", FULLWIDTH_ALICE, "Alice"])
def test_the_proposer_cannot_approve_under_another_spelling(spelling: str):
    command = FileDispute.model_validate(filing())
    dispute = Dispute.file(command.claim, idempotency_key="k", by=ALICE, now=NOW)
    dispute.assign("alice", by=ALICE, now=NOW)
    dispute.propose_decision(Outcome.REFUND, None, "r", by=ALICE, now=NOW, overrides=UNCHECKED)
    with pytest.raises(NotAuthorized):
        dispute.approve_decision(by=Actor(id=spelling, roles={Role.APPROVER}), now=NOW)
    dispute.approve_decision(by=Actor(id="bob", roles={Role.APPROVER}), now=NOW)


def test_an_id_recorded_before_canonical_ids_still_names_its_actor():
    assert same_actor("ALICE", ALICE)
    assert not same_actor("alicia", ALICE)
    assert not same_actor("ali\u200bce", ALICE)  # refused today, so never the same actor


@pytest.mark.parametrize("by", [None, "alice", {"id": "alice", "roles": ["approver"]}])
def test_an_actor_that_is_not_an_actor_is_invalid_input(by: Any):
    with pytest.raises(InvalidInput) as raised:
        require_permission(by, "file")
    assert raised.value.fields == ["by"]


@given(st.text(min_size=1, max_size=40))
def test_a_canonical_id_is_its_own_canonical_form(text: str):
    try:
        actor = Actor(id=text, roles={Role.AUDITOR})
    except InvalidInput:
        return
    assert Actor(id=actor.id, roles={Role.AUDITOR}).id == actor.id


def test_a_refused_id_says_which_character_is_refused():
    with pytest.raises(InvalidInput) as raised:
        Actor(id="ali\u200bce", roles={Role.APPROVER})
    assert raised.value.errors == [
        {"field": "id", "message": "must not contain control or invisible characters (U+200B)"}
    ]


def test_an_actor_that_is_not_an_actor_is_named_by_its_type():
    with pytest.raises(InvalidInput, match=r"^invalid input: by: must be an Actor, not str$"):
        require_permission("eve", Action.ADD_NOTE)


def test_a_missing_role_names_every_role_that_would_do_and_the_actor():
    auditor = Actor(id="eve", roles={Role.AUDITOR})
    with pytest.raises(NotAuthorized) as raised:
        require_permission(auditor, Action.ADD_NOTE)
    assert str(raised.value) == "eve may not add_note: needs the role approver or investigator"
    assert raised.value.actor == "eve"


def test_a_denied_role_is_named_in_the_refusal():
    admin = Actor(id="adm", roles={Role.ADMIN, Role.INVESTIGATOR})
    with pytest.raises(NotAuthorized) as raised:
        require_permission(admin, Action.EXECUTE_DECISION)
    assert str(raised.value) == "adm may not execute_decision: the role admin may not move money"
    assert raised.value.actor == "adm"
