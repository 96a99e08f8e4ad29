"""Signing identities: keys kept in 0600 files, signatures over the decision statement."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.actor import Actor, Role, require_permission
from dispute_engine.domain.canonical import decision_statement
from dispute_engine.domain.lifecycle import Action
from dispute_engine.errors import IdentityFileRefused, InvalidInput, KeyFileTooOpen
from dispute_engine.identity import (
    IDENTITY_ENV,
    Identity,
    SigningActor,
    identities_folder,
    identity_path,
    local_identities,
    verify_signature,
)

STATEMENT = decision_statement(
    action="approve",
    dispute_id=UUID("12345678-1234-5678-1234-567812345678"),
    decision_number=1,
    outcome="refund",
    amount=Decimal("12.50"),
    asset="USDC",
    decimals=6,
    recipient="0x" + "ab" * 20,
    chain_id=1,
    overrides=[],
)


@pytest.fixture(scope="module")
def alice() -> Identity:
    return Identity.generate("Alice")


def test_a_signature_verifies_against_the_signers_public_key(alice: Identity):
    signature = alice.sign(STATEMENT)
    assert len(signature) == 128
    assert verify_signature(alice.public_key_hex, STATEMENT, signature)


def test_a_signature_by_another_key_does_not_verify(alice: Identity):
    mallory = Identity.generate("alice")
    assert not verify_signature(alice.public_key_hex, STATEMENT, mallory.sign(STATEMENT))


def test_a_signature_over_another_action_does_not_verify(alice: Identity):
    execute = STATEMENT.replace(b'"action":"approve"', b'"action":"execute"')
    assert execute != STATEMENT
    assert not verify_signature(alice.public_key_hex, execute, alice.sign(STATEMENT))


@pytest.mark.parametrize(
    ("key", "signature"),
    [
        ("not hex", None),
        ("00" * 31, None),
        (None, "zz"),
        (None, "00" * 64),
        (None, ""),
    ],
)
def test_malformed_keys_and_signatures_verify_as_false(
    alice: Identity, key: str | None, signature: str | None
):
    key = alice.public_key_hex if key is None else key
    signature = alice.sign(STATEMENT) if signature is None else signature
    assert not verify_signature(key, STATEMENT, signature)


@given(st.binary(max_size=300), st.integers(min_value=0, max_value=63))
def test_flipping_any_bit_of_a_signature_breaks_it(statement: bytes, byte: int):
    signer = Identity.generate("bob")
    signature = bytearray.fromhex(signer.sign(statement))
    signature[byte] ^= 0x01
    assert not verify_signature(signer.public_key_hex, statement, signature.hex())


def test_the_staff_id_is_canonical_and_the_key_stays_out_of_repr(alice: Identity, tmp_path: Path):
    assert alice.staff_id == "alice"
    assert alice.public_key_hex in repr(alice)
    alice.save(tmp_path / "a.key")
    private = json.loads((tmp_path / "a.key").read_text())["private_key"]
    assert private not in repr(alice)


def test_a_bad_staff_id_is_refused():
    with pytest.raises(InvalidInput):
        Identity.generate("ali\u200bce")


# -- as an actor -------------------------------------------------------------------------


def test_an_identity_acts_as_an_actor_that_can_sign(alice: Identity):
    actor = alice.actor([Role.APPROVER])
    assert isinstance(actor, Actor)
    assert isinstance(actor, SigningActor)
    assert actor.id == "alice"
    assert actor.roles == {Role.APPROVER}
    require_permission(actor, Action.APPROVE_DECISION)
    assert actor.public_key_hex == alice.public_key_hex
    assert verify_signature(alice.public_key_hex, STATEMENT, actor.sign(STATEMENT))


def test_an_identity_actor_with_an_unknown_role_is_refused(alice: Identity):
    with pytest.raises(InvalidInput):
        alice.actor(["wizard"])


# -- key files ------------------------------------------------------------------------------


def test_a_saved_identity_loads_back_with_the_same_key(alice: Identity, tmp_path: Path):
    path = alice.save(tmp_path / "nested" / "alice.key")
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
    loaded = Identity.load(path)
    assert loaded.staff_id == "alice"
    assert loaded.public_key_hex == alice.public_key_hex
    assert verify_signature(alice.public_key_hex, STATEMENT, loaded.sign(STATEMENT))


def test_saving_ignores_a_permissive_umask(alice: Identity, tmp_path: Path):
    old = os.umask(0)
    try:
        path = alice.save(tmp_path / "alice.key")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600


def test_saving_never_replaces_an_existing_key_unless_asked(alice: Identity, tmp_path: Path):
    path = alice.save(tmp_path / "alice.key")
    other = Identity.generate("alice")
    with pytest.raises(IdentityFileRefused, match="already exists"):
        other.save(path)
    assert Identity.load(path).public_key_hex == alice.public_key_hex
    other.save(path, overwrite=True)
    assert Identity.load(path).public_key_hex == other.public_key_hex
    assert [p.name for p in tmp_path.iterdir()] == ["alice.key"]  # no temporary left behind


def _save_new(path: str) -> str:
    identity = Identity.generate("alice")
    try:
        identity.save(path)
    except IdentityFileRefused:
        return ""
    return identity.public_key_hex


def test_of_four_processes_creating_one_key_file_exactly_one_wins(tmp_path: Path):
    from concurrent.futures import ProcessPoolExecutor

    path = str(tmp_path / "alice.key")
    with ProcessPoolExecutor(4) as pool:
        winners = [k for k in pool.map(_save_new, [path] * 4) if k]
    assert len(winners) == 1
    assert Identity.load(path).public_key_hex == winners[0]
    assert [p.name for p in tmp_path.iterdir()] == ["alice.key"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644, 0o666, 0o610])
def test_a_key_file_open_to_group_or_others_is_refused(alice: Identity, tmp_path: Path, mode: int):
    path = alice.save(tmp_path / "alice.key")
    path.chmod(mode)
    with pytest.raises(KeyFileTooOpen, match="chmod 600") as caught:
        Identity.load(path)
    assert caught.value.path == str(path)


def test_a_key_file_readable_only_by_its_owner_loads(alice: Identity, tmp_path: Path):
    path = alice.save(tmp_path / "alice.key")
    path.chmod(0o400)
    assert Identity.load(path).staff_id == "alice"


def test_a_missing_key_file_is_refused(tmp_path: Path):
    with pytest.raises(IdentityFileRefused, match="cannot open"):
        Identity.load(tmp_path / "nobody.key")


def test_a_folder_is_not_a_key_file(tmp_path: Path):
    folder = tmp_path / "dir.key"
    folder.mkdir(mode=0o700)
    with pytest.raises(IdentityFileRefused):
        Identity.load(folder)


def test_a_symlink_to_a_key_file_is_refused(alice: Identity, tmp_path: Path):
    path = alice.save(tmp_path / "alice.key")
    (tmp_path / "link.key").symlink_to(path)
    with pytest.raises(IdentityFileRefused):
        Identity.load(tmp_path / "link.key")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": "dispute-engine-identity/v1", "staff_id": "a"}',
        b'{"format": "other", "staff_id": "a", "private_key": "' + b"11" * 32 + b'"}',
        b'{"format": "dispute-engine-identity/v1", "staff_id": "a", "private_key": "11"}',
        b'{"format": "dispute-engine-identity/v1", "staff_id": "a", "private_key": "zz"}',
        b'{"format": "dispute-engine-identity/v1", "staff_id": "", "private_key": "'
        + b"11" * 32
        + b'"}',
        b"{" + b" " * 5000 + b"}",
        b'{"format": "dispute-engine-identity/v1", "staff_id": null, "private_key": "'
        + b"11" * 32
        + b'"}',
        b"\xff\xfe",
    ],
)
def test_a_file_that_is_not_a_key_file_is_refused(tmp_path: Path, content: bytes):
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(IdentityFileRefused, match="not a dispute-engine key file"):
        Identity.load(path)


# -- where key files live -----------------------------------------------------------------------


def test_the_key_file_is_named_after_the_canonical_id(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(IDENTITY_ENV, raising=False)
    assert identity_path("ALICE") == identities_folder() / "alice.key"
    assert identities_folder().parts[-2:] == ("dispute-engine", "identities")


@pytest.mark.parametrize("staff_id", ["../../etc/passwd", "..", ".hidden", "a/b", "a\\b"])
def test_no_staff_id_names_a_file_outside_the_folder_or_a_hidden_one(
    monkeypatch: pytest.MonkeyPatch, staff_id: str
):
    monkeypatch.delenv(IDENTITY_ENV, raising=False)
    path = identity_path(staff_id)
    assert path.parent == identities_folder()
    assert not path.name.startswith(".")


def test_the_environment_names_the_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(IDENTITY_ENV, str(tmp_path / "mine.key"))
    assert identity_path("anyone") == tmp_path / "mine.key"


def test_local_identities_are_listed_by_staff_id(tmp_path: Path):
    assert local_identities(tmp_path / "absent") == {}
    for name in ("zoe", "a/b", "Ülle"):
        Identity.generate(name).save(tmp_path / f"{identity_path_name(name)}")
    (tmp_path / "notes.txt").write_text("ignored")
    found = local_identities(tmp_path)
    assert list(found) == ["a/b", "zoe", "ülle"]
    assert all(Identity.load(p).staff_id == staff for staff, p in found.items())


def identity_path_name(staff_id: str) -> str:
    old = os.environ.pop(IDENTITY_ENV, None)
    try:
        return identity_path(staff_id).name
    finally:
        if old is not None:
            os.environ[IDENTITY_ENV] = old


def test_a_fifo_in_place_of_a_key_file_is_refused_without_blocking(tmp_path: Path):
    fifo = tmp_path / "fifo.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(IdentityFileRefused, match="not a regular file"):
        Identity.load(fifo)
