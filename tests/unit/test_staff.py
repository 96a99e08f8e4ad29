"""The staff directory's member: admins change it, keys rotate, revocation is final."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.actor import DENIED, PERMISSIONS, Actor, Role, require_permission
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.staff import FOUNDING, Founding, Staff, language_tag
from dispute_engine.errors import InvalidInput, InvalidTransition, NotAuthorized

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEY1 = "11" * 32
KEY2 = "22" * 32
KEY3 = "33" * 32
ADMIN = Actor(id="root", roles=frozenset({Role.ADMIN}))
OTHER_ADMIN = Actor(id="second-admin", roles=frozenset({Role.ADMIN}))
INVESTIGATOR = Actor(id="ivan", roles=frozenset({Role.INVESTIGATOR}))


def register(staff_id: str = "Alice", **changes: object) -> Staff:
    fields: dict[str, object] = {
        "display_name": "Alice Liddell",
        "roles": [Role.INVESTIGATOR],
        "languages": ["en", "zh"],
        "public_key": KEY1,
        "by": ADMIN,
        "now": T0,
    }
    fields.update(changes)
    return Staff.register(staff_id, **fields)  # type: ignore[arg-type]


def replayed(member: Staff) -> Staff:
    copy: Staff | None = None
    for item in member.collect_events():
        copy = item.mutate(copy)
    assert copy is not None
    return copy


# -- registration -----------------------------------------------------------------------


def test_an_admin_registers_a_member_under_the_canonical_id():
    member = register(" ALICE ")
    assert member.staff_id == "alice"
    assert member.display_name == "Alice Liddell"
    assert member.roles == {Role.INVESTIGATOR}
    assert member.languages == ("en", "zh")
    assert member.public_key == KEY1
    assert member.active
    assert member.registered_by == "root"


def test_two_spellings_of_one_person_are_one_aggregate():
    assert Staff.create_id("alice") == Staff.create_id("\uff21\uff2c\uff29\uff23\uff25")
    assert Staff.create_id("alice") != Staff.create_id("bob")
    assert register("Alice").id == Staff.create_id("alice")


def test_the_staff_namespace_differs_from_the_disputes_one():
    from dispute_engine.domain.dispute import Dispute

    assert Staff.create_id("alice") != Dispute.create_id("alice")


@pytest.mark.parametrize("actor", [INVESTIGATOR, Actor(id="a", roles=frozenset({Role.APPROVER}))])
def test_only_an_admin_registers_members(actor: Actor):
    with pytest.raises(NotAuthorized, match="needs the role admin"):
        register(by=actor)


def test_an_invisible_character_in_the_staff_id_is_refused():
    with pytest.raises(InvalidInput) as caught:
        register("ali\u200bce")
    assert caught.value.fields == ["staff_id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", ""),
        ("display_name", "x" * 201),
        ("display_name", "Alice\u202e"),
        ("roles", []),
        ("roles", ["wizard"]),
        ("roles", [Role.ADMIN, Role.APPROVER]),
        ("languages", ["english"]),
        ("languages", ["zh-"]),
        ("languages", ["e"]),
        ("languages", [f"a{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40)]),
        ("public_key", "11" * 31),
        ("public_key", "zz" * 32),
        ("public_key", ""),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(field: str, value: object):
    with pytest.raises(InvalidInput) as caught:
        register(**{field: value})
    assert caught.value.fields[0].split(".")[0] == field


def test_a_time_without_a_zone_is_refused():
    with pytest.raises(InvalidInput) as caught:
        register(now=datetime(2026, 3, 1, 9, 0))
    assert caught.value.fields == ["now"]


def test_a_single_role_or_language_given_bare_is_one_value():
    member = register(roles="approver", languages="es")
    assert member.roles == {Role.APPROVER}
    assert member.languages == ("es",)


def test_a_public_key_is_stored_as_lowercase_hex_without_prefix():
    assert register(public_key="0x" + "AB" * 32).public_key == "ab" * 32


def test_an_admin_may_register_themselves_only_as_admin():
    assert register("root", roles=[Role.ADMIN]).roles == {Role.ADMIN}
    with pytest.raises(NotAuthorized, match="may not grant themselves investigator"):
        register("ROOT", roles=[Role.ADMIN, Role.INVESTIGATOR])


# -- languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("en", "en"),
        ("ZH", "zh"),
        ("zh-hant", "zh-Hant"),
        ("zh_TW", "zh-TW"),
        ("es-mx", "es-MX"),
        ("es-419", "es-419"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("yue", "yue"),
    ],
)
def test_language_tags_take_their_canonical_case(text: str, tag: str):
    assert language_tag(text) == tag


@pytest.mark.parametrize("text", ["", "english", "zh-", "-en", "en-US-x-private", "e1", "zh-Hant-"])
def test_a_malformed_language_tag_is_refused(text: str):
    with pytest.raises(ValueError, match="BCP 47"):
        language_tag(text)


def test_languages_are_deduplicated_and_sorted():
    assert register(languages=["zh", "EN", "en", "es"]).languages == ("en", "es", "zh")


def test_a_member_serving_a_language_serves_its_regional_forms_not_the_reverse():
    member = register(languages=["zh", "es-MX"])
    assert member.serves("zh-Hant")
    assert member.serves("ZH")
    assert member.serves("es-MX")
    assert not member.serves("es")
    assert not member.serves("en")
    with pytest.raises(InvalidInput):
        member.serves("chinese")


# -- changes -------------------------------------------------------------------------------


def test_an_admin_changes_roles_and_languages_as_events():
    member = register()
    member.change_roles([Role.APPROVER], by=ADMIN, now=T0 + timedelta(hours=1))
    member.change_languages(["es"], by=ADMIN, now=T0 + timedelta(hours=2))
    assert member.roles == {Role.APPROVER}
    assert member.languages == ("es",)
    names = [type(e).__name__ for e in member.pending_events]
    assert names == ["Registered", "RolesChanged", "LanguagesChanged"]


def test_replay_gives_the_live_state():
    member = register()
    member.register_key(KEY2, by=ADMIN, now=T0 + timedelta(days=1))
    member.change_roles([Role.APPROVER], by=ADMIN, now=T0 + timedelta(days=2))
    member.revoke(by=ADMIN, now=T0 + timedelta(days=3))
    copy = replayed(member)
    assert copy.keys == member.keys
    assert copy.roles == member.roles
    assert copy.status == member.status == "revoked"


def test_a_non_admin_changes_nothing():
    member = register()
    for change in (
        lambda: member.change_roles([Role.APPROVER], by=INVESTIGATOR, now=T0),
        lambda: member.change_languages(["es"], by=INVESTIGATOR, now=T0),
        lambda: member.register_key(KEY2, by=INVESTIGATOR, now=T0),
        lambda: member.revoke(by=INVESTIGATOR, now=T0),
    ):
        with pytest.raises(NotAuthorized):
            change()
    assert len(member.pending_events) == 1


def test_a_change_that_changes_nothing_is_refused():
    member = register()
    with pytest.raises(InvalidInput, match="already holds"):
        member.change_roles([Role.INVESTIGATOR], by=ADMIN, now=T0)
    with pytest.raises(InvalidInput, match="already serves"):
        member.change_languages(["zh", "en"], by=ADMIN, now=T0)


def test_an_admin_may_not_grant_themselves_a_role():
    admin = register("root", roles=[Role.ADMIN])
    with pytest.raises(NotAuthorized, match="grant themselves"):
        admin.change_roles([Role.ADMIN, Role.INVESTIGATOR], by=ADMIN, now=T0)


def test_an_admin_may_not_become_an_approver():
    member = register(roles=[Role.ADMIN])
    with pytest.raises(InvalidInput, match="admin and approver may not be held by one member"):
        member.change_roles([Role.ADMIN, Role.APPROVER], by=OTHER_ADMIN, now=T0)


def test_an_admin_may_not_take_away_their_own_admin_role():
    admin = register("root", roles=[Role.ADMIN, Role.AUDITOR], by=OTHER_ADMIN)
    with pytest.raises(NotAuthorized, match="their own admin role"):
        admin.change_roles([Role.AUDITOR], by=ADMIN, now=T0)
    admin.change_roles([Role.AUDITOR], by=OTHER_ADMIN, now=T0)
    assert admin.roles == {Role.AUDITOR}


def test_the_roles_held_at_a_moment_are_those_of_the_last_change_before_it():
    member = register()
    promoted, revoked = T0 + timedelta(days=1), T0 + timedelta(days=2)
    member.change_roles([Role.APPROVER], by=ADMIN, now=promoted)
    member.revoke(by=ADMIN, now=revoked)
    assert member.roles_at(T0 - timedelta(seconds=1)) == frozenset()
    assert member.roles_at(T0) == {Role.INVESTIGATOR}
    assert member.roles_at(promoted - timedelta(seconds=1)) == {Role.INVESTIGATOR}
    assert member.roles_at(promoted) == {Role.APPROVER}
    assert member.roles_at(revoked) == frozenset()
    assert replayed(member).role_history == member.role_history
    with pytest.raises(InvalidInput):
        member.roles_at(datetime(2026, 3, 1))


def test_a_change_dated_before_the_last_one_is_refused():
    member = register()
    with pytest.raises(InvalidInput) as caught:
        member.change_languages(["es"], by=ADMIN, now=T0 - timedelta(seconds=1))
    assert caught.value.fields == ["now"]


# -- keys ------------------------------------------------------------------------------------


def test_a_rotated_key_keeps_old_signatures_verifiable_at_their_time():
    member = register()
    rotated = T0 + timedelta(days=30)
    member.register_key(KEY2, by=ADMIN, now=rotated)
    assert member.public_key == KEY2
    assert member.key_valid_at(T0) == KEY1
    assert member.key_valid_at(rotated - timedelta(microseconds=1)) == KEY1
    assert member.key_valid_at(rotated) == KEY2
    assert member.key_valid_at(rotated + timedelta(days=365)) == KEY2


def test_no_key_was_in_force_before_registration():
    assert register().key_valid_at(T0 - timedelta(microseconds=1)) is None


def test_a_key_the_member_held_before_may_not_come_back():
    member = register()
    member.register_key(KEY2, by=ADMIN, now=T0 + timedelta(days=1))
    with pytest.raises(InvalidInput, match="already held this key"):
        member.register_key("0x" + KEY1.upper(), by=ADMIN, now=T0 + timedelta(days=2))


def test_key_lookup_needs_a_time_zone():
    with pytest.raises(InvalidInput) as caught:
        register().key_valid_at(datetime(2026, 3, 1))
    assert caught.value.fields == ["when"]


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6, unique=True))
def test_exactly_the_key_registered_last_before_a_moment_is_in_force_then(offsets: list[int]):
    member = register()
    offsets.sort()
    for n, minutes in enumerate(offsets, start=2):
        member.register_key(f"{n:064x}", by=ADMIN, now=T0 + timedelta(minutes=minutes))
    for probe in range(0, offsets[-1] + 2):
        when = T0 + timedelta(minutes=probe)
        started = [m for m in offsets if m <= probe]
        expected = f"{len(started) + 1:064x}" if started else KEY1
        assert member.key_valid_at(when) == expected


# -- revocation ------------------------------------------------------------------------------


def test_a_revoked_member_cannot_act_but_their_past_signatures_still_verify():
    member = register()
    revoked = T0 + timedelta(days=10)
    member.revoke(by=ADMIN, now=revoked)
    assert not member.active
    assert member.revoked_at == revoked
    assert member.public_key is None
    assert member.key_valid_at(revoked - timedelta(seconds=1)) == KEY1
    assert member.key_valid_at(revoked) is None
    with pytest.raises(NotAuthorized, match="revoked"):
        member.actor()


def test_a_revoked_member_cannot_be_changed():
    member = register()
    member.revoke(by=ADMIN, now=T0)
    for change in (
        lambda: member.revoke(by=ADMIN, now=T0),
        lambda: member.register_key(KEY3, by=ADMIN, now=T0),
        lambda: member.change_roles([Role.APPROVER], by=ADMIN, now=T0),
        lambda: member.change_languages(["es"], by=ADMIN, now=T0),
    ):
        with pytest.raises(InvalidTransition) as caught:
            change()
        assert caught.value.status == "revoked"


def test_an_admin_may_not_revoke_themselves():
    admin = register("ROOT", roles=[Role.ADMIN])
    with pytest.raises(NotAuthorized, match="revoke themselves"):
        admin.revoke(by=ADMIN, now=T0)
    assert admin.active


def test_the_actor_carries_the_directorys_roles():
    member = register(roles=[Role.APPROVER])
    assert member.actor() == Actor(id="alice", roles=frozenset({Role.APPROVER}))


# -- separation of duties ---------------------------------------------------------------------


def test_admins_manage_the_directory_and_nothing_else():
    admin_actions = {a for a, roles in PERMISSIONS.items() if Role.ADMIN in roles}
    assert admin_actions == {"register_staff", "change_staff", "revoke_staff"}


@pytest.mark.parametrize("action", [Action.APPROVE_DECISION, Action.EXECUTE_DECISION])
def test_an_admin_may_not_move_money_even_holding_the_role_that_could(action: Action):
    both = Actor(id="mallory", roles=frozenset({Role.ADMIN, Role.APPROVER, Role.INVESTIGATOR}))
    with pytest.raises(NotAuthorized, match="may not move money"):
        require_permission(both, action)
    require_permission(Actor(id="a", roles=frozenset({Role.APPROVER})), action)


def test_denied_roles_name_real_actions_and_are_never_also_allowed_them():
    for action, roles in DENIED.items():
        assert action in PERMISSIONS
        assert not roles & PERMISSIONS[action]


# -- arbitrary input and storage -----------------------------------------------------------------

anything = st.one_of(
    st.text(max_size=300),
    st.lists(st.text(max_size=20), max_size=5),
    st.integers(),
    st.none(),
    st.binary(max_size=40),
)


@given(
    staff_id=st.text(max_size=200),
    display_name=anything,
    roles=anything,
    languages=anything,
    public_key=anything,
)
def test_registration_with_anything_is_a_member_or_a_typed_refusal(
    staff_id: str, display_name: object, roles: object, languages: object, public_key: object
):
    try:
        member = register(
            staff_id,
            display_name=display_name,
            roles=roles,
            languages=languages,
            public_key=public_key,
        )
    except (InvalidInput, NotAuthorized):
        return
    assert member.active
    assert [type(e).__name__ for e in member.pending_events] == ["Registered"]


@given(languages=anything, roles=anything, key=anything)
def test_changes_with_anything_are_recorded_or_refused_without_an_event(
    languages: object, roles: object, key: object
):
    member = register()
    for change in (
        lambda: member.change_languages(languages, by=ADMIN, now=T0),  # type: ignore[arg-type]
        lambda: member.change_roles(roles, by=ADMIN, now=T0),  # type: ignore[arg-type]
        lambda: member.register_key(key, by=ADMIN, now=T0),  # type: ignore[arg-type]
    ):
        before = len(member.pending_events)
        try:
            change()
        except (InvalidInput, NotAuthorized):
            assert len(member.pending_events) == before


def test_a_member_survives_storage_and_one_id_cannot_be_registered_twice():
    from eventsourcing.application import Application
    from eventsourcing.persistence import IntegrityError

    app: Application = Application()
    member = register()
    member.register_key(KEY2, by=ADMIN, now=T0 + timedelta(days=1))
    member.revoke(by=ADMIN, now=T0 + timedelta(days=2))
    app.save(member)
    stored = app.repository.get(Staff.create_id("ALICE"))
    assert isinstance(stored, Staff)
    assert stored.keys == member.keys
    assert stored.key_valid_at(T0 + timedelta(hours=1)) == KEY1
    assert stored.status == "revoked"
    with pytest.raises(IntegrityError):
        app.save(register("alice", public_key=KEY3))


def test_limits_are_inclusive_at_their_bounds():
    tags = [f"a{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(33)]
    assert len(register(languages=tags[:32], display_name="x" * 200).languages) == 32
    with pytest.raises(InvalidInput, match="at most 32 languages"):
        register(languages=tags)


# -- what a refusal tells the caller ----------------------------------------------------------


def only_problem(caught: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, str]:
    [problem] = caught.value.errors
    return problem["field"], problem["message"]


@pytest.mark.parametrize("char", ["\x07", "\u200b", "\ue000", "\u0378"])
def test_a_display_name_with_a_control_private_or_unassigned_character_is_refused(char: str):
    with pytest.raises(InvalidInput) as caught:
        register(display_name=f"Alice{char}")
    assert only_problem(caught) == (
        "display_name",
        "must not contain control or invisible characters",
    )


def test_a_display_name_holding_half_a_surrogate_pair_is_refused():
    with pytest.raises(InvalidInput) as caught:
        register(display_name="Alice\ud800")
    assert caught.value.fields == ["display_name"]


def test_a_malformed_key_or_empty_roles_are_refused_saying_what_is_expected():
    with pytest.raises(InvalidInput) as caught:
        register(public_key="11" * 31)
    assert only_problem(caught) == (
        "public_key",
        "must be an Ed25519 public key: 64 hex digits (32 bytes)",
    )
    with pytest.raises(InvalidInput) as caught:
        register(roles=[])
    assert only_problem(caught) == ("roles", "a member needs at least one role")


def test_asking_whether_a_member_serves_a_malformed_language_names_the_language():
    with pytest.raises(InvalidInput) as caught:
        register().serves("english")
    field, message = only_problem(caught)
    assert field == "language"
    assert "'english' is not a BCP 47 language tag" in message


def test_an_invisible_staff_id_is_refused_naming_the_staff_id():
    with pytest.raises(InvalidInput) as caught:
        Staff.create_id("alice\u200b")
    assert caught.value.fields == ["staff_id"]


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_time_whose_zone_gives_no_offset_is_refused_like_a_naive_one():
    with pytest.raises(InvalidInput) as caught:
        register(now=datetime(2026, 3, 1, 9, 0, tzinfo=_NoOffset()))
    assert only_problem(caught) == ("now", "must carry a time zone")


def test_every_time_a_member_is_asked_about_or_changed_at_needs_a_zone_named_in_the_error():
    member = register()
    naive = datetime(2026, 3, 2, 9, 0)
    for ask, field in (
        (lambda: member.roles_at(naive), "when"),
        (lambda: member.key_valid_at(naive), "when"),
        (lambda: member.change_languages(["es"], by=ADMIN, now=naive), "now"),
        (lambda: member.register_key(KEY2, by=ADMIN, now=naive), "now"),
    ):
        with pytest.raises(InvalidInput) as caught:
            ask()
        assert only_problem(caught) == (field, "must carry a time zone")


def test_a_change_dated_before_the_last_one_says_when_the_last_one_was():
    member = register()
    with pytest.raises(InvalidInput) as caught:
        member.change_languages(["es"], by=ADMIN, now=T0 - timedelta(seconds=1))
    assert only_problem(caught) == ("now", f"is before the member's last change at {T0}")


def test_a_change_that_changes_nothing_names_the_unchanged_field():
    member = register()
    for change, field in (
        (lambda: member.change_roles([Role.INVESTIGATOR], by=ADMIN, now=T0), "roles"),
        (lambda: member.change_languages(["zh", "en"], by=ADMIN, now=T0), "languages"),
        (lambda: member.register_key(KEY1, by=ADMIN, now=T0), "public_key"),
    ):
        with pytest.raises(InvalidInput) as caught:
            change()
        assert caught.value.fields == [field]


def test_a_refused_self_service_names_the_admin_who_tried():
    admin = register("root", roles=[Role.ADMIN])
    with pytest.raises(NotAuthorized) as caught:
        register("root", roles=[Role.ADMIN, Role.INVESTIGATOR, Role.AUDITOR])
    assert caught.value.actor == "root"
    assert str(caught.value) == "root may not grant themselves auditor, investigator"
    two_roles = register("root", roles=[Role.ADMIN, Role.INVESTIGATOR], by=OTHER_ADMIN)
    with pytest.raises(NotAuthorized) as caught:
        two_roles.change_roles([Role.INVESTIGATOR], by=ADMIN, now=T0)
    assert caught.value.actor == "root"
    assert str(caught.value) == "an admin may not take away their own admin role; ask another"
    with pytest.raises(NotAuthorized) as caught:
        admin.revoke(by=ADMIN, now=T0)
    assert caught.value.actor == "root"
    assert str(caught.value) == "an admin may not revoke themselves; ask another"


def test_a_revoked_member_is_named_when_refused_and_the_refused_change_is_named():
    member = register()
    member.revoke(by=ADMIN, now=T0)
    with pytest.raises(NotAuthorized) as caught:
        member.actor()
    assert caught.value.actor == "alice"
    with pytest.raises(InvalidTransition) as refused:
        member.change_languages(["es"], by=ADMIN, now=T0)
    assert refused.value.action == "change_staff"
    assert "alice has been revoked" in str(refused.value)
    with pytest.raises(InvalidTransition) as refused:
        member.revoke(by=ADMIN, now=T0)
    assert refused.value.action == "revoke_staff"


def test_every_change_records_the_admin_who_made_it():
    member = register()
    member.change_roles([Role.AUDITOR], by=OTHER_ADMIN, now=T0)
    member.change_languages(["es"], by=OTHER_ADMIN, now=T0)
    member.register_key(KEY2, by=OTHER_ADMIN, now=T0)
    member.revoke(by=OTHER_ADMIN, now=T0)
    events = member.collect_events()
    assert [e.actor for e in events] == ["root"] + ["second-admin"] * 4  # type: ignore[attr-defined]


def test_roles_and_languages_may_be_given_as_any_iterable():
    member = register(roles=(r for r in [Role.AUDITOR]), languages=iter(["es", "en"]))
    assert member.roles == {Role.AUDITOR}
    assert member.languages == ("en", "es")


@pytest.mark.parametrize("value", [{"approver": "yes"}, b"approver"])
def test_roles_given_as_a_mapping_or_bytes_are_refused_not_read_as_their_keys(value: object):
    with pytest.raises(InvalidInput) as caught:
        register(roles=value)
    assert caught.value.fields == ["roles"]


def test_the_founding_records_the_first_admin_when_they_registered():
    admin = register("root", roles=[Role.ADMIN], now=T0 + timedelta(hours=1))
    founding = Founding.found(admin)
    assert founding.id == FOUNDING == Founding.create_id("someone-else")
    assert founding.first_admin == "root"
    assert founding.created_on == T0 + timedelta(hours=1)
    [founded] = founding.collect_events()
    assert founded.actor == "root"  # type: ignore[attr-defined]
