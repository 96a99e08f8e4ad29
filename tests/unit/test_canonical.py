"""Canonical staff ids and the decision statement that approvals sign."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.canonical import canonical_id, decision_statement
from dispute_engine.errors import InvalidInput

DISPUTE = UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    "spelling", ["alice", "ALICE", "Alice", " alice ", "\uff41\uff4c\uff49\uff43\uff45"]
)
def test_spellings_of_one_person_are_one_id(spelling: str) -> None:
    assert canonical_id(spelling) == "alice"


def test_german_sharp_s_folds_like_its_capital() -> None:
    assert canonical_id("STRASSE") == canonical_id("straße")


@pytest.mark.parametrize(
    "text", ["ali\u200bce", "alice\u200d", "\u202ealice", "al\x00ice", "alice\n", "\ufeffalice"]
)
def test_invisible_and_control_characters_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        canonical_id(text, field="by")
    assert raised.value.fields == ["by"]


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_id_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        canonical_id(text)


@given(st.text(min_size=1, max_size=40))
def test_canonical_ids_are_stable(text: str) -> None:
    try:
        once = canonical_id(text)
    except InvalidInput:
        return
    assert canonical_id(once) == once


def _statement(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "action": "approve",
        "dispute_id": DISPUTE,
        "decision_number": 1,
        "outcome": "refund",
        "amount": Decimal("125.50"),
        "asset": "USDT",
        "decimals": 6,
        "recipient": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "chain_id": 1,
        "overrides": ["time", "amount"],
    }
    fields.update(changes)
    return decision_statement(**fields)  # type: ignore[arg-type]


def test_the_statement_is_fixed_bytes() -> None:
    assert _statement() == (
        b"dispute-engine/decision-statement/v1\n"
        b'{"action":"approve","amount":"125.5","asset":"USDT","chain_id":1,"decimals":6,'
        b'"decision_number":1,"dispute_id":"12345678-1234-5678-1234-567812345678",'
        b'"outcome":"refund","overrides":["amount","time"],'
        b'"recipient":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}'
    )


def test_equal_amounts_and_override_orders_give_one_statement() -> None:
    assert _statement(amount=Decimal("125.500"), overrides=["amount", "time"]) == _statement()


@pytest.mark.parametrize(
    "change",
    [
        {"action": "execute"},
        {"decision_number": 2},
        {"outcome": "partial_refund"},
        {"amount": Decimal("125.51")},
        {"asset": "USDC"},
        {"decimals": 18},
        {"recipient": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"},
        {"chain_id": 10},
        {"overrides": ["amount"]},
        {"dispute_id": UUID(int=1)},
    ],
)
def test_every_field_is_covered_by_the_statement(change: dict[str, object]) -> None:
    assert _statement(**change) != _statement()


def test_a_zero_amount_is_written_as_zero() -> None:
    assert b'"amount":"0"' in _statement(amount=Decimal("0.00"), outcome="reject")


def test_a_refused_id_names_the_field_and_the_character() -> None:
    with pytest.raises(InvalidInput) as invisible:
        canonical_id("ali\u200bce", field="by")
    assert invisible.value.errors == [
        {"field": "by", "message": "must not contain control or invisible characters (U+200B)"}
    ]
    with pytest.raises(InvalidInput) as empty:
        canonical_id(" ", field="by")
    assert empty.value.errors == [{"field": "by", "message": "must not be empty"}]


def test_a_whole_amount_is_written_without_an_exponent() -> None:
    assert b'"amount":"100"' in _statement(amount=Decimal("100.00"))


def test_the_statement_is_ascii_whatever_the_text_in_it() -> None:
    statement = _statement(overrides=["montant vérifié"])
    assert b'"overrides":["montant v\\u00e9rifi\\u00e9"]' in statement


def test_an_id_is_blamed_on_the_id_field_unless_told_otherwise() -> None:
    with pytest.raises(InvalidInput) as empty:
        canonical_id("")
    assert empty.value.fields == ["id"]
