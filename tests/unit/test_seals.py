"""Event seals: what they cover, how keys are read and rotated, and what they refuse."""

from __future__ import annotations

import base64
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.errors import InvalidInput
from dispute_engine.seals import (
    EVENT_DOMAIN,
    InvalidSeal,
    KeyRing,
    Seal,
    SigningKey,
    ensure_key_file,
    event_message,
    key_id,
    key_ring,
    load_signing_key,
)
from dispute_engine.settings import Settings

DISPUTE = uuid.UUID("8f0c2a5e-2b1e-4a53-9c1c-0d1f2e3a4b5c")
TOPIC = "dispute_engine.domain.dispute:Dispute.Filed"
STATE = b'{"claim":{"amount":"10"}}'
KEY = bytes(range(32))


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(SigningKey(KEY))


def test_a_sealed_event_verifies(ring: KeyRing):
    seal = ring.seal_event(DISPUTE, 1, TOPIC, STATE)
    ring.verify_event(seal, DISPUTE, 1, TOPIC, STATE)
    assert seal.key_id == key_id(SigningKey(KEY).public_key)


@pytest.mark.parametrize(
    ("originator", "version", "topic", "state"),
    [
        (uuid.UUID(int=DISPUTE.int ^ 1), 1, TOPIC, STATE),
        (DISPUTE, 2, TOPIC, STATE),
        (DISPUTE, 1, TOPIC.replace("Filed", "Closed"), STATE),
        (DISPUTE, 1, TOPIC, STATE.replace(b"10", b"11")),
        (DISPUTE, 1, TOPIC, STATE + b" "),
    ],
    ids=["originator", "version", "topic", "state", "trailing byte"],
)
def test_a_seal_does_not_cover_any_other_event(ring: KeyRing, originator, version, topic, state):
    seal = ring.seal_event(DISPUTE, 1, TOPIC, STATE)
    with pytest.raises(InvalidSeal, match="does not verify"):
        ring.verify_event(seal, originator, version, topic, state)


@given(st.text(max_size=6), st.binary(max_size=6), st.text(max_size=6), st.binary(max_size=6))
def test_field_boundaries_cannot_be_moved(
    topic_a: str, state_a: bytes, topic_b: str, state_b: bytes
):
    if (topic_a, state_a) != (topic_b, state_b):
        assert event_message(DISPUTE, 1, topic_a, state_a) != event_message(
            DISPUTE, 1, topic_b, state_b
        )


def test_the_encoding_starts_with_its_domain_and_length_prefixes_each_field():
    message = event_message(DISPUTE, 7, "T", b"xy")
    assert message.startswith(EVENT_DOMAIN)
    body = message[len(EVENT_DOMAIN) :]
    assert body == (
        (16).to_bytes(8, "big") + DISPUTE.bytes
        + (8).to_bytes(8, "big") + (7).to_bytes(8, "big")
        + (1).to_bytes(8, "big") + b"T"
        + (2).to_bytes(8, "big") + b"xy"
    )  # fmt: skip


def test_a_seal_by_an_unknown_key_is_refused(ring: KeyRing):
    stranger = KeyRing(SigningKey.generate())
    seal = stranger.seal_event(DISPUTE, 1, TOPIC, STATE)
    with pytest.raises(InvalidSeal, match="unknown key id"):
        ring.verify_event(seal, DISPUTE, 1, TOPIC, STATE)


def test_a_seal_relabelled_with_another_key_id_is_refused(ring: KeyRing):
    other = SigningKey.generate()
    ring.add_public_key(other.public_key)
    seal = ring.seal_event(DISPUTE, 1, TOPIC, STATE)
    with pytest.raises(InvalidSeal):
        ring.verify_event(Seal(other.key_id, seal.signature), DISPUTE, 1, TOPIC, STATE)


def test_rotation_keeps_old_seals_verifiable(ring: KeyRing):
    old_seal = ring.seal_event(DISPUTE, 1, TOPIC, STATE)
    new_key = SigningKey.generate()
    rotated = KeyRing(new_key, [SigningKey(KEY).public_key])
    new_seal = rotated.seal_event(DISPUTE, 2, TOPIC, STATE)
    rotated.verify_event(old_seal, DISPUTE, 1, TOPIC, STATE)
    rotated.verify_event(new_seal, DISPUTE, 2, TOPIC, STATE)
    assert new_seal.key_id == new_key.key_id != old_seal.key_id


def test_a_verify_only_ring_cannot_seal():
    with pytest.raises(InvalidSeal, match="no signing key"):
        KeyRing(None, [SigningKey(KEY).public_key]).seal_event(DISPUTE, 1, TOPIC, STATE)


def test_a_seal_survives_its_text_form(ring: KeyRing):
    seal = ring.seal_event(DISPUTE, 1, TOPIC, STATE)
    assert Seal.from_text(seal.to_text()) == seal


@pytest.mark.parametrize(
    "text", ["", "abc", "abc:!!", "abc:" + base64.b64encode(b"x" * 63).decode()]
)
def test_a_malformed_seal_text_is_refused(text: str):
    with pytest.raises(InvalidSeal):
        Seal.from_text(text)


@pytest.mark.parametrize("encode", [bytes.hex, lambda b: base64.b64encode(b).decode()])
def test_the_key_reads_from_hex_or_base64(encode):
    assert load_signing_key(encode(KEY)).private_bytes() == KEY


def test_the_key_reads_from_a_file(tmp_path: Path):
    path = tmp_path / "engine.key"
    path.write_text(KEY.hex() + "\n")
    assert load_signing_key(str(path)).key_id == SigningKey(KEY).key_id


@pytest.mark.parametrize(
    "text",
    ["", "00" * 31, "zz" * 32, "/no/such/key/file", "a" * 5000, "~nosuchuser/key", "a\x00b", "/"],
)
def test_a_key_that_does_not_read_is_invalid_input(text: str):
    with pytest.raises(InvalidInput) as raised:
        load_signing_key(text)
    assert raised.value.fields == ["sealing_key"]


def test_settings_carry_the_sealing_key_and_retired_keys(monkeypatch: pytest.MonkeyPatch):
    retired = SigningKey.generate()
    monkeypatch.setenv("DISPUTE_ENGINE_SEALING_KEY", KEY.hex())
    monkeypatch.setenv("DISPUTE_ENGINE_RETIRED_SEALING_KEYS", f'["{retired.public_key.hex()}"]')
    settings = Settings()
    assert settings.sealing_key is not None
    ring = key_ring(settings.sealing_key.get_secret_value(), settings.retired_sealing_keys)
    assert ring.current is not None
    assert set(ring.public_keys()) == {SigningKey(KEY).key_id, retired.key_id}
    assert KEY.hex() not in repr(settings)


def test_a_retired_key_that_does_not_read_is_invalid_input():
    with pytest.raises(InvalidInput) as raised:
        key_ring(None, ["nonsense"])
    assert raised.value.fields == ["retired_sealing_keys"]


def test_the_demo_key_file_is_made_once_and_kept_private(tmp_path: Path):
    path = tmp_path / "keys" / "engine.key"
    first = ensure_key_file(path)
    again = ensure_key_file(path)
    assert first.key_id == again.key_id
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["engine.key"]


def test_callers_making_the_key_file_at_once_share_one_key(tmp_path: Path):
    path = tmp_path / "engine.key"
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: ensure_key_file(path).key_id, range(16)))
    assert ids == {load_signing_key(str(path)).key_id}
