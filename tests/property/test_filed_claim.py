"""The claim a dispute holds when filed is the claim its recorded event gives back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_engine import Actor, FileDispute, Role
from dispute_engine.domain.dispute import Dispute
from tests.property.test_snapshots import transcoder
from tests.strategies import amount_texts

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = Actor(id="alice", roles={Role.INVESTIGATOR})
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


def addresses() -> st.SearchStrategy[str]:
    """An address as a claimant may write it: lower case or checksummed."""
    raw = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    return st.one_of(raw, raw.map(to_checksum_address))


@st.composite
def filings(draw: st.DrawFn) -> dict[str, Any]:
    """A valid filing, its fields drawn in the forms claimants write them."""
    decimals = draw(st.integers(0, 18))
    offset = timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60)))
    occurred = T0 - timedelta(seconds=draw(st.integers(0, 10**7)))
    contact = draw(st.none() | TEXT)
    return {
        "claimant_id": draw(TEXT),
        "channel": draw(st.sampled_from(["app", "chat", "email", "social", "phone"])),
        "language": draw(st.sampled_from(["en", "zh", "es", "ZH-hans", "es-419"])),
        "jurisdiction": draw(st.sampled_from(["US", "us", "gb", "US-CA", "de-by"])),
        "priority": draw(st.sampled_from(["low", "normal", "high", "urgent"])),
        "reason": draw(st.sampled_from(["not_received", "duplicate", "other"])),
        "transaction": {
            "chain_id": draw(st.integers(1, 2**53 - 1)),
            "tx_hash": "0x" + draw(st.binary(min_size=32, max_size=32)).hex(),
            "asset": draw(st.sampled_from(["ETH", "usdt", "Tok.1"])),
            "decimals": decimals,
            "amount": draw(amount_texts(decimals)),
            "sender": draw(addresses()),
            "recipient": draw(addresses()),
            "occurred_at": occurred.astimezone(timezone(offset)).isoformat(),
        },
        "description": draw(TEXT),
        **({} if contact is None else {"contact": contact}),
        "idempotency_key": "filed-claim-property",
    }


@settings(max_examples=200, deadline=None)
@given(data=filings())
def test_a_filed_dispute_holds_the_claim_replay_gives(data: dict[str, Any]):
    command = FileDispute.model_validate(data)
    dispute = Dispute.file(command.claim, idempotency_key=command.idempotency_key, by=ALICE, now=T0)
    [filed] = dispute.collect_events()
    coder = transcoder()
    stored = coder.decode(coder.encode(filed.__dict__))
    replayed = type(filed)(**stored).mutate(None)
    assert replayed is not None
    assert dispute.claim == replayed.claim
    assert dispute.claim.model_dump() == replayed.claim.model_dump()
