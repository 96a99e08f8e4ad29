"""Signed checkpoints: the canonical body, the JSON line, and what verification refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dispute_engine.checkpoints import Checkpoint, InvalidCheckpoint
from dispute_engine.merkle import leaf_hash
from dispute_engine.seals import InvalidSeal, KeyRing, SigningKey

ROOT = leaf_hash(b"root")
WHEN = datetime(2026, 11, 30, 9, 15, 0, 123456, tzinfo=UTC)
RING = KeyRing(SigningKey(bytes(range(32))))


def test_a_signed_checkpoint_verifies_and_survives_its_json_line():
    checkpoint = Checkpoint.sign(RING, 42, ROOT, WHEN)
    checkpoint.verify(RING)
    again = Checkpoint.from_json(checkpoint.to_json())
    assert again == checkpoint
    again.verify(RING)


def test_the_signed_body_is_canonical_text():
    body = Checkpoint.body(42, ROOT, WHEN, "00112233aabbccdd").decode()
    assert body.splitlines() == [
        "dispute-engine/checkpoint/v1",
        "42",
        "PAb5plclr2BSYfY2ZyyWINQJcx2JpFHXRV/pxK4WeCk=",  # base64(sha256(0x00 "root"))
        "2026-11-30T09:15:00.123456Z",
        "00112233aabbccdd",
    ]


def test_a_time_in_another_zone_signs_the_same_instant():
    local = WHEN.astimezone(timezone(timedelta(hours=8)))
    assert Checkpoint.sign(RING, 1, ROOT, local) == Checkpoint.sign(RING, 1, ROOT, WHEN)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 43},
        {"root": leaf_hash(b"other").hex()},
        {"time": (WHEN + timedelta(microseconds=1)).isoformat()},
    ],
    ids=["size", "root", "time"],
)
def test_a_changed_checkpoint_does_not_verify(change: dict):
    line = json.loads(Checkpoint.sign(RING, 42, ROOT, WHEN).to_json())
    with pytest.raises(InvalidSeal, match="does not verify"):
        Checkpoint.from_json({**line, **change}).verify(RING)


def test_a_checkpoint_by_a_key_outside_the_ring_is_refused():
    stranger = KeyRing(SigningKey.generate())
    with pytest.raises(InvalidSeal, match="unknown key id"):
        Checkpoint.sign(stranger, 42, ROOT, WHEN).verify(RING)


GOOD = {
    "tree_size": 1,
    "root": ROOT.hex(),
    "time": "2026-01-01T00:00:00+00:00",
    "key_id": "k",
    "signature": "A" * 86 + "==",
}


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[]",
        "[" * 100_000,
        "9" * 5000,
        '{"tree_size": 1}',
        json.dumps({**GOOD, "extra": 1}),
        json.dumps({**GOOD, "tree_size": -1}),
        json.dumps({**GOOD, "tree_size": "1"}),
        json.dumps({**GOOD, "tree_size": True}),
        json.dumps({**GOOD, "time": "2026-01-01T00:00:00"}),
        json.dumps({**GOOD, "time": "yesterday"}),
        json.dumps({**GOOD, "root": "zz"}),
        json.dumps({**GOOD, "root": ROOT.hex()[:-2]}),
        json.dumps({**GOOD, "signature": "A" * 88}),
        json.dumps({**GOOD, "signature": "!" * 88}),
        json.dumps({**GOOD, "key_id": 7}),
    ],
)
def test_an_unreadable_checkpoint_line_is_refused_with_a_reason(line: str):
    with pytest.raises(InvalidCheckpoint):
        Checkpoint.from_json(line)


def test_the_well_formed_line_those_cases_start_from_reads():
    assert Checkpoint.from_json(json.dumps(GOOD)).tree_size == 1


@pytest.mark.parametrize(
    ("size", "root", "when"),
    [(-1, ROOT, WHEN), (1, b"short", WHEN), (1, ROOT, WHEN.replace(tzinfo=None))],
)
def test_signing_refuses_what_is_not_a_checkpoint(size: int, root: bytes, when: datetime):
    with pytest.raises(ValueError, match="checkpoint needs"):
        Checkpoint.sign(RING, size, root, when)


def test_a_verify_only_ring_cannot_sign_a_checkpoint():
    with pytest.raises(InvalidSeal, match="no signing key"):
        Checkpoint.sign(KeyRing(None, RING.public_keys().values()), 1, ROOT, WHEN)
