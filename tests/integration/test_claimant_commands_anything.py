"""Arbitrary values thrown at the claimant commands, and at the commands that seal a claimant's
words under their key or write to them: accepted (and read back as given), or a typed error
and, for invalid input, nothing written; never a library error, never half a write."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispute_engine import Actor, AddEvidence, DisputeEngine, FileDispute, ProposeDecision, Role
from dispute_engine.commands import Reason
from dispute_engine.errors import (
    DisputeEngineError,
    InvalidInput,
    MalformedSignature,
    SignatureRefused,
)
from tests.factories import file_dispute, filing, stored_rows

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


def attempt(engine: DisputeEngine, call: Any) -> bool:
    """Run one call: it succeeds (True), or raises a typed error (False). Invalid input writes
    nothing, but for a refused signature, which is recorded as one failed attempt (one
    event); a command refused otherwise writes no event."""
    before = stored_rows(engine)
    try:
        call()
    except (MalformedSignature, SignatureRefused):
        events, *rest = stored_rows(engine)
        assert (events, *rest) == (before[0] + 1, *before[1:])
    except InvalidInput:
        assert stored_rows(engine) == before
    except DisputeEngineError:
        assert stored_rows(engine)[0] == before[0]
    else:
        return True
    return False


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


def rejected(engine: DisputeEngine, alice: Actor) -> UUID:
    dispute = file_dispute(engine, alice)
    engine.assign(dispute, investigator="alice", by=alice)
    engine.propose_decision(
        dispute,
        ProposeDecision(outcome="reject", rationale="ok", overrides=["checklist"]),
        by=alice,
    )
    return dispute


@CHECKS
@given(
    rating=st.integers(1, 5) | anything,
    comment=st.text(max_size=200) | anything,
    channel=st.sampled_from(["chat", "email"]) | anything,
    closed=st.booleans(),
)
def test_record_feedback_takes_anything_and_seals_the_comment(
    keyed: DisputeEngine,
    alice: Actor,
    rating: object,
    comment: object,
    channel: object,
    closed: bool,
):
    dispute = rejected(keyed, alice)
    if closed:
        keyed.close(dispute, by=alice)
    done = attempt(
        keyed,
        lambda: keyed.record_feedback(
            dispute,
            rating=rating,  # type: ignore[arg-type]
            comment=comment,  # type: ignore[arg-type]
            channel=channel,  # type: ignore[arg-type]
        ),
    )
    recorded = [e for e in keyed.history(dispute) if e.name == "FeedbackRecorded"]
    assert len(recorded) == done
    if done and comment:
        assert recorded[0].data["comment"].startswith("pd1.")  # never in clear


@CHECKS
@given(
    note=st.text(max_size=300) | anything,
    party=st.sampled_from(["claimant", "exchange"]) | anything,
    channel=st.sampled_from(["phone", "email"]) | anything,
)
def test_sealed_notes_and_contact_notes_take_anything(
    keyed: DisputeEngine, alice: Actor, note: object, party: object, channel: object
):
    dispute = file_dispute(keyed, alice)
    if attempt(keyed, lambda: keyed.add_note(dispute, note, by=alice)):  # type: ignore[arg-type]
        assert [n.text for n in keyed.get(dispute).notes] == [Reason(text=note).text]
    contact = attempt(
        keyed,
        lambda: keyed.record_contact_attempt(
            dispute,
            party=party,  # type: ignore[arg-type]
            channel=channel,  # type: ignore[arg-type]
            note=note,  # type: ignore[arg-type]
            by=alice,
        ),
    )
    if contact:
        assert [c.note for c in keyed.get(dispute).contacts] == [Reason(text=note).text]


@CHECKS
@given(
    kind=st.sampled_from(["chat_log", "screenshot"]) | anything,
    media_type=st.sampled_from(["text/plain", "image/png"]) | anything,
    filename=st.sampled_from(["chat.txt"]) | anything,
    content=st.binary(max_size=2000) | anything,
)
def test_sealed_evidence_takes_anything_and_reads_back_as_sent(
    keyed: DisputeEngine,
    alice: Actor,
    kind: object,
    media_type: object,
    filename: object,
    content: object,
):
    dispute = file_dispute(keyed, alice)
    evidence = {"kind": kind, "media_type": media_type, "filename": filename, "content": content}
    if attempt(
        keyed, lambda: keyed.add_evidence(dispute, AddEvidence.model_validate(evidence), by=alice)
    ):
        [stored] = keyed.get(dispute).evidence
        sent = AddEvidence.model_validate(evidence).content  # text is taken as its UTF-8 bytes
        assert keyed.evidence_content(stored.sha256) == sent


@CHECKS
@given(dispute_id=anything, forget=st.booleans())
def test_notify_and_close_take_anything_and_never_write_to_a_forgotten_claimant(
    keyed: DisputeEngine, alice: Actor, dispute_id: object, forget: bool
):
    attempt(keyed, lambda: keyed.notify_claimant(dispute_id, by=alice))  # type: ignore[arg-type]
    attempt(keyed, lambda: keyed.close(dispute_id, by=alice))  # type: ignore[arg-type]
    dispute = rejected(keyed, alice)
    if forget:
        keyed.forget_claimant("user-1842", by=APPROVER)
    attempt(keyed, lambda: keyed.notify_claimant(dispute, by=alice))
    assert attempt(keyed, lambda: keyed.close(dispute, by=alice))
    templates = [e.data["template"] for e in keyed.history(dispute) if "template" in e.data]
    expected = ["decision.reject", "closed", "satisfaction_request"]
    assert templates == ([] if forget else expected)


@CHECKS
@given(claimant=anything, dispute_id=anything)
def test_forget_claimant_and_the_challenge_take_anything(
    engine: DisputeEngine, alice: Actor, claimant: object, dispute_id: object
):
    attempt(engine, lambda: engine.forget_claimant(claimant, by=APPROVER))  # type: ignore[arg-type]
    attempt(engine, lambda: engine.issue_identity_challenge(dispute_id, by=alice))  # type: ignore[arg-type]
    assert engine.get(file_dispute(engine, alice)).status == "filed"  # still usable


@CHECKS
@given(contact=st.text(max_size=250) | anything)
def test_a_filing_takes_any_contact_and_seals_it(
    keyed: DisputeEngine, alice: Actor, contact: object
):
    command = filing(contact=contact)
    filed: list[UUID] = []
    if attempt(
        keyed,
        lambda: filed.append(keyed.file_dispute(FileDispute.model_validate(command), by=alice)),
    ):
        assert keyed.get(filed[0]).claim.contact == FileDispute.model_validate(command).contact
        [recorded] = [e for e in keyed.history(filed[0]) if e.name == "Filed"]
        assert contact is None or recorded.data["claim"]["contact"].startswith("pd1.")
