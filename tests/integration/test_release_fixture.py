"""Disputes stored by release 0.1 still load, whatever shape the events have taken since."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispute_engine import DisputeEngine, Status
from dispute_engine.delivery import Outbox
from tests.factories import sealed_settings
from tests.fixtures.write_release_0_1 import FIXTURE


@pytest.fixture
def release_engine(tmp_path: Path) -> Iterator[DisputeEngine]:
    copy = tmp_path / "release-0.1.db"
    shutil.copy(FIXTURE, copy)  # the committed file is never written to
    engine = DisputeEngine.open(f"sqlite:///{copy}")
    yield engine
    engine.shutdown()


def test_every_dispute_of_release_0_1_loads_with_its_history(release_engine: DisputeEngine):
    disputes = release_engine.list_disputes()
    assert sorted(d.status for d in disputes) == sorted(
        [Status.INVESTIGATING, Status.CLOSED, Status.CLOSED, Status.WITHDRAWN]
    )
    for dispute in disputes:
        history = release_engine.history(dispute.id)
        assert [entry.version for entry in history] == list(range(1, len(history) + 1))
        assert release_engine.get(dispute.id) == dispute
    names = {entry.name for d in disputes for entry in release_engine.history(d.id)}
    assert {
        "Filed",
        "Assigned",
        "IdentityVerified",
        "EvidenceRequested",
        "ClaimantNotified",
        "EvidenceAdded",
        "NoteAdded",
        "SlaWarningRaised",
        "SlaBreached",
        "DecisionProposed",
        "DecisionApproved",
        "DecisionExecuted",
        "Closed",
        "Reopened",
        "Withdrawn",
    } <= names


def test_release_0_1_clocks_rebuild_from_its_events(release_engine: DisputeEngine):
    rows = release_engine.sla_report(
        since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert sum(r.breached for r in rows) > 0
    assert sum(r.met for r in rows) > 0


def test_decisions_of_release_0_1_are_upcast_with_no_overrides(release_engine: DisputeEngine):
    disputes = release_engine.list_disputes()
    proposed = [
        entry
        for d in disputes
        for entry in release_engine.history(d.id)
        if entry.name == "DecisionProposed"
    ]
    assert len(proposed) >= 2
    assert all(entry.data["overrides"] == [] for entry in proposed)
    decided = [d for d in disputes if d.decision is not None]
    assert decided
    assert all(d.decision.overrides == [] for d in decided if d.decision is not None)


def test_notices_of_release_0_1_keep_their_old_templates_and_reach_the_outbox(
    release_engine: DisputeEngine,
):
    notices = [
        entry
        for d in release_engine.list_disputes()
        for entry in release_engine.history(d.id)
        if entry.name == "ClaimantNotified"
    ]
    assert notices
    assert all(entry.data["subject"] is None for entry in notices)  # upcast: none recorded
    assert {entry.data["template"] for entry in notices} <= {
        "received",
        "evidence_requested",
        "in_review",
        "refunded",
        "rejected",
    }
    release_engine.projections.catch_up(["outbox"])
    messages = Outbox(release_engine._core.db).entries()
    assert len(messages) == len(notices)
    assert all(m.message.subject for m in messages)  # a subject naming the dispute


def test_release_0_1_keeps_its_sha256_log_and_names_its_unsealed_events(tmp_path: Path):
    copy = tmp_path / "release-0.1.db"
    shutil.copy(FIXTURE, copy)
    with DisputeEngine.open(f"sqlite:///{copy}", settings=sealed_settings()) as engine:
        db = engine._core.db
        report = engine.audit.verify()  # opens the views: version 1 migrates to 2
        kept = db.fetchall("SELECT name FROM sqlite_master WHERE name = 'audit_log'")
        assert kept != []  # the version 1 log's table is never dropped
        versions = db.fetchall("SELECT version FROM projection_versions WHERE name = 'audit_log'")
        assert versions[0]["version"] == 2
    assert report.logged == 0  # written before events were sealed: never logged
    assert report.events > 0
    assert {p.problem.split(":")[0] for p in report.problems} == {"has no seal"}
    assert len(report.problems) == report.events
