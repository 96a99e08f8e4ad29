"""Personal data sealed per claimant: round trips, refusals, forgetting, rotation, no clear text."""

from __future__ import annotations

import base64
import multiprocessing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispute_engine.database import Database
from dispute_engine.errors import InvalidInput, PersonalDataErased, PersonalDataRefused
from dispute_engine.personal_data import (
    ERASED,
    ClaimantKeys,
    MasterKey,
    PersonalData,
    master_keys,
)
from dispute_engine.settings import Settings
from tests.conftest import PG_URL
from tests.databases import open_database

MARKER = "Zebra-Quokka-7731 lives at 12 Marker Lane"
PURPOSE = "claim.description"


@pytest.fixture
def db(db_url: str) -> Database:
    return open_database(db_url)


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def vault(db: Database, master: MasterKey) -> PersonalData:
    return PersonalData(ClaimantKeys(db, master))


def key_rows(db: Database, claimant: str) -> list[dict[str, Any]]:
    table = db.table("claimant_data_keys")
    return [
        dict(r) for r in db.fetchall(f"SELECT * FROM {table} WHERE claimant_id = ?", (claimant,))
    ]


def test_a_sealed_field_opens_for_its_claimant_and_purpose(vault: PersonalData):
    sealed = vault.seal("user-1842", PURPOSE, MARKER)
    assert sealed.startswith("pd1.")
    assert MARKER not in sealed
    assert vault.open("user-1842", PURPOSE, sealed) == MARKER
    blob = vault.seal_bytes("user-1842", "evidence.content", b"\x89PNG" + MARKER.encode())
    assert vault.open_bytes("user-1842", "evidence.content", blob) == b"\x89PNG" + MARKER.encode()


def test_the_same_value_sealed_twice_gives_different_envelopes(vault: PersonalData):
    assert vault.seal("user-1", PURPOSE, MARKER) != vault.seal("user-1", PURPOSE, MARKER)


def test_a_sealed_field_does_not_open_for_another_claimant(vault: PersonalData):
    sealed = vault.seal("user-1", PURPOSE, MARKER)
    vault.seal("user-2", PURPOSE, "user 2 has a key of the same generation")
    with pytest.raises(PersonalDataRefused):
        vault.open("user-2", PURPOSE, sealed)


def test_a_sealed_field_does_not_open_as_another_field(vault: PersonalData):
    sealed = vault.seal("user-1", PURPOSE, MARKER)
    with pytest.raises(PersonalDataRefused):
        vault.open("user-1", "contact.email", sealed)


def test_every_damaged_byte_of_an_envelope_is_refused(vault: PersonalData):
    sealed = vault.seal_bytes("user-1", PURPOSE, MARKER.encode())
    for i in range(len(sealed)):
        damaged = sealed[:i] + bytes([sealed[i] ^ 0x01]) + sealed[i + 1 :]
        with pytest.raises(PersonalDataRefused):
            vault.open_bytes("user-1", PURPOSE, damaged)
    for text in ("", "pd1.", "pd1.!!!", "plain text", "pd1." + "A" * 40):
        with pytest.raises(PersonalDataRefused):
            vault.open("user-1", PURPOSE, text)


def test_two_spellings_of_one_claimant_share_one_key(vault: PersonalData, db: Database):
    sealed = vault.seal("User-1842", PURPOSE, MARKER)
    assert vault.open("\uff55ser-1842 ", PURPOSE, sealed) == MARKER
    assert len(key_rows(db, "user-1842")) == 1


def test_forgetting_a_claimant_erases_their_data_and_no_one_elses(vault: PersonalData):
    theirs = [vault.seal("user-1", PURPOSE, f"{MARKER} {n}") for n in range(3)]
    others = vault.seal("user-2", PURPOSE, MARKER)
    assert vault.forget("USER-1") == 1
    for sealed in theirs:
        with pytest.raises(PersonalDataErased) as caught:
            vault.open("user-1", PURPOSE, sealed)
        assert caught.value.claimant_id == "user-1"
        assert vault.reveal("user-1", PURPOSE, sealed) is ERASED
    assert str(ERASED) == "[erased]"
    assert vault.reveal("user-2", PURPOSE, others) == MARKER


def test_forgetting_leaves_a_tombstone_and_no_key(vault: PersonalData, db: Database):
    vault.seal("user-1", PURPOSE, MARKER)
    vault.forget("user-1")
    (row,) = key_rows(db, "user-1")
    assert row["wrapped"] is None
    assert row["master_key_id"] is None
    assert row["forgotten_at"] is not None
    assert vault.keys.forgotten("user-1")
    assert vault.forget("user-1") == 0


def test_a_returning_claimant_gets_a_new_key_that_cannot_read_old_data(
    vault: PersonalData, db: Database
):
    old = vault.seal("user-1", PURPOSE, MARKER)
    vault.forget("user-1")
    new = vault.seal("user-1", PURPOSE, "filed again after being forgotten")
    assert vault.open("user-1", PURPOSE, new) == "filed again after being forgotten"
    assert not vault.keys.forgotten("user-1")
    assert vault.reveal("user-1", PURPOSE, old) is ERASED
    assert sorted(r["generation"] for r in key_rows(db, "user-1")) == [1, 2]


def test_forgetting_a_claimant_never_seen_still_erases_a_later_key_generation_one(
    vault: PersonalData, db: Database
):
    assert vault.forget("user-9") == 0
    assert vault.keys.forgotten("user-9")
    sealed = vault.seal("user-9", PURPOSE, MARKER)
    assert vault.keys.current("user-9").generation == 2
    assert vault.open("user-9", PURPOSE, sealed) == MARKER


def test_a_rotated_master_key_opens_old_data_and_rewrap_moves_every_key(
    db: Database, master: MasterKey
):
    old_vault = PersonalData(ClaimantKeys(db, master))
    sealed = {c: old_vault.seal(c, PURPOSE, f"{MARKER} {c}") for c in ("u1", "u2", "u3")}
    old_vault.forget("u3")
    rotated = MasterKey.generate()

    only_new = PersonalData(ClaimantKeys(db, rotated))
    with pytest.raises(PersonalDataRefused, match="previous_master_keys"):
        only_new.open("u1", PURPOSE, sealed["u1"])

    during = PersonalData(ClaimantKeys(db, rotated, [master]))
    assert during.open("u1", PURPOSE, sealed["u1"]) == f"{MARKER} u1"
    assert during.keys.rewrap() == 2
    assert during.keys.rewrap() == 0

    assert only_new.open("u1", PURPOSE, sealed["u1"]) == f"{MARKER} u1"
    assert only_new.open("u2", PURPOSE, sealed["u2"]) == f"{MARKER} u2"
    assert only_new.reveal("u3", PURPOSE, sealed["u3"]) is ERASED
    assert {r["master_key_id"] for r in key_rows(db, "u1")} == {rotated.key_id}


def test_bad_input_is_invalid_input_and_writes_no_key(vault: PersonalData, db: Database):
    bad: list[tuple[Any, Any, Any]] = [
        ("", PURPOSE, "x"),
        ("user\u200b1", PURPOSE, "x"),
        ("u" * 201, PURPOSE, "x"),
        (42, PURPOSE, "x"),
        ("user-1", "", "x"),
        ("user-1", "Claim Description", "x"),
        ("user-1", "x" * 65, "x"),
        ("user-1", PURPOSE, b"bytes where text belongs"),
        ("user-1", PURPOSE, None),
    ]
    for claimant, purpose, value in bad:
        with pytest.raises(InvalidInput):
            vault.seal(claimant, purpose, value)
    with pytest.raises(InvalidInput):
        vault.seal_bytes("user-1", PURPOSE, "text where bytes belong")  # type: ignore[arg-type]
    table = db.table("claimant_data_keys")
    assert db.fetchall(f"SELECT * FROM {table}") == []


def test_master_keys_come_from_settings_and_bad_ones_are_invalid_input():
    key = base64.b64encode(bytes(range(32))).decode()
    other = base64.b64encode(bytes(32)).decode()
    current, previous = master_keys(
        Settings(master_key=key, previous_master_keys=[other])  # type: ignore[arg-type]
    )
    assert current.key_id == MasterKey(bytes(range(32))).key_id
    assert [p.key_id for p in previous] == [MasterKey(bytes(32)).key_id]
    assert key not in repr(current)
    for bad in ("", "not base64!", base64.b64encode(bytes(16)).decode()):
        with pytest.raises(InvalidInput) as caught:
            master_keys(Settings(master_key=bad))  # type: ignore[arg-type]
        assert caught.value.fields == ["master_key"]
    with pytest.raises(InvalidInput):
        master_keys(Settings(master_key=None))
    with pytest.raises(InvalidInput) as caught:
        master_keys(Settings(master_key=key, previous_master_keys=["short"]))  # type: ignore[arg-type,list-item]
    assert caught.value.fields == ["previous_master_keys.0"]


def _seal_at_once(url: str, master: str, barrier: Any, claimant: str) -> str:
    vault = PersonalData(ClaimantKeys(open_database(url), MasterKey.from_base64(master)))
    barrier.wait(timeout=60)
    return vault.seal(claimant, PURPOSE, MARKER)


def test_processes_creating_one_claimants_key_at_once_get_one_key(db_url: str):
    secret = base64.b64encode(bytes(range(32))).decode()
    db = open_database(db_url)
    ClaimantKeys(db, MasterKey.from_base64(secret))  # the table exists before the race
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(4)
        with context.Pool(4) as pool:
            sealed = pool.starmap(
                _seal_at_once, [(db_url, secret, barrier, "user-race") for _ in range(4)]
            )
    vault = PersonalData(ClaimantKeys(db, MasterKey.from_base64(secret)))
    assert [vault.open("user-race", PURPOSE, s) for s in sealed] == [MARKER] * 4
    assert len(key_rows(db, "user-race")) == 1


def test_a_clear_marker_is_found_by_the_scan_so_the_scan_can_fail(
    db: Database, db_url: str, tmp_path: Path
):
    table = db.table("clear_canary")
    db.create(f"CREATE TABLE IF NOT EXISTS {table} (v TEXT)")
    with db.transaction() as cursor:
        db.execute(cursor, f"INSERT INTO {table} (v) VALUES (?)", (MARKER,))
    assert stored_anywhere(db_url, tmp_path, MARKER.encode())


def test_no_personal_data_is_stored_in_clear(
    vault: PersonalData, db: Database, db_url: str, tmp_path: Path
):
    sealed = vault.seal("user-1842", PURPOSE, MARKER)
    blob = vault.seal_bytes("user-1842", "evidence.content", MARKER.encode())
    table = db.table("sealed_fields")
    db.create(f"CREATE TABLE IF NOT EXISTS {table} (text_value TEXT, blob_value {db.blob})")
    with db.transaction() as cursor:
        db.execute(cursor, f"INSERT INTO {table} VALUES (?, ?)", (sealed, blob))
    assert not stored_anywhere(db_url, tmp_path, MARKER.encode())
    assert not stored_anywhere(db_url, tmp_path, MARKER.encode("utf-16-le"))
    assert vault.open("user-1842", PURPOSE, sealed) == MARKER


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claimant=st.text(min_size=1, max_size=40), value=st.text(max_size=300))
def test_any_text_round_trips_or_the_claimant_id_is_refused(
    vault: PersonalData, claimant: str, value: str
):
    try:
        sealed = vault.seal(claimant, PURPOSE, value)
    except InvalidInput as refused:
        fields = refused.fields
    else:
        fields = []
        assert vault.open(claimant, PURPOSE, sealed) == value
    assert fields in ([], ["claimant_id"])


def stored_anywhere(db_url: str, tmp_path: Path, needle: bytes) -> bool:
    """Whether the bytes occur in the raw SQLite files or in any PostgreSQL table of the schema."""
    if db_url.startswith("sqlite"):
        return any(needle in path.read_bytes() for path in tmp_path.glob("disputes.db*"))
    schema = db_url.split("schema=")[1]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        for (name,) in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall():
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if needle in raw:
                        return True
    return False


def test_a_wrapped_key_moved_to_another_claimant_by_plain_sql_is_refused(
    vault: PersonalData, db: Database
):
    theirs = vault.seal("user-1", PURPOSE, MARKER)
    vault.seal("user-2", PURPOSE, "someone else")
    table = db.table("claimant_data_keys")
    with db.transaction() as cursor:
        db.execute(
            cursor,
            f"UPDATE {table} SET wrapped = (SELECT wrapped FROM {table} WHERE claimant_id = ?) "
            "WHERE claimant_id = ?",
            ("user-1", "user-2"),
        )
    with pytest.raises(PersonalDataRefused):
        vault.seal("user-2", PURPOSE, "sealed under a stolen key")
    assert vault.open("user-1", PURPOSE, theirs) == MARKER
