"""Canonical forms that identities and signatures are compared and computed on.

Two spellings of one person (``alice``, ``ALICE``, fullwidth ``alice``) are one staff id;
an approval signature covers one byte string that every party computes the same way.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from dispute_engine.domain.errors import InvalidInput

# Control, format (zero-width joiners, bidi marks), surrogate, private-use and unassigned code
# points: invisible or ambiguous, so two ids that look alike could differ by them.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
STATEMENT_DOMAIN = "dispute-engine/decision-statement/v1"


def canonical_id(text: str, *, field: str = "id") -> str:
    """The canonical form of a person's or service's id: NFKC, casefolded, trimmed.

    Raises InvalidInput for an empty id or one holding control, format or zero-width
    characters.
    """
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidInput.of(
                field, f"must not contain control or invisible characters (U+{ord(char):04X})"
            )
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = folded.strip()
    if not folded:
        raise InvalidInput.of(field, "must not be empty")
    return folded


def decision_statement(
    *,
    action: str,
    dispute_id: UUID,
    decision_number: int,
    outcome: str,
    amount: Decimal,
    asset: str,
    decimals: int,
    recipient: str | None,
    chain_id: int,
    overrides: Sequence[str],
) -> bytes:
    """The bytes an approver, a sender-back or an executor signs for one decision.

    ``action`` is ``approve``, ``send_back`` or ``execute``, so a signature given for one
    can never be replayed as another. The encoding is JSON with sorted keys, no spaces,
    ASCII only, the amount as a plain decimal string and overrides sorted: any party that
    knows the decision computes the same bytes.
    """
    body = {
        "action": action,
        "amount": format(amount.normalize(), "f") if amount else "0",
        "asset": asset,
        "chain_id": chain_id,
        "decimals": decimals,
        "decision_number": decision_number,
        "dispute_id": str(dispute_id),
        "outcome": outcome,
        "overrides": sorted(overrides),
        "recipient": recipient,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{STATEMENT_DOMAIN}\n{encoded}".encode("ascii")
