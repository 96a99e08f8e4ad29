"""Validated values: every way in is validated, and each error names its field."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import Field, ValidationInfo, field_validator

from dispute_engine import ClaimedTransaction, FileDispute
from dispute_engine.domain.value_object import ValueObject
from dispute_engine.errors import InvalidInput
from tests.factories import filing, transaction


def test_unknown_fields_are_refused_in_a_mapping_and_in_json():
    data: dict[str, Any] = {**transaction(), "note": "hi"}
    with pytest.raises(InvalidInput) as refused:
        ClaimedTransaction.model_validate(data)
    assert refused.value.fields == ["note"]
    with pytest.raises(InvalidInput) as refused_json:
        ClaimedTransaction.model_validate_json(json.dumps(data))
    assert refused_json.value.fields == ["note"]


def test_an_object_is_read_by_its_attributes_when_asked():
    assert ClaimedTransaction.model_validate(
        SimpleNamespace(**transaction()), from_attributes=True
    ) == ClaimedTransaction.model_validate(transaction())


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            filing(transaction=transaction(tx_hash="0x12")),
            {
                "field": "transaction.tx_hash",
                "message": "must be 0x followed by exactly 64 hex digits",
            },
        ),
        (
            filing(transaction=transaction(asset="FOO", decimals=None)),
            {"field": "transaction.decimals", "message": "unknown asset FOO: give its decimals"},
        ),
        (
            "nonsense",
            {
                "field": "input",
                "message": "Input should be a valid dictionary or instance of FileDispute",
            },
        ),
    ],
)
def test_an_error_names_the_dotted_field_and_reads_without_pydantics_prefix(data, error):
    with pytest.raises(InvalidInput) as refused:
        FileDispute.model_validate(data)
    assert refused.value.errors == [error]


def test_strict_validation_takes_no_text_for_a_number():
    data = transaction(chain_id="1")
    assert ClaimedTransaction.model_validate(data).chain_id == 1
    with pytest.raises(InvalidInput) as refused:
        ClaimedTransaction.model_validate(data, strict=True)
    assert "chain_id" in refused.value.fields
    with pytest.raises(InvalidInput) as refused_keywords:
        ClaimedTransaction(**{**transaction(), "chain_id": "one"})
    assert refused_keywords.value.fields == ["chain_id"]


class Named(ValueObject):
    """A value with an alias and a validator that reads the validation's context."""

    full_name: str = Field(alias="fullName")

    @field_validator("full_name")
    @classmethod
    def _shout(cls, value: str, info: ValidationInfo) -> str:
        return value.upper() if (info.context or {}).get("shout") else value


def test_every_option_of_validation_reaches_it_from_a_mapping_and_from_json():
    data = {"fullName": "ana"}
    text = json.dumps(data)
    assert Named.model_validate(data, context={"shout": True}).full_name == "ANA"
    assert Named.model_validate_json(text, context={"shout": True}).full_name == "ANA"
    by_name = {"full_name": "ana"}
    with pytest.raises(InvalidInput):
        Named.model_validate(by_name)
    assert Named.model_validate(by_name, by_alias=False, by_name=True).full_name == "ana"
    assert Named.model_validate_json(json.dumps(by_name), by_name=True).full_name == "ana"
    with pytest.raises(InvalidInput):
        Named.model_validate(data, by_alias=False, by_name=True)
    with pytest.raises(InvalidInput):
        Named.model_validate_json(text, by_alias=False, by_name=True)
    extra = {**transaction(), "note": "hi"}
    assert ClaimedTransaction.model_validate(extra, extra="ignore") == ClaimedTransaction(
        **transaction()
    )
    assert ClaimedTransaction.model_validate_json(json.dumps(extra), extra="ignore").chain_id == 1
    lenient = json.dumps(transaction(chain_id="1"))
    assert ClaimedTransaction.model_validate_json(lenient).chain_id == 1
    with pytest.raises(InvalidInput) as refused:
        ClaimedTransaction.model_validate_json(lenient, strict=True)
    assert "chain_id" in refused.value.fields
