"""Directory mode through the public API: who acts, signed decision steps, forgeries refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.cli import app
from dispute_engine.commands import ProposeDecision
from dispute_engine.domain.decision_signing import SignedAction, statement
from dispute_engine.errors import (
    ConcurrencyConflict,
    DecisionSignatureRefused,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    PayoutRefused,
    StaffNotFound,
)
from dispute_engine.identity import Identity, SigningActor, verify_signature
from dispute_engine.settings import Settings
from tests.conftest import FakeClock
from tests.factories import UNCHECKED, file_dispute, stored_rows

FULLWIDTH_ALICE = "\uff21\uff2c\uff29\uff23\uff25"


@dataclass
class Desk:
    """An engine in directory mode with its first admin, an investigator and an approver."""

    engine: DisputeEngine
    keys: dict[str, Identity]

    def actor(self, staff_id: str) -> SigningActor:
        return self.keys[staff_id].actor([])

    def add(self, staff_id: str, *roles: Role, languages: tuple[str, ...] = ("en", "zh")) -> None:
        self.keys[staff_id] = Identity.generate(staff_id)
        self.engine.register_staff(
            staff_id,
            roles=roles,
            languages=languages,
            public_key=self.keys[staff_id].public_key_hex,
            by=self.actor("root"),
        )


def open_desk(url: str, clock: FakeClock) -> Desk:
    engine = DisputeEngine.open(url, clock=clock, settings=Settings(require_directory=True))
    root = Identity.generate("root")
    engine.init_staff("root", public_key=root.public_key_hex, languages=["en"])
    desk = Desk(engine, {"root": root})
    desk.add("alice", Role.INVESTIGATOR)
    desk.add("bob", Role.APPROVER)
    return desk


@pytest.fixture
def desk(db_url: str, clock: FakeClock) -> Iterator[Desk]:
    desk = open_desk(db_url, clock)
    yield desk
    desk.engine.shutdown()


def proposed(desk: Desk, **filing: Any) -> UUID:
    """A dispute filed and proposed for a refund by alice."""
    engine, alice = desk.engine, desk.actor("alice")
    dispute_id = file_dispute(engine, alice, **filing)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="reverted", overrides=list(UNCHECKED)),
        by=alice,
    )
    return dispute_id


def approval_statement(engine: DisputeEngine, dispute_id: UUID, action: SignedAction) -> bytes:
    dispute = engine._core.load(dispute_id)
    return statement(
        action,
        dispute_id=dispute.id,
        decision=dispute.decision,
        transaction=dispute.claim.transaction,
        decimals=dispute.disputed.decimals,
    )


# -- who acts ---------------------------------------------------------------------------


def test_the_same_person_under_two_spellings_cannot_propose_and_approve(desk: Desk):
    dispute_id = proposed(desk)
    for spelling in ("ALICE", " alice ", FULLWIDTH_ALICE):
        with pytest.raises(NotAuthorized):
            desk.engine.approve_decision(
                dispute_id, by=Actor(id=spelling, roles=frozenset({Role.APPROVER}))
            )
    assert desk.engine.get(dispute_id).status == "pending_approval"


def test_the_same_person_under_two_spellings_is_refused_without_the_directory_too(
    engine: DisputeEngine,
):
    alice = Actor(id="alice", roles=frozenset({Role.INVESTIGATOR}))
    dispute_id = file_dispute(engine, alice)
    engine.assign(dispute_id, investigator="alice", by=alice)
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="reverted", overrides=list(UNCHECKED)),
        by=alice,
    )
    approver = Actor(id=FULLWIDTH_ALICE, roles=frozenset({Role.APPROVER}))
    with pytest.raises(NotAuthorized, match="second approver"):
        engine.approve_decision(dispute_id, by=approver)


def test_a_self_declared_approver_is_refused_in_directory_mode(desk: Desk):
    dispute_id = proposed(desk)
    desk.add("dana", Role.INVESTIGATOR)
    before = stored_rows(desk.engine)
    outsider = Actor(id="carol", roles=frozenset({Role.APPROVER}))
    with pytest.raises(NotAuthorized, match="not in the staff directory"):
        desk.engine.approve_decision(dispute_id, by=outsider)
    with pytest.raises(NotAuthorized, match="needs the role approver"):
        desk.engine.approve_decision(dispute_id, by=desk.keys["dana"].actor([Role.APPROVER]))
    assert stored_rows(desk.engine) == before


def test_every_write_needs_an_active_member(desk: Desk):
    stranger = Actor(id="mallory", roles=frozenset({Role.INVESTIGATOR}))
    with pytest.raises(NotAuthorized, match="not in the staff directory"):
        file_dispute(desk.engine, stranger)
    dispute_id = file_dispute(desk.engine, desk.actor("alice"))
    with pytest.raises(NotAuthorized):
        desk.engine.add_note(dispute_id, "hello", by=stranger)


def test_a_revoked_approver_is_refused(desk: Desk):
    dispute_id = proposed(desk)
    desk.engine.revoke_staff("BOB", by=desk.actor("root"))
    before = stored_rows(desk.engine)
    with pytest.raises(NotAuthorized, match="revoked"):
        desk.engine.approve_decision(dispute_id, by=desk.actor("bob"))
    assert stored_rows(desk.engine) == before
    assert desk.engine.staff("bob").status == "revoked"


def test_an_approval_signed_by_the_wrong_key_is_refused(desk: Desk):
    dispute_id = proposed(desk)
    impostor = Identity.generate("bob").actor([Role.APPROVER])
    with pytest.raises(NotAuthorized):
        desk.engine.approve_decision(dispute_id, by=impostor)
    unsigned = Actor(id="bob", roles=frozenset({Role.APPROVER}))
    with pytest.raises(DecisionSignatureRefused):
        desk.engine.approve_decision(dispute_id, by=unsigned)
    assert desk.engine.get(dispute_id).status == "pending_approval"


def test_an_identity_is_accepted_wherever_an_actor_is_with_the_directorys_roles(desk: Desk):
    dispute_id = proposed(desk)
    desk.engine.add_note(dispute_id, "checked the exchange", by=desk.keys["alice"])
    with pytest.raises(NotAuthorized, match="needs the role approver"):
        desk.engine.approve_decision(dispute_id, by=desk.keys["alice"])
    desk.engine.approve_decision(dispute_id, by=desk.keys["bob"])
    assert desk.engine.get(dispute_id).status == "approved"


def test_without_the_directory_an_identity_still_acts_only_as_a_member(engine: DisputeEngine):
    alice = Actor(id="alice", roles=frozenset({Role.INVESTIGATOR}))
    dispute_id = file_dispute(engine, alice)
    with pytest.raises(NotAuthorized, match="not in the staff directory"):
        engine.add_note(dispute_id, "hello", by=Identity.generate("alice"))


def test_an_admin_may_not_approve(desk: Desk):
    dispute_id = proposed(desk)
    with pytest.raises(NotAuthorized):
        desk.engine.approve_decision(dispute_id, by=desk.actor("root"))


# -- signatures on the record ---------------------------------------------------------------


def test_approval_send_back_and_execution_carry_verifiable_signatures(desk: Desk):
    engine = desk.engine
    dispute_id = proposed(desk)
    sent_back_statement = approval_statement(engine, dispute_id, SignedAction.SEND_BACK)
    engine.send_back(dispute_id, reason="check the amount", by=desk.actor("bob"))
    engine.propose_decision(
        dispute_id,
        ProposeDecision(outcome="refund", rationale="checked", overrides=list(UNCHECKED)),
        by=desk.actor("alice"),
    )
    approved_statement = approval_statement(engine, dispute_id, SignedAction.APPROVE)
    engine.approve_decision(dispute_id, by=desk.actor("bob"))
    executed_statement = approval_statement(engine, dispute_id, SignedAction.EXECUTE)
    engine.execute_decision(dispute_id, by=desk.actor("bob"))
    signed = {
        e.name: e.data["signature"] for e in engine.history(dispute_id) if "signature" in e.data
    }
    bob = desk.keys["bob"].public_key_hex
    assert verify_signature(bob, sent_back_statement, signed["DecisionSentBack"])
    assert verify_signature(bob, approved_statement, signed["DecisionApproved"])
    assert verify_signature(bob, executed_statement, signed["DecisionExecuted"])
    assert not verify_signature(bob, executed_statement, signed["DecisionApproved"])
    assert engine.verify_decision_signatures() == []


def test_key_rotation_keeps_old_approvals_valid(desk: Desk):
    engine = desk.engine
    dispute_id = proposed(desk)
    engine.approve_decision(dispute_id, by=desk.actor("bob"))
    old_bob = desk.keys["bob"]
    desk.keys["bob"] = Identity.generate("bob")
    engine.register_staff_key(
        "bob", public_key=desk.keys["bob"].public_key_hex, by=desk.actor("root")
    )
    with pytest.raises(NotAuthorized):
        engine.execute_decision(dispute_id, by=old_bob.actor([]))
    engine.execute_decision(dispute_id, by=desk.actor("bob"))
    assert engine.get(dispute_id).status == "resolved"
    assert engine.verify_decision_signatures() == []
    keys = engine.staff("bob").keys
    assert [k.public_key for k in keys] == [old_bob.public_key_hex, desk.keys["bob"].public_key_hex]


# -- forgeries ----------------------------------------------------------------------------


def forge_approval(
    engine: DisputeEngine,
    dispute_id: UUID,
    signature: str | None,
    approver: str = "bob",
    *,
    past_the_rules: bool = False,
) -> None:
    """Insert an approval with plain SQL, as someone with write access to the database (and
    the engine's code) would: a well-formed event the directory does not back. Past the rules,
    it is written as the event alone, without the four-eyes checks of the command."""
    core = engine._core
    dispute = core.load(dispute_id)
    if past_the_rules:
        dispute._decision_approved(
            number=dispute.decision.number,
            signature=signature,
            actor=approver,
            status="approved",
            timestamp=engine.now(),
        )
    else:
        dispute.approve_decision(
            by=Actor(id=approver, roles=frozenset({Role.APPROVER})),
            now=engine.now(),
            signature=signature,
        )
    (forged,) = dispute.collect_events()
    stored = core.events.mapper.to_stored_event(forged)
    db = core.db
    with db.transaction() as cursor:
        db.execute(
            cursor,
            f"INSERT INTO {core.events_table} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            [db.originator_key(dispute_id), stored.originator_version, stored.topic, stored.state],
        )


@pytest.mark.parametrize("signature", [None, "00" * 64, "forged"])
def test_a_forged_approval_row_is_detected_by_verify_and_never_paid(
    desk: Desk, signature: str | None
):
    engine = desk.engine
    dispute_id = proposed(desk)
    if signature == "forged":  # signed, but by a key that is not bob's
        signature = Identity.generate("bob").sign(
            approval_statement(engine, dispute_id, SignedAction.APPROVE)
        )
    forge_approval(engine, dispute_id, signature)
    assert engine.get(dispute_id).status == "approved"
    findings = engine.verify_decision_signatures()
    assert [(f.dispute_id, f.event, f.actor) for f in findings] == [
        (dispute_id, "DecisionApproved", "bob")
    ]
    before = stored_rows(engine)
    with pytest.raises(PayoutRefused) as refused:
        engine.execute_decision(dispute_id, by=desk.actor("bob"))
    assert refused.value.reason == "approval_signature"
    assert stored_rows(engine) == before
    assert engine.get(dispute_id).payouts == []


# -- the directory through the engine -------------------------------------------------------


def test_the_directory_is_founded_once(desk: Desk):
    with pytest.raises(NotAuthorized):
        desk.engine.init_staff("mallory", public_key=Identity.generate("m").public_key_hex)


def test_only_admins_register_and_revoke(desk: Desk):
    key = Identity.generate("eve").public_key_hex
    with pytest.raises(NotAuthorized):
        desk.engine.register_staff(
            "eve", roles=["approver"], languages=["en"], public_key=key, by=desk.actor("alice")
        )
    with pytest.raises(NotAuthorized):
        desk.engine.revoke_staff("bob", by=desk.actor("alice"))
    with pytest.raises(StaffNotFound):
        desk.engine.staff("eve")


def test_bad_staff_input_is_refused_and_writes_nothing(desk: Desk):
    before = stored_rows(desk.engine)
    root = desk.actor("root")
    bad: list[dict[str, Any]] = [
        {"roles": ["wizard"]},
        {"roles": []},
        {"roles": ["admin", "approver"]},
        {"languages": ["klingon!"]},
        {"public_key": "xyz"},
    ]
    for change in bad:
        fields: dict[str, Any] = {
            "roles": ["investigator"],
            "languages": ["en"],
            "public_key": Identity.generate("x").public_key_hex,
            **change,
        }
        with pytest.raises(InvalidInput):
            desk.engine.register_staff("frank", by=root, **fields)
    with pytest.raises(InvalidInput):
        desk.engine.register_staff(
            FULLWIDTH_ALICE,
            roles=["approver"],
            languages=["en"],
            public_key=Identity.generate("x").public_key_hex,
            by=root,
        )
    assert stored_rows(desk.engine) == before


def test_members_are_listed_with_roles_languages_and_keys(desk: Desk):
    proposed(desk)
    applied = desk.engine.projections.catch_up()  # every view, the directory's events among them
    assert applied["staff_directory"] == applied["work_queue"] > 0
    members = {m.staff_id: m for m in desk.engine.list_staff()}
    assert sorted(members) == ["alice", "bob", "root"]
    assert members["alice"].roles == ["investigator"]
    assert members["alice"].languages == ["en", "zh"]
    assert members["bob"].public_key == desk.keys["bob"].public_key_hex
    assert desk.engine.staff(" BOB ") == members["bob"]
    desk.engine.revoke_staff("bob", by=desk.actor("root"))
    assert [m.staff_id for m in desk.engine.list_staff(include_revoked=False)] == ["alice", "root"]


def test_next_disputes_offers_a_member_the_languages_they_serve(desk: Desk):
    desk.add("ana", Role.INVESTIGATOR, languages=("es",))
    alice = desk.actor("alice")
    zh = file_dispute(desk.engine, alice, language="zh", priority="urgent")
    es = file_dispute(desk.engine, alice, language="es")
    assert [v.id for v in desk.engine.next_disputes(for_staff="ana")] == [es]
    assert [v.id for v in desk.engine.next_disputes(for_staff="ALICE", limit=1)] == [zh]
    with pytest.raises(StaffNotFound):
        desk.engine.next_disputes(for_staff="nobody")


def test_assigning_a_dispute_in_a_language_the_member_does_not_serve_warns(desk: Desk):
    desk.add("ana", Role.INVESTIGATOR, languages=("es",))
    dispute_id = file_dispute(desk.engine, desk.actor("alice"), language="zh-Hant")
    with pytest.warns(UserWarning, match="ana does not serve zh-Hant"):
        desk.engine.assign(dispute_id, investigator="ana", by=desk.actor("alice"))
    assert desk.engine.get(dispute_id).assignee == "ana"


@pytest.mark.parametrize("signature", [None, "forged"])
def test_a_forged_first_of_two_approvals_is_never_paid(
    desk: Desk, db_url: str, signature: str | None
):
    engine = desk.engine
    desk.add("carol", Role.APPROVER)
    dispute_id = proposed(desk, reason="unauthorized")  # needs two distinct approvers
    assert engine.get(dispute_id).decision.approvals_required == 2
    if signature == "forged":
        signature = Identity.generate("bob").sign(
            approval_statement(engine, dispute_id, SignedAction.APPROVE)
        )
    forge_approval(engine, dispute_id, signature)
    engine.approve_decision(dispute_id, by=desk.actor("carol"))  # the real, second approval
    assert engine.get(dispute_id).status == "approved"
    assert [(f.event, f.actor) for f in engine.verify_decision_signatures()] == [
        ("DecisionApproved", "bob")
    ]
    before = stored_rows(engine)
    with pytest.raises(PayoutRefused, match="the approval by bob") as refused:
        engine.execute_decision(dispute_id, by=desk.actor("carol"))
    assert refused.value.reason == "approval_signature"
    assert stored_rows(engine) == before
    assert engine.get(dispute_id).payouts == []
    verify = CliRunner().invoke(
        app, ["audit", "verify", "--db", db_url], env={"DISPUTE_ENGINE_REQUIRE_DIRECTORY": "true"}
    )
    assert verify.exit_code == 1
    assert f"{dispute_id} v" in verify.stderr
    assert "DecisionApproved by bob" in verify.stderr


def test_a_replayed_approval_by_the_same_approver_is_never_paid(desk: Desk):
    engine = desk.engine
    dispute_id = proposed(desk, reason="unauthorized")
    engine.approve_decision(dispute_id, by=desk.actor("bob"))
    (copied,) = [e.data["signature"] for e in engine.history(dispute_id) if "signature" in e.data]
    forge_approval(engine, dispute_id, copied, approver="BOB", past_the_rules=True)
    assert engine.get(dispute_id).status == "approved"
    (finding,) = engine.verify_decision_signatures()
    assert (finding.actor, finding.problem) == ("BOB", "bob approved the decision before")
    with pytest.raises(PayoutRefused, match="approved the decision before"):
        engine.execute_decision(dispute_id, by=desk.actor("bob"))
    assert engine.get(dispute_id).payouts == []


def test_two_signed_approvals_by_approvers_of_the_time_are_paid(desk: Desk):
    engine = desk.engine
    desk.add("carol", Role.APPROVER)
    dispute_id = proposed(desk, reason="unauthorized")
    engine.approve_decision(dispute_id, by=desk.actor("bob"))
    engine.approve_decision(dispute_id, by=desk.actor("carol"))
    # Roles taken away later do not undo approvals given while they were held.
    engine.change_staff("bob", roles=["investigator"], by=desk.actor("root"))
    engine.execute_decision(dispute_id, by=desk.actor("carol"))
    assert engine.get(dispute_id).status == "resolved"
    assert engine.verify_decision_signatures() == []


def test_an_approval_signed_by_a_member_who_was_no_approver_then_is_never_paid(desk: Desk):
    engine = desk.engine
    dispute_id = proposed(desk)
    desk.add("dana", Role.INVESTIGATOR)
    signature = desk.keys["dana"].sign(approval_statement(engine, dispute_id, SignedAction.APPROVE))
    forge_approval(engine, dispute_id, signature, approver="dana")
    (finding,) = engine.verify_decision_signatures()
    assert (finding.actor, finding.event) == ("dana", "DecisionApproved")
    assert "could not approve" in finding.problem
    with pytest.raises(PayoutRefused, match="could not approve"):
        engine.execute_decision(dispute_id, by=desk.actor("bob"))
    assert engine.get(dispute_id).payouts == []


# -- changing a member ----------------------------------------------------------------------


def test_an_admin_changes_a_members_roles_and_languages_as_events(desk: Desk):
    engine, root = desk.engine, desk.actor("root")
    changed = engine.change_staff("ALICE", roles=["approver"], languages=["es", "en"], by=root)
    assert (changed.roles, changed.languages) == (["approver"], ["en", "es"])
    assert engine.staff("alice") == changed
    assert {m.staff_id: m.roles for m in engine.list_staff()}["alice"] == ["approver"]
    changed = engine.change_staff("alice", languages=["zh"], by=root)
    assert (changed.roles, changed.languages) == (["approver"], ["zh"])
    history = engine.staff_history(FULLWIDTH_ALICE)
    assert [(e.version, e.name, e.actor) for e in history] == [
        (1, "Registered", "root"),
        (2, "RolesChanged", "root"),
        (3, "LanguagesChanged", "root"),
        (4, "LanguagesChanged", "root"),
    ]
    assert history[1].data["roles"] == ["approver"]
    with pytest.raises(StaffNotFound):
        engine.staff_history("nobody")


def test_a_member_acts_with_the_roles_the_change_gave_them(desk: Desk):
    engine, root = desk.engine, desk.actor("root")
    dispute_id = proposed(desk)
    engine.change_staff("bob", roles=["investigator"], by=root)
    with pytest.raises(NotAuthorized, match="needs the role approver"):
        engine.approve_decision(dispute_id, by=desk.actor("bob"))
    desk.add("dana", Role.INVESTIGATOR)
    engine.change_staff("dana", roles=["approver"], by=root)
    engine.approve_decision(dispute_id, by=desk.actor("dana"))
    engine.execute_decision(dispute_id, by=desk.actor("dana"))
    assert engine.get(dispute_id).status == "resolved"


def test_only_an_admin_changes_members_and_never_towards_moving_money(desk: Desk):
    engine, root = desk.engine, desk.actor("root")
    desk.add("ada", Role.ADMIN, Role.AUDITOR)
    before = stored_rows(engine)
    with pytest.raises(NotAuthorized, match="needs the role admin"):
        engine.change_staff("alice", roles=["approver"], by=desk.actor("bob"))
    with pytest.raises(NotAuthorized, match="grant themselves"):
        engine.change_staff("root", roles=["admin", "auditor"], by=root)
    with pytest.raises(InvalidInput, match="admin and approver may not be held by one member"):
        engine.change_staff("ada", roles=["admin", "approver"], by=root)
    with pytest.raises(InvalidInput, match="admin and approver"):
        engine.change_staff("bob", roles=["approver", "admin"], by=root)
    with pytest.raises(NotAuthorized, match="their own admin role"):
        engine.change_staff("ada", roles=["auditor"], by=desk.actor("ada"))
    assert stored_rows(engine) == before


def test_bad_changes_are_refused_and_write_nothing(desk: Desk):
    engine, root = desk.engine, desk.actor("root")
    before = stored_rows(engine)
    bad: list[dict[str, Any]] = [
        {},
        {"roles": ["wizard"]},
        {"roles": []},
        {"languages": ["klingon!"]},
        {"roles": ["investigator"]},  # nothing changes
        {"languages": ["zh", "EN"]},  # nothing changes
        {"roles": ["approver"], "languages": ["klingon!"]},  # half good: nothing at all
        {"languages": ["es"], "expected_version": "1"},
    ]
    for change in bad:
        with pytest.raises(InvalidInput):
            engine.change_staff("alice", by=root, **change)
    with pytest.raises(StaffNotFound):
        engine.change_staff("nobody", roles=["approver"], by=root)
    engine.revoke_staff("bob", by=root)
    revoked = stored_rows(engine)
    with pytest.raises(InvalidTransition):
        engine.change_staff("bob", languages=["es"], by=root)
    assert stored_rows(engine) == revoked == (before[0] + 1, *before[1:])
    assert engine.staff("alice").roles == ["investigator"]


def test_a_change_worked_out_from_an_old_read_is_a_conflict(desk: Desk):
    engine, root = desk.engine, desk.actor("root")
    read = engine.staff("alice")
    engine.change_staff("alice", languages=["es"], by=root)
    with pytest.raises(ConcurrencyConflict):
        engine.change_staff("alice", roles=["auditor"], expected_version=read.version, by=root)
    assert engine.staff("alice").roles == ["investigator"]


def test_of_four_changes_at_once_from_one_read_exactly_one_lands(
    db_url: str, clock: FakeClock, desk: Desk
):
    read = desk.engine.staff("alice")
    engines = [
        DisputeEngine.open(db_url, clock=clock, settings=Settings(require_directory=True))
        for _ in range(4)
    ]
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def change(number: int, languages: str) -> None:
        start.wait()
        try:
            engines[number].change_staff(
                "alice", languages=[languages], expected_version=read.version, by=desk.keys["root"]
            )
            outcomes.append(languages)
        except ConcurrencyConflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=change, args=(n, lang))
        for n, lang in enumerate(("es", "fr", "de", "it"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(outcomes).count("conflict") == 3
        (landed,) = (o for o in outcomes if o != "conflict")
        assert desk.engine.staff("alice").languages == [landed]
        assert desk.engine.staff("alice").version == read.version + 1
    finally:
        for engine in engines:
            engine.shutdown()
