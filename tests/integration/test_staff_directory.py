"""The staff directory on a real database: founding, members, who really acts, signatures."""

from __future__ import annotations

import sqlite3
import threading
import warnings
from collections.abc import Iterator
from typing import Any, cast

import pytest

from dispute_engine import DisputeEngine
from dispute_engine.directory import Directory
from dispute_engine.domain.actor import Actor, Role, require_permission
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.staff import Staff
from dispute_engine.errors import (
    ConcurrencyConflict,
    DecisionSignatureRefused,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
    StaffNotFound,
    StorageUnavailable,
)
from dispute_engine.identity import Identity, verify_signature
from projections.staff_directory import StaffDirectory
from tests.conftest import FakeClock
from tests.factories import file_dispute

FULLWIDTH_ALICE = "\uff21\uff2c\uff29\uff23\uff25"
STATEMENT = b"dispute-engine/decision-statement/v1\n{}"


@pytest.fixture
def directory(engine: DisputeEngine, clock: FakeClock) -> Directory:
    return Directory(engine._core.events, clock=clock, required=True)


@pytest.fixture
def root() -> Identity:
    return Identity.generate("root")


@pytest.fixture
def founded(directory: Directory, root: Identity) -> Actor:
    """The directory with its first admin; returns that admin as a signing actor."""
    directory.found("root", public_key=root.public_key_hex, languages=["en"])
    return root.actor([Role.ADMIN])


def add(directory: Directory, by: Actor, staff_id: str, *roles: Role, **extra: Any) -> Identity:
    identity = Identity.generate(staff_id)
    directory.register(
        staff_id,
        roles=roles,
        languages=extra.pop("languages", ["en", "zh"]),
        public_key=identity.public_key_hex,
        by=by,
        **extra,
    )
    return identity


def rebuilt_view(engine: DisputeEngine) -> Iterator[Any]:
    """The directory view built from every stored event, as the projection runner does."""
    events, db = engine._core.events, engine._core.db
    view = StaffDirectory()
    view.create(db)
    notifications = events.recorder.select_notifications(1, 10_000)
    batch = [(n, events.mapper.to_domain_event(n)) for n in notifications]
    with db.transaction() as cursor:
        view.apply(db, cursor, cast(Any, batch))
    yield from StaffDirectory.members(db)


# -- founding -------------------------------------------------------------------------


def test_the_first_admin_founds_the_directory_once(directory: Directory, root: Identity):
    admin = directory.found(" ROOT ", public_key=root.public_key_hex, languages=["en"])
    assert admin.staff_id == "root"
    assert admin.roles == {Role.ADMIN}
    assert directory.is_founded()
    with pytest.raises(NotAuthorized, match="already has its first admin"):
        directory.found("mallory", public_key=Identity.generate("m").public_key_hex, languages=[])


def test_founding_is_refused_once_anyone_is_registered(engine: DisputeEngine, clock: FakeClock):
    open_directory = Directory(engine._core.events, clock=clock, required=False)
    open_directory.register(
        "alice",
        roles=[Role.INVESTIGATOR],
        languages=["en"],
        public_key=Identity.generate("alice").public_key_hex,
        by=Actor(id="someone", roles={Role.ADMIN}),
    )
    with pytest.raises(NotAuthorized):
        open_directory.found("mallory", public_key="aa" * 32, languages=["en"])


def test_four_founders_at_once_leave_exactly_one_admin(db_url: str, clock: FakeClock):
    engines = [DisputeEngine.open(db_url, clock=clock) for _ in range(4)]
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def found(number: int) -> None:
        directory = Directory(engines[number]._core.events, clock=clock, required=True)
        start.wait()
        try:
            key = Identity.generate(f"founder-{number}").public_key_hex
            directory.found(f"founder-{number}", public_key=key, languages=["en"])
            outcomes.append("founded")
        except NotAuthorized:
            outcomes.append("refused")

    threads = [threading.Thread(target=found, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(outcomes) == ["founded", "refused", "refused", "refused"]
        members = list(rebuilt_view(engines[0]))
        assert len(members) == 1
        assert members[0].roles == {Role.ADMIN}
    finally:
        for engine in engines:
            engine.shutdown()


# -- members --------------------------------------------------------------------------


def test_one_person_under_two_spellings_is_registered_once(directory: Directory, founded: Actor):
    add(directory, founded, "alice", Role.INVESTIGATOR)
    with pytest.raises(InvalidInput, match="already in the staff directory"):
        add(directory, founded, FULLWIDTH_ALICE, Role.APPROVER)
    assert directory.member(" Alice ").roles == {Role.INVESTIGATOR}


def test_an_unknown_member_is_not_found(directory: Directory, founded: Actor):
    with pytest.raises(StaffNotFound) as caught:
        directory.member("Nobody")
    assert caught.value.staff_id == "nobody"


def test_only_a_member_admin_registers_in_directory_mode(directory: Directory, founded: Actor):
    self_declared = Actor(id="mallory", roles={Role.ADMIN})
    with pytest.raises(NotAuthorized, match="not in the staff directory"):
        add(directory, self_declared, "accomplice", Role.APPROVER)
    alice = add(directory, founded, "alice", Role.INVESTIGATOR).actor([Role.ADMIN])
    with pytest.raises(NotAuthorized, match="needs the role admin"):
        add(directory, alice, "accomplice", Role.APPROVER)
    with pytest.raises(StaffNotFound):
        directory.member("accomplice")


def test_a_revoked_member_stays_revoked(directory: Directory, founded: Actor):
    add(directory, founded, "bob", Role.APPROVER)
    directory.revoke("BOB", by=founded)
    with pytest.raises(InvalidTransition):
        directory.revoke("bob", by=founded)
    with pytest.raises(NotAuthorized, match="revoked"):
        directory.acting(Actor(id="bob", roles={Role.APPROVER}))


def test_a_change_that_lost_a_race_is_a_conflict(
    engine: DisputeEngine, directory: Directory, founded: Actor
):
    add(directory, founded, "bob", Role.APPROVER)
    first, second = directory.member("bob"), directory.member("bob")
    first.revoke(by=founded, now=engine.now())
    engine._core.events.save(first)
    second.register_key(Identity.generate("bob").public_key_hex, by=founded, now=engine.now())
    with pytest.raises(ConcurrencyConflict):
        directory._save(second)


# -- who acts -------------------------------------------------------------------------


def test_roles_come_from_the_directory_not_from_the_caller(directory: Directory, founded: Actor):
    add(directory, founded, "alice", Role.INVESTIGATOR)
    acting = directory.acting(Actor(id="Alice", roles={Role.APPROVER}))
    assert acting.roles == {Role.INVESTIGATOR}
    with pytest.raises(NotAuthorized):
        require_permission(acting, Action.APPROVE_DECISION)


def test_without_the_directory_the_caller_is_taken_as_given(
    engine: DisputeEngine, clock: FakeClock
):
    open_directory = Directory(engine._core.events, clock=clock, required=False)
    claimed = Actor(id="anyone", roles={Role.APPROVER})
    assert open_directory.acting(claimed) is claimed


def test_a_key_file_that_is_not_the_members_key_is_refused(directory: Directory, founded: Actor):
    add(directory, founded, "alice", Role.INVESTIGATOR)
    impostor = Identity.generate("alice").actor([Role.INVESTIGATOR])
    with pytest.raises(NotAuthorized, match="not the one the directory holds"):
        directory.acting(impostor)


def test_a_signing_member_keeps_their_key_and_gets_the_directorys_roles(
    directory: Directory, founded: Actor
):
    alice = add(directory, founded, "alice", Role.INVESTIGATOR)
    acting = directory.acting(alice.actor([Role.APPROVER]))
    assert acting.roles == {Role.INVESTIGATOR}
    assert verify_signature(alice.public_key_hex, STATEMENT, directory.sign(acting, STATEMENT))


# -- signatures -----------------------------------------------------------------------


def test_an_unsigned_decision_step_is_refused_in_directory_mode(
    directory: Directory, founded: Actor
):
    add(directory, founded, "bob", Role.APPROVER)
    with pytest.raises(DecisionSignatureRefused, match="must sign"):
        directory.sign(directory.acting(Actor(id="bob", roles=set())), STATEMENT)


def test_a_signature_by_the_wrong_key_does_not_stand(directory: Directory, founded: Actor):
    add(directory, founded, "bob", Role.APPROVER)
    forged = Identity.generate("bob").sign(STATEMENT)
    problem = directory.signature_problem("bob", STATEMENT, forged, directory._now())
    assert problem is not None
    assert "key in force" in problem


def test_after_a_key_rotation_old_signatures_verify_against_the_old_key(
    directory: Directory, founded: Actor, clock: FakeClock
):
    old = add(directory, founded, "bob", Role.APPROVER)
    signed_at = clock()
    old_signature = old.sign(STATEMENT)
    new = Identity.generate("bob")
    directory.register_key("bob", new.public_key_hex, by=founded)
    now = clock()
    assert directory.signature_problem("bob", STATEMENT, old_signature, signed_at) is None
    assert directory.signature_problem("bob", STATEMENT, old_signature, now) is not None
    assert directory.signature_problem("bob", STATEMENT, new.sign(STATEMENT), now) is None
    with pytest.raises(NotAuthorized):
        directory.acting(old.actor([]))


def test_a_revoked_members_old_signatures_still_verify(
    directory: Directory, founded: Actor, clock: FakeClock
):
    bob = add(directory, founded, "bob", Role.APPROVER)
    signed_at = clock()
    signature = bob.sign(STATEMENT)
    directory.revoke("bob", by=founded)
    assert directory.signature_problem("bob", STATEMENT, signature, signed_at) is None
    assert directory.signature_problem("bob", STATEMENT, signature, clock()) is not None


# -- the view -------------------------------------------------------------------------


def test_the_view_holds_members_roles_languages_and_key_periods(
    engine: DisputeEngine, directory: Directory, founded: Actor
):
    add(directory, founded, "alice", Role.INVESTIGATOR, languages=["zh-hant", "en"])
    add(directory, founded, "bob", Role.APPROVER, display_name="Bob Marley")
    directory.register_key("bob", Identity.generate("bob").public_key_hex, by=founded)
    directory.revoke("alice", by=founded)

    members = {m.staff_id: m for m in rebuilt_view(engine)}
    assert sorted(members) == ["alice", "bob", "root"]
    assert [m.staff_id for m in directory.members()] == ["alice", "bob", "root"]
    alice, bob = members["alice"], members["bob"]
    assert alice.languages == ("en", "zh-Hant")
    assert alice.serves("zh-Hant")
    assert not alice.serves("zh")
    assert not alice.active
    assert alice.public_key is None
    assert alice.revoked_at is not None
    assert bob.display_name == "Bob Marley"
    assert bob.roles == {Role.APPROVER}
    assert [k.valid_until is None for k in bob.keys] == [False, True]
    assert bob.keys[0].valid_until == bob.keys[1].valid_from
    aggregate = directory.member("bob")
    assert bob.keys == tuple(aggregate.keys)
    assert bob.version == aggregate.version
    assert StaffDirectory.member(engine._core.db, "\uff22\uff2f\uff22") == bob
    assert StaffDirectory.member(engine._core.db, "nobody") is None
    assert [m.staff_id for m in StaffDirectory.members(engine._core.db, include_revoked=False)] == [
        "bob",
        "root",
    ]


def test_the_view_starts_empty(engine: DisputeEngine):
    view = StaffDirectory()
    view.create(engine._core.db)
    assert StaffDirectory.is_empty(engine._core.db)
    assert StaffDirectory.members(engine._core.db) == []


def test_directory_events_name_the_admin_who_made_them(
    engine: DisputeEngine, directory: Directory, founded: Actor
):
    add(directory, founded, "alice", Role.INVESTIGATOR)
    events = engine._core.events.repository.event_store.get(Staff.create_id("alice"))
    assert [(type(e).__name__, cast(Any, e).actor) for e in events] == [("Registered", "root")]


def test_a_directory_founded_by_another_engine_shows_at_the_next_assignment(
    engine: DisputeEngine, db_url: str, clock: FakeClock, alice: Actor
):
    dispute_id = file_dispute(engine, alice, language="zh")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no directory yet: nothing to warn about
        engine.assign(dispute_id, investigator="ana", by=alice)
    root = Identity.generate("root")
    with DisputeEngine.open(db_url, clock=clock) as other:
        other.init_staff("root", public_key=root.public_key_hex, languages=["en"])
        other.register_staff(
            "ana",
            roles=[Role.INVESTIGATOR],
            languages=["es"],
            public_key=Identity.generate("ana").public_key_hex,
            by=root,
        )
    with pytest.warns(UserWarning, match="ana does not serve zh"):
        engine.assign(dispute_id, investigator="ANA", by=alice)


def test_a_fault_reading_the_founding_at_assignment_is_storage_unavailable(
    engine: DisputeEngine, alice: Actor, monkeypatch: pytest.MonkeyPatch
):
    dispute_id = file_dispute(engine, alice)

    def fault(originator_id: object) -> bool:  # what the driver raises for a damaged file
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(engine._core.events, "holds", fault)
    with pytest.raises(StorageUnavailable, match="malformed"):
        engine.assign(dispute_id, investigator="ana", by=alice)
