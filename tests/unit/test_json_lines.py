"""Lines from files others wrote: deep nesting is refused before the decoder can overflow."""

from __future__ import annotations

import sys

import pytest

from dispute_engine.json_lines import json_line


def test_a_flat_line_decodes_and_brackets_inside_strings_do_not_count():
    assert json_line('{"topic": "[[[[[[[[{{{{", "proof": ["00"]}') == {
        "topic": "[[[[[[[[{{{{",
        "proof": ["00"],
    }


@pytest.mark.parametrize(
    "text", ["[" * 100_000, '{"a":' * 50_000, '[[[[["x"]]]]]', '"\\"" ' + "[" * 10]
)
def test_deep_nesting_is_refused_even_with_a_raised_recursion_limit(text: str):
    # py-evm raises the limit on import; the C decoder then overflows the C stack instead.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        with pytest.raises(ValueError, match="nested deeper"):
            json_line(text)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("text", ["not json", "9" * 5000, "", "{"])
def test_text_that_is_not_json_is_a_value_error(text: str):
    with pytest.raises(ValueError):  # noqa: PT011 - the reason varies with the decoder
        json_line(text)
