"""A writer killed with SIGKILL mid-write leaves every stored event sealed, on both backends:
an event and its seal are stored in one transaction or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispute_engine import Actor, DisputeEngine
from tests.factories import sealed_env, sealed_settings

WRITER = """
import sys
from dispute_engine import Actor, DisputeEngine, Role
from tests.factories import file_dispute
alice = Actor(id="alice", roles={Role.INVESTIGATOR})
with DisputeEngine.open(sys.argv[1]) as engine:
    n = 0
    while True:
        dispute = file_dispute(engine, alice, idempotency_key=f"k{n}")
        for i in range(5):
            engine.add_note(dispute, f"note {i}", by=alice)
        n += 1
        print(n, flush=True)
"""


@pytest.mark.parametrize("after", [3, 11])
def test_a_writer_killed_mid_write_leaves_only_sealed_events(db_url: str, alice: Actor, after: int):
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url],
        cwd=Path(__file__).parents[2],
        env={**os.environ, **sealed_env()},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    deadline = time.monotonic() + 120
    for line in writer.stdout:
        if int(line) >= after or time.monotonic() > deadline:
            break
    time.sleep(0.005 * after)  # land the kill somewhere inside a later write
    writer.send_signal(signal.SIGKILL)
    writer.wait()

    with DisputeEngine.open(db_url, settings=sealed_settings()) as engine:
        report = engine.audit.verify()
        assert report.ok, report.problems
        assert report.events == report.logged >= 6 * after
        disputes = engine.list_disputes()  # every dispute loads: no half-written history
        assert len(disputes) >= after
        assert all(len(engine.history(d.id)) in (1, 2, 3, 4, 5, 6) for d in disputes)
