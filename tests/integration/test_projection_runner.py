"""The projection runner on SQLite and PostgreSQL: following live, and runners side by side."""

from __future__ import annotations

import threading
import time

from dispute_engine import Actor, DisputeEngine
from projections.runner import ProjectionRunner, all_views
from tests.factories import file_dispute, sealed_settings


def wait_for(condition: object, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_a_follower_applies_new_events_as_they_are_recorded(engine: DisputeEngine, alice: Actor):
    follower_engine = DisputeEngine.open(engine._core.storage.display)  # another process's view
    stop = threading.Event()
    follower = threading.Thread(
        target=follower_engine.projections.follow, args=(stop,), kwargs={"interval": 0.1}
    )
    follower.start()
    try:
        dispute_id = file_dispute(engine, alice)
        queue = follower_engine.projections
        assert wait_for(lambda: queue.position("work_queue") >= 1)
        rows = engine._core.db.fetchall(
            f"SELECT dispute_id FROM {engine._core.db.table('work_queue')}"
        )
        assert [r["dispute_id"] for r in rows] == [str(dispute_id)]
    finally:
        stop.set()
        follower.join(timeout=10)
        follower_engine.shutdown()
    assert not follower.is_alive()


def test_runners_side_by_side_apply_each_event_once(db_url: str, alice: Actor):
    settings = sealed_settings()
    engine = DisputeEngine.open(db_url, settings=settings)
    for _ in range(30):
        file_dispute(engine, alice)
    runners = [
        ProjectionRunner(engine._core.events, batch_size=4, views=all_views(settings))
        for _ in range(4)
    ]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(runner: ProjectionRunner) -> None:
        barrier.wait()
        try:
            runner.catch_up()
        except BaseException as exc:  # asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = engine._core.db.fetchall(
        f"SELECT leaf_index FROM {engine._core.db.table('audit_leaves')} ORDER BY leaf_index"
    )
    assert [r["leaf_index"] for r in rows] == list(range(30))
    assert runners[0].position("audit_log") == runners[0].position("work_queue") > 0
    assert engine.audit.verify().ok
    engine.shutdown()
