"""The offline bundle: a round trip verifies, and any altered line is named by file and line."""

from __future__ import annotations

import ast
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispute_engine.bundle import (
    CHECKPOINTS,
    CONSISTENCY,
    EVENTS,
    KEYS,
    MANIFEST,
    BundleEvent,
    build_bundle,
    verify_bundle,
)
from dispute_engine.checkpoints import Checkpoint
from dispute_engine.merkle import MerkleTree
from dispute_engine.seals import KeyRing, SigningKey

ROOT = Path(__file__).parents[2]
OLD_KEY, NEW_KEY = SigningKey(bytes(range(32))), SigningKey(bytes(range(1, 33)))
DISPUTES = [uuid.UUID(int=n) for n in (11, 22, 33)]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def stored_log(size: int = 20) -> list[BundleEvent]:
    """Three disputes' events interleaved; the key rotates halfway."""
    versions = dict.fromkeys(DISPUTES, 0)
    log = []
    for index in range(size):
        dispute = DISPUTES[index % 3]
        versions[dispute] += 1
        ring = KeyRing(OLD_KEY if index < size // 2 else NEW_KEY)
        topic = "dispute_engine.domain.dispute:Dispute.NoteAdded"
        state = json.dumps({"n": index, "text": "ok"}).encode()
        seal = ring.seal_event(dispute, versions[dispute], topic, state)
        log.append(BundleEvent(index, dispute, versions[dispute], topic, state, seal))
    return log


def checkpoints_of(leaves: list[bytes], sizes: list[int]) -> list[Checkpoint]:
    tree = MerkleTree(leaves)
    return [
        Checkpoint.sign(KeyRing(NEW_KEY), size, tree.root(size), T0 + timedelta(hours=n))
        for n, size in enumerate(sizes)
    ]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    log = stored_log()
    leaves = [e.leaf for e in log]
    build_bundle(
        tmp_path / "bundle",
        events=[e for e in log if e.originator_id == DISPUTES[0]],
        leaves=leaves,
        checkpoints=checkpoints_of(leaves, [3, 12, 20]),
        public_keys=[OLD_KEY.public_key, NEW_KEY.public_key],
    )
    return tmp_path / "bundle"


def named(report: Any) -> set[tuple[str, int]]:
    return {(p.file, p.line) for p in report.problems}


def test_a_bundle_round_trip_verifies(bundle: Path):
    report = verify_bundle(bundle)
    assert report.problems == []
    assert report.ok
    assert (report.events, report.checkpoints) == (7, 3)


def test_the_bundle_carries_what_a_replay_needs(bundle: Path):
    first = json.loads((bundle / EVENTS).read_text().splitlines()[0])
    assert first["topic"] == "dispute_engine.domain.dispute:Dispute.NoteAdded"
    assert first["originator_id"] == str(DISPUTES[0])
    assert first["version"] == 1


def mutations(value: object) -> Iterator[object]:
    """Ways to change one JSON value: numbers move, text changes a character, lists shrink."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        yield value + 1
    elif isinstance(value, str):
        for at in {0, len(value) // 2, len(value) - 1}:
            if value:
                yield value[:at] + ("1" if value[at] != "1" else "0") + value[at + 1 :]
    elif isinstance(value, list):
        yield [*value, "00" * 32]
        if value:
            yield value[:-1]
            yield [*mutations(value[0]), *value[1:]][:1] + value[1:]


def altered_bundles(folder: Path) -> Iterator[tuple[str, int, str, str]]:
    """Each one-field alteration of each line: (file, line, field, the altered file text)."""
    for name in (MANIFEST, KEYS, CHECKPOINTS, CONSISTENCY, EVENTS):
        lines = (folder / name).read_text().splitlines(keepends=True)
        for number, line in enumerate(lines, start=1):
            item = json.loads(line)
            for key, value in item.items():
                for changed in mutations(value):
                    text = json.dumps({**item, key: changed}) + "\n"
                    yield name, number, key, "".join([*lines[: number - 1], text, *lines[number:]])


def test_altering_any_field_of_any_line_fails_naming_that_line(bundle: Path):
    originals = {p.name: p.read_text() for p in bundle.iterdir()}
    missed = []
    tried = 0
    for name, number, key, text in altered_bundles(bundle):
        tried += 1
        (bundle / name).write_text(text)
        report = verify_bundle(bundle)
        (bundle / name).write_text(originals[name])
        if (name, number) not in named(report):
            missed.append((name, number, key, [str(p) for p in report.problems]))
    assert tried > 150
    assert missed == []
    assert verify_bundle(bundle).ok


@pytest.mark.parametrize("name", [MANIFEST, KEYS, CHECKPOINTS, CONSISTENCY, EVENTS])
@pytest.mark.parametrize(
    "garbage", ["not json", "[1]", "[" * 100_000, "9" * 5000, '{"leaf_index": NaN}', "\ufeff{}"]
)
def test_a_line_that_is_not_a_json_object_is_named(bundle: Path, name: str, garbage: str):
    with (bundle / name).open("a") as file:
        file.write(garbage + "\n")
    lines = len((bundle / name).read_text().splitlines())
    assert (name, lines) in named(verify_bundle(bundle))


def test_bytes_that_are_not_text_or_a_folder_that_is_a_file_are_reported(tmp_path: Path):
    (tmp_path / EVENTS).write_bytes(b"\xff\xfe\x00")
    assert (EVENTS, 0) in named(verify_bundle(tmp_path))
    (tmp_path / "file").write_text("")
    assert named(verify_bundle(tmp_path / "file")) == {
        (name, 0) for name in (MANIFEST, KEYS, CHECKPOINTS, CONSISTENCY, EVENTS)
    }


def test_a_removed_event_is_reported(bundle: Path):
    lines = (bundle / EVENTS).read_text().splitlines(keepends=True)
    (bundle / EVENTS).write_text("".join(lines[:2] + lines[3:]))
    assert named(verify_bundle(bundle)) == {(MANIFEST, 1), (EVENTS, 3)}


def test_two_swapped_events_are_reported(bundle: Path):
    lines = (bundle / EVENTS).read_text().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    (bundle / EVENTS).write_text("".join(lines))
    assert (EVENTS, 3) in named(verify_bundle(bundle))


def test_a_removed_checkpoint_is_reported(bundle: Path):
    lines = (bundle / CHECKPOINTS).read_text().splitlines(keepends=True)
    (bundle / CHECKPOINTS).write_text("".join(lines[1:]))
    assert not verify_bundle(bundle).ok


@pytest.mark.parametrize("name", [MANIFEST, KEYS, CHECKPOINTS, CONSISTENCY, EVENTS])
def test_a_missing_file_is_named(bundle: Path, name: str):
    (bundle / name).unlink()
    assert (name, 0) in named(verify_bundle(bundle))


def test_a_forged_event_without_the_engines_key_is_named(tmp_path: Path):
    log = stored_log()
    forger = KeyRing(SigningKey.generate())
    forged = log[6]
    seal = forger.seal_event(forged.originator_id, forged.version, forged.topic, b'{"n":"paid"}')
    log[6] = BundleEvent(
        6, forged.originator_id, forged.version, forged.topic, b'{"n":"paid"}', seal
    )
    leaves = [e.leaf for e in log]
    build_bundle(
        tmp_path,
        events=log,
        leaves=leaves,
        checkpoints=checkpoints_of(leaves, [20]),
        public_keys=[OLD_KEY.public_key, NEW_KEY.public_key],
    )
    report = verify_bundle(tmp_path)
    assert named(report) == {(EVENTS, 7)}
    assert "unknown key id" in str(report.problems[0])


def test_history_rewritten_with_the_key_after_a_checkpoint_breaks_consistency(tmp_path: Path):
    honest = stored_log()
    witnessed = checkpoints_of([e.leaf for e in honest], [8])[0]
    rewritten = list(honest)
    event = honest[2]
    seal = KeyRing(OLD_KEY).seal_event(event.originator_id, event.version, event.topic, b"{}")
    rewritten[2] = BundleEvent(2, event.originator_id, event.version, event.topic, b"{}", seal)
    leaves = [e.leaf for e in rewritten]
    build_bundle(
        tmp_path,
        events=rewritten,
        leaves=leaves,
        checkpoints=[witnessed, checkpoints_of(leaves, [20])[0]],
        public_keys=[OLD_KEY.public_key, NEW_KEY.public_key],
    )
    assert named(verify_bundle(tmp_path)) == {(CONSISTENCY, 1)}


def test_keys_the_auditor_does_not_trust_are_named(bundle: Path):
    report = verify_bundle(bundle, trusted_keys=[NEW_KEY.public_key])
    assert (KEYS, 1) in named(report)
    assert verify_bundle(bundle, trusted_keys=[OLD_KEY.public_key, NEW_KEY.public_key]).ok


def test_the_builder_refuses_to_overwrite_a_bundle(bundle: Path):
    log = stored_log()
    leaves = [e.leaf for e in log]
    with pytest.raises(FileExistsError):
        build_bundle(
            bundle, events=log, leaves=leaves, checkpoints=checkpoints_of(leaves, [20]),
            public_keys=[],
        )  # fmt: skip


def test_the_builder_refuses_events_no_checkpoint_covers(tmp_path: Path):
    log = stored_log()
    leaves = [e.leaf for e in log]
    with pytest.raises(ValueError, match="not under the last checkpoint"):
        build_bundle(
            tmp_path, events=log, leaves=leaves, checkpoints=checkpoints_of(leaves, [10]),
            public_keys=[],
        )  # fmt: skip
    with pytest.raises(ValueError, match="at least one checkpoint"):
        build_bundle(tmp_path, events=log, leaves=leaves, checkpoints=[], public_keys=[])


def our_imports(module: str) -> set[str]:
    """The modules of ours that ``module`` imports, directly or through each other."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names)
    return seen


def test_the_bundle_verifier_imports_no_storage_code():
    reached = our_imports("dispute_engine.bundle")
    storage = (
        "dispute_engine.database",
        "dispute_engine.engine",
        "dispute_engine.engine_core",
        "projections",
        "eventsourcing",
        "sqlite3",
        "psycopg",
    )
    assert {"dispute_engine.merkle", "dispute_engine.seals"} <= reached
    assert {m for m in reached if m.startswith(storage)} == set()
