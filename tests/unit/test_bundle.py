"""The offline bundle: a round trip verifies, and any altered line is named by file and line."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.bundle import (
    CHECKPOINTS,
    CONSISTENCY,
    DISPUTES,
    EVENTS,
    FILES,
    KEYS,
    MANIFEST,
    BundleEvent,
    DisputeState,
    build_bundle,
    verify_bundle,
)
from dispute_engine.checkpoints import Checkpoint
from dispute_engine.domain.decision import Outcome
from dispute_engine.domain.dispute import Dispute
from dispute_engine.merkle import MerkleTree
from dispute_engine.replay import event_mapper, state_json
from dispute_engine.seals import KeyRing, SigningKey
from dispute_engine.views import DisputeView
from dispute_engine.witness import WITNESS_FILE
from tests.factories import filing

ROOT = Path(__file__).parents[2]
OLD_KEY, NEW_KEY = SigningKey(bytes(range(32))), SigningKey(bytes(range(1, 33)))
OWNERS = [uuid.UUID(int=n) for n in (11, 22, 33)]
T0 = datetime(2026, 11, 1, tzinfo=UTC)
FILED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # after the factories' transaction


def stored_log(size: int = 20) -> list[BundleEvent]:
    """Three disputes' events interleaved; the key rotates halfway."""
    versions = dict.fromkeys(OWNERS, 0)
    log = []
    for index in range(size):
        dispute = OWNERS[index % 3]
        versions[dispute] += 1
        ring = KeyRing(OLD_KEY if index < size // 2 else NEW_KEY)
        topic = "tests.unit.test_bundle:Opaque.Recorded"  # not a dispute's: no replay
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


def worked_dispute() -> Dispute:
    """A dispute filed, assigned, noted, decided, approved and paid: six events."""
    alice, bob = (
        Actor(id="alice", roles={Role.INVESTIGATOR}),
        Actor(id="bob", roles={Role.APPROVER}),
    )
    command = FileDispute.model_validate(filing(idempotency_key="bundle-dispute"))
    dispute = Dispute.file(
        command.claim, idempotency_key=command.idempotency_key, by=alice, now=FILED
    )
    dispute.assign("alice", by=alice, now=FILED)
    dispute.add_note("called the exchange", by=alice, now=FILED)
    dispute.propose_decision(
        Outcome.PARTIAL_REFUND,
        Decimal(100),
        "fees",
        by=alice,
        now=FILED,
        overrides=("no_lookup", "amount", "checklist"),
    )
    dispute.approve_decision(by=bob, now=FILED)
    dispute.record_execution("ref-1", by=bob, now=FILED)
    return dispute


def dispute_log() -> tuple[list[BundleEvent], DisputeState]:
    """A stored log: a real dispute's events between others', and the dispute's state."""
    dispute = worked_dispute()
    mapper = event_mapper()
    stored = [mapper.to_stored_event(e) for e in dispute.collect_events()]
    log = stored_log(6)
    for record in stored:
        ring = KeyRing(NEW_KEY)
        originator = uuid.UUID(str(record.originator_id))
        args = (originator, record.originator_version, record.topic, record.state)
        log.append(BundleEvent(len(log), *args, ring.seal_event(*args)))
    return log, DisputeState(dispute.id, dispute.version, state_json(DisputeView.of(dispute)))


def write_dispute_bundle(folder: Path, state: DisputeState | None = None) -> Path:
    log, real = dispute_log()
    leaves = [e.leaf for e in log]
    build_bundle(
        folder,
        events=[e for e in log if e.originator_id == real.dispute_id],
        leaves=leaves,
        checkpoints=checkpoints_of(leaves, [4, len(log)]),
        public_keys=[OLD_KEY.public_key, NEW_KEY.public_key],
        states=[state or real],
    )
    return folder


@pytest.fixture
def dispute_bundle(tmp_path: Path) -> Path:
    return write_dispute_bundle(tmp_path / "dispute-bundle")


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    log = stored_log()
    leaves = [e.leaf for e in log]
    build_bundle(
        tmp_path / "bundle",
        events=[e for e in log if e.originator_id == OWNERS[0]],
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


def test_a_real_disputes_bundle_verifies_and_its_state_replays(dispute_bundle: Path):
    report = verify_bundle(dispute_bundle)
    assert report.problems == []
    assert (report.events, report.checkpoints, report.disputes) == (6, 2, 1)
    state = json.loads(json.loads((dispute_bundle / DISPUTES).read_text())["state"])
    assert (state["status"], state["paid_amount"]) == ("resolved", "100")


def test_a_state_the_events_do_not_give_is_named(tmp_path: Path):
    _, real = dispute_log()
    claimed = json.loads(real.state)
    claimed.update(paid_amount="125.5", status="closed")
    forged = DisputeState(real.dispute_id, real.version, json.dumps(claimed, sort_keys=True))
    report = verify_bundle(write_dispute_bundle(tmp_path, forged))
    assert named(report) == {(DISPUTES, 1)}
    assert "paid_amount, status differ" in str(report.problems[0])


def test_a_state_of_fewer_events_than_the_bundle_holds_is_named(tmp_path: Path):
    _, real = dispute_log()
    earlier = DisputeState(real.dispute_id, real.version - 1, real.state)
    assert named(verify_bundle(write_dispute_bundle(tmp_path, earlier))) == {(DISPUTES, 1)}


def test_a_removed_state_is_named(dispute_bundle: Path):
    (dispute_bundle / DISPUTES).write_text("")
    assert named(verify_bundle(dispute_bundle)) == {(MANIFEST, 1), (DISPUTES, 0)}


def test_the_bundle_carries_what_a_replay_needs(bundle: Path):
    first = json.loads((bundle / EVENTS).read_text().splitlines()[0])
    assert first["topic"] == "tests.unit.test_bundle:Opaque.Recorded"
    assert first["originator_id"] == str(OWNERS[0])
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
    for name in FILES:
        lines = (folder / name).read_text().splitlines(keepends=True)
        for number, line in enumerate(lines, start=1):
            item = json.loads(line)
            for key, value in item.items():
                for changed in mutations(value):
                    text = json.dumps({**item, key: changed}) + "\n"
                    yield name, number, key, "".join([*lines[: number - 1], text, *lines[number:]])


@pytest.mark.parametrize("which", ["bundle", "dispute_bundle"])
def test_altering_any_field_of_any_line_fails_naming_that_line(
    which: str, request: pytest.FixtureRequest
):
    bundle = request.getfixturevalue(which)
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


@pytest.mark.parametrize("name", FILES)
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
    assert named(verify_bundle(tmp_path / "file")) == {(name, 0) for name in FILES}


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


@pytest.mark.parametrize("name", FILES)
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


def witness_of(folder: Path, checkpoints: list[Checkpoint]) -> Path:
    folder.mkdir()
    (folder / WITNESS_FILE).write_text("".join(c.to_json() + "\n" for c in checkpoints))
    return folder


def test_a_bundle_whose_checkpoints_the_witness_holds_verifies_against_it(
    bundle: Path, tmp_path: Path
):
    leaves = [e.leaf for e in stored_log(21)]  # one event more than the bundle's log
    witness = witness_of(tmp_path / "witness", checkpoints_of(leaves, [3, 12, 20, 21]))
    report = verify_bundle(bundle, witness=witness)
    assert report.problems == []
    assert report.witnessed == 3  # the fourth was witnessed after the bundle was made


def test_history_rewritten_with_the_key_is_caught_by_the_witness(tmp_path: Path):
    honest = stored_log()
    witness = witness_of(tmp_path / "witness", checkpoints_of([e.leaf for e in honest], [8]))
    rewritten = list(honest)
    event = honest[2]
    seal = KeyRing(OLD_KEY).seal_event(event.originator_id, event.version, event.topic, b"{}")
    rewritten[2] = BundleEvent(2, event.originator_id, event.version, event.topic, b"{}", seal)
    leaves = [e.leaf for e in rewritten]
    build_bundle(
        tmp_path / "bundle",
        events=rewritten,
        leaves=leaves,
        checkpoints=checkpoints_of(leaves, [8, 20]),  # re-signed: consistent among themselves
        public_keys=[OLD_KEY.public_key, NEW_KEY.public_key],
    )
    assert verify_bundle(tmp_path / "bundle").ok
    report = verify_bundle(tmp_path / "bundle", witness=witness)
    assert named(report) == {(str(witness / WITNESS_FILE), 1)}
    assert "rewritten" in report.problems[0].message
    missing = verify_bundle(tmp_path / "bundle", witness=tmp_path / "nowhere")
    assert named(missing) == {(str(tmp_path / "nowhere" / WITNESS_FILE), 0)}


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
    assert {"dispute_engine.merkle", "dispute_engine.seals", "dispute_engine.replay"} <= reached
    assert {m for m in reached if m.startswith(STORAGE)} == set()


STORAGE = (
    "dispute_engine.bootstrap",
    "dispute_engine.database",
    "dispute_engine.engine",
    "dispute_engine.error_mapping",
    "dispute_engine.event_store",
    "eventsourcing.popo",
    "eventsourcing.postgres",
    "eventsourcing.sqlite",
    "projections",
    "psycopg",
    "sqlite3",
)
# Run the command line with every storage module made unimportable.
OFFLINE = textwrap.dedent(
    """
    import sys
    storage = {storage!r}

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.startswith(storage):
                raise ImportError("the offline verifier imported " + name)

    sys.meta_path.insert(0, Refuse())
    from dispute_engine.cli import app
    app(sys.argv[1:])
    """
).format(storage=STORAGE)


def offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", OFFLINE, *args], capture_output=True, text=True, check=False
    )


def test_verify_bundle_runs_with_the_storage_code_unimportable(dispute_bundle: Path):
    done = offline("audit", "verify-bundle", str(dispute_bundle), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "ok": True,
        "events": 6,
        "checkpoints": 2,
        "disputes": 1,
        "witnessed": 0,
        "problems": [],
    }
    lines = (dispute_bundle / EVENTS).read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"version":3', '"version":4')
    (dispute_bundle / EVENTS).write_text("".join(lines))
    done = offline("audit", "verify-bundle", str(dispute_bundle))
    assert done.returncode == 1
    assert f"{EVENTS}:3: " in done.stdout
    assert done.stderr.startswith("error: the bundle in ")
    assert "Traceback" not in done.stderr
