"""For any desk, the queue offers a member exactly the open work in the languages they serve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_engine import Actor, DisputeEngine, Role
from dispute_engine.domain.routing import route
from dispute_engine.domain.staff import serves
from dispute_engine.staffing import _queue_entry
from dispute_engine.views import DisputeView
from projections.work_routing import next_disputes
from tests.conftest import FakeClock
from tests.factories import file_dispute

ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
TAGS = ["en", "en-GB", "zh", "zh-Hant", "zh-CN", "es", "es-MX", "es-419"]
PRIORITIES = ["low", "normal", "high", "urgent"]


@settings(max_examples=25, deadline=None)
@given(
    filed=st.lists(st.tuples(st.sampled_from(TAGS), st.sampled_from(PRIORITIES)), max_size=8),
    served=st.lists(st.sampled_from(TAGS), max_size=3),
)
def test_the_queue_holds_exactly_the_disputes_in_served_languages(
    filed: list[tuple[str, str]], served: list[str]
):
    clock = FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    with DisputeEngine.open("memory:", clock=clock) as engine:
        languages = {
            file_dispute(engine, ALICE, language=tag, priority=priority): tag
            for tag, priority in filed
        }
        engine.projections.catch_up()
        offered = next_disputes(
            engine._core.db, staff_id="wei", roles={Role.INVESTIGATOR}, languages=served, limit=100
        )
    expected = {str(i) for i, tag in languages.items() if serves(served, tag)}
    assert set(offered) == expected
    assert len(offered) == len(expected)


@settings(max_examples=25, deadline=None)
@given(
    filed=st.lists(
        st.tuples(
            st.sampled_from(TAGS),
            st.sampled_from(PRIORITIES),
            st.sampled_from([None, "alice", "bob"]),
            st.integers(min_value=0, max_value=90),
        ),
        max_size=8,
    ),
    served=st.lists(st.sampled_from(TAGS), max_size=3),
)
def test_routing_from_the_events_gives_the_views_answer(
    filed: list[tuple[str, str, str | None, int]], served: list[str]
):
    clock = FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    with DisputeEngine.open("memory:", clock=clock) as engine:
        for tag, priority, assignee, minutes in filed:
            dispute_id = file_dispute(engine, ALICE, language=tag, priority=priority)
            if assignee is not None:
                engine.assign(dispute_id, investigator=assignee, by=ALICE)
            clock.advance(timedelta(minutes=minutes))
        engine.projections.catch_up()
        roles = {Role.INVESTIGATOR}
        from_views = next_disputes(
            engine._core.db, staff_id="alice", roles=roles, languages=served, limit=100
        )
        entries = [
            _queue_entry(DisputeView.of(d)) for d in engine._core.load_many(engine._core.all_ids())
        ]
        from_events = route(entries, staff_id="alice", roles=roles, languages=served, limit=100)
    assert from_events == from_views
