"""A database that cannot be written or read back: one typed error naming the cause, and
nothing lost or half-written. Real faults: a full and a read-only file system (tmpfs mounted
for the test), bytes written into the file, plain-SQL edits to stored events."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from dispute_engine import Actor, AddEvidence, DisputeEngine
from dispute_engine.errors import CorruptHistory, StorageUnavailable
from tests.conftest import FakeClock
from tests.factories import file_dispute, stored_rows


def _evidence(n: int, size: int) -> AddEvidence:
    return AddEvidence(
        kind="other",
        media_type="application/pdf",
        filename=f"{n}.bin",
        content=uuid.uuid4().bytes * (size // 16),
    )


def test_a_full_disk_is_storage_unavailable_and_loses_nothing(
    small_fs: Path, clock: FakeClock, alice: Actor
):
    url = f"sqlite:///{small_fs / 'disputes.db'}"
    engine = DisputeEngine.open(url, clock=clock)
    dispute_id = file_dispute(engine, alice)
    landed = 0
    error: StorageUnavailable | None = None
    for n in range(100):
        try:
            engine.add_evidence(dispute_id, _evidence(n, 64 * 1024), by=alice)
        except StorageUnavailable as exc:
            error = exc
            break
        landed += 1
    assert error is not None
    assert "database or disk is full" in str(error)
    assert len(str(error).splitlines()) == 1
    assert landed > 0
    view = engine.get(dispute_id)  # every acknowledged write reads back, the failed one is absent
    assert len(view.evidence) == landed
    assert stored_rows(engine)[0] == 1 + landed
    engine.shutdown()


def test_a_read_only_file_system_is_storage_unavailable_and_changes_nothing(
    small_fs: Path, clock: FakeClock, alice: Actor
):
    url = f"sqlite:///{small_fs / 'disputes.db'}"
    with DisputeEngine.open(url, clock=clock) as engine:
        dispute_id = file_dispute(engine, alice)
    before = (small_fs / "disputes.db").read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)

    def note() -> None:
        with DisputeEngine.open(url, clock=clock) as engine:
            engine.add_note(dispute_id, "will not land", by=alice)

    with pytest.raises(StorageUnavailable, match="cannot use the database") as caught:
        note()
    assert len(str(caught.value).splitlines()) == 1
    assert (small_fs / "disputes.db").read_bytes() == before


def test_a_file_that_is_not_a_database_is_storage_unavailable(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list: milk, eggs\n" * 100)
    with pytest.raises(StorageUnavailable, match="file is not a database"):
        DisputeEngine.open(f"sqlite:///{path}")
    assert path.read_text() == "shopping list: milk, eggs\n" * 100


def test_a_malformed_page_is_storage_unavailable(tmp_path: Path, clock: FakeClock, alice: Actor):
    path = tmp_path / "disputes.db"
    with DisputeEngine.open(f"sqlite:///{path}", clock=clock) as engine:
        ids = [file_dispute(engine, alice, description="x" * 2000) for _ in range(20)]
    with open(path, "r+b") as file:
        size = file.seek(0, 2)
        for offset in range(4096, size, 4096):  # every page header after the first
            file.seek(offset)
            file.write(b"\xff" * 16)

    def read_all() -> None:
        with DisputeEngine.open(f"sqlite:///{path}", clock=clock) as engine:
            for dispute_id in ids:
                engine.get(dispute_id)

    with pytest.raises(StorageUnavailable, match="malformed") as caught:
        read_all()
    assert len(str(caught.value).splitlines()) == 1


def _edit(engine: DisputeEngine, statement: str, *params: object) -> None:
    """A plain-SQL edit to the events table, outside the engine."""
    sql = statement.format(events=engine._core.events_table)
    if engine._core.storage.kind == "postgres":
        with engine._core.storage.connect() as conn:
            conn.execute(sql.replace("?", "%s"), params)
    else:
        import sqlite3

        with sqlite3.connect(engine._core.storage.env["SQLITE_DBNAME"]) as conn:
            conn.execute(sql, params)


def _with_notes(engine: DisputeEngine, alice: Actor) -> uuid.UUID:
    dispute_id = file_dispute(engine, alice)
    for n in range(3):
        engine.add_note(dispute_id, f"note {n}", by=alice)
    return dispute_id


def test_flipped_bytes_in_a_stored_event_are_corrupt_history_naming_dispute_and_version(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = _with_notes(engine, alice)
    key = engine._core.db.originator_key(dispute_id)
    blob = "decode('ff00ff00', 'hex')" if engine._core.storage.kind == "postgres" else "x'ff00ff00'"
    _edit(
        engine,
        f"UPDATE {{events}} SET state = {blob} WHERE originator_id = ? AND originator_version = 3",
        key,
    )
    for read in (engine.get, engine.history, lambda i: engine.state_at(i, version=4)):
        with pytest.raises(CorruptHistory, match=f"{dispute_id}.*version 3") as caught:
            read(dispute_id)
        assert (caught.value.dispute_id, caught.value.version) == (dispute_id, 3)
    with pytest.raises(CorruptHistory):
        engine.add_note(dispute_id, "cannot land on a broken history", by=alice)


@pytest.mark.parametrize("state", [b"{}", b'{"text": "a note without its actor"}'])
def test_a_stored_event_emptied_of_its_fields_is_corrupt_history(
    engine: DisputeEngine, alice: Actor, state: bytes
):
    dispute_id = _with_notes(engine, alice)
    _edit(
        engine,
        "UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = 3",
        state,
        engine._core.db.originator_key(dispute_id),
    )
    for read in (engine.get, engine.history):
        with pytest.raises(CorruptHistory, match=f"{dispute_id}.*version 3"):
            read(dispute_id)
    with pytest.raises(CorruptHistory, match=f"{dispute_id}.*version 3"):
        engine.projections.catch_up()  # a view never reads a field the event lacks


def test_a_deleted_middle_event_is_corrupt_history_naming_the_missing_version(
    engine: DisputeEngine, alice: Actor
):
    dispute_id = _with_notes(engine, alice)
    _edit(
        engine,
        "DELETE FROM {events} WHERE originator_id = ? AND originator_version = 2",
        engine._core.db.originator_key(dispute_id),
    )
    for read in (engine.get, engine.history):
        with pytest.raises(CorruptHistory, match=r"missing .* version 2") as caught:
            read(dispute_id)
        assert caught.value.version == 2
    with pytest.raises(CorruptHistory):
        engine.list_disputes()
