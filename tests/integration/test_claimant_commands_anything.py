"""Arbitrary values thrown at the claimant commands: accepted, or a typed error and, for
invalid input, nothing written; never a library error, never half a write."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispute_engine import Actor, DisputeEngine, ProposeDecision, Role
from dispute_engine.errors import DisputeEngineError, InvalidInput, MalformedSignature
from tests.factories import file_dispute, stored_rows

ODD_TEXT = [
    "",
    " ",
    "\x00",
    "\ud800",
    "\u200b",
    "\uff55\uff53\uff45\uff52\uff0d\uff11\uff18\uff14\uff12",  # fullwidth user-1842
    "user-1842\n",
    "x" * 100_000,
    "0x" + "ab" * 65,
    "0X" + "AB" * 65,
    "0x" + "00" * 5000,
]
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=50),
    st.binary(max_size=50),
    st.sampled_from(ODD_TEXT),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
CHECKS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
APPROVER = Actor(id="bob", roles={Role.APPROVER})


def attempt(engine: DisputeEngine, call: Any) -> None:
    """Run one call: it succeeds, or raises a typed error. Invalid input writes nothing, but
    for a malformed signature, which is recorded as one failed attempt (one event)."""
    before = stored_rows(engine)
    try:
        call()
    except MalformedSignature:
        events, *rest = stored_rows(engine)
        assert (events, *rest) == (before[0] + 1, *before[1:])
    except InvalidInput:
        assert stored_rows(engine) == before
    except DisputeEngineError:
        pass


@CHECKS
@given(signature=anything, method=st.sampled_from(["wallet_signature"]) | anything)
def test_verify_identity_takes_anything(
    engine: DisputeEngine, alice: Actor, signature: object, method: object
):
    dispute = file_dispute(engine, alice)
    attempt(engine, lambda: engine.issue_identity_challenge(dispute, by=alice))
    attempt(
        engine,
        lambda: engine.verify_identity(
            dispute,
            method=method,  # type: ignore[arg-type]
            signature=signature,  # type: ignore[arg-type]
            by=alice,
        ),
    )


@CHECKS
@given(rating=st.integers(1, 5) | anything, comment=anything, channel=anything)
def test_record_feedback_takes_anything(
    engine: DisputeEngine, alice: Actor, rating: object, comment: object, channel: object
):
    dispute = file_dispute(engine, alice)
    engine.assign(dispute, investigator="alice", by=alice)
    engine.propose_decision(
        dispute,
        ProposeDecision(outcome="reject", rationale="ok", overrides=["checklist"]),
        by=alice,
    )
    attempt(
        engine,
        lambda: engine.record_feedback(
            dispute,
            rating=rating,  # type: ignore[arg-type]
            comment=comment,  # type: ignore[arg-type]
            channel=channel,  # type: ignore[arg-type]
        ),
    )


@CHECKS
@given(claimant=anything, dispute_id=anything)
def test_forget_claimant_and_the_challenge_take_anything(
    engine: DisputeEngine, alice: Actor, claimant: object, dispute_id: object
):
    attempt(engine, lambda: engine.forget_claimant(claimant, by=APPROVER))  # type: ignore[arg-type]
    attempt(engine, lambda: engine.issue_identity_challenge(dispute_id, by=alice))  # type: ignore[arg-type]
    assert engine.get(file_dispute(engine, alice)).status == "filed"  # still usable
