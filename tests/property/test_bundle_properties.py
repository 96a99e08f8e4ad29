"""For any log and any checkpoints over it, a bundle of any dispute's events verifies."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_engine.bundle import BundleEvent, build_bundle, verify_bundle
from dispute_engine.checkpoints import Checkpoint
from dispute_engine.merkle import MerkleTree
from dispute_engine.seals import KeyRing, SigningKey

RING = KeyRing(SigningKey(bytes(range(32))))
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[BundleEvent], list[int]]:
    owners = draw(st.lists(st.integers(0, 3), min_size=1, max_size=40))
    versions: dict[int, int] = {}
    events = []
    for index, owner in enumerate(owners):
        versions[owner] = versions.get(owner, 0) + 1
        dispute, state = uuid.UUID(int=owner + 1), draw(st.binary(max_size=16))
        seal = RING.seal_event(dispute, versions[owner], "T", state)
        events.append(BundleEvent(index, dispute, versions[owner], "T", state, seal))
    sizes = draw(st.sets(st.integers(1, len(events)), min_size=1))
    return events, sorted(sizes | {len(events)})


@settings(max_examples=40, deadline=None)
@given(logs(), st.integers(1, 4))
def test_a_bundle_of_any_disputes_events_verifies(
    log: tuple[list[BundleEvent], list[int]], owner: int
):
    events, sizes = log
    tree = MerkleTree(e.leaf for e in events)
    checkpoints = [Checkpoint.sign(RING, size, tree.root(size), T0) for size in sizes]
    chosen = [e for e in events if e.originator_id == uuid.UUID(int=owner)]
    with tempfile.TemporaryDirectory() as folder:
        build_bundle(
            Path(folder),
            events=chosen,
            leaves=[e.leaf for e in events],
            checkpoints=checkpoints,
            public_keys=RING.public_keys().values(),
        )
        report = verify_bundle(Path(folder))
    assert report.problems == []
    assert (report.events, report.checkpoints) == (len(chosen), len(checkpoints))
