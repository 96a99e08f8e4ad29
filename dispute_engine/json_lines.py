"""Reading one JSON Lines line from a file someone else wrote (a bundle, a witness).

The C JSON decoder recurses once per nesting level; in a process where a library raised the
recursion limit (py-evm does on import) a line of 100,000 ``[`` overflows the C stack and kills
the process instead of raising. The lines read here are flat, so deep nesting is refused before
decoding.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def json_line(text: str, *, max_depth: int = 4) -> Any:
    """Decode one JSON line nested at most ``max_depth`` deep.

    Raises ValueError for text that is not JSON, too deeply nested, or holds a number too long
    to convert.
    """
    depth = deepest = 0
    for char in _STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except RecursionError as error:
        raise ValueError("nested too deeply") from error
