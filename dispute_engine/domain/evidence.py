"""Evidence attached to a dispute: what is kept in the event, and the limits on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

EvidenceKind = Literal[
    "screenshot", "document", "chat_log", "statement", "receipt", "identity", "other"
]
EvidenceSource = Literal["claimant", "investigator"]
MEDIA_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/json",
        "message/rfc822",
    }
)
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: its bytes live in the EvidenceStore under ``sha256``."""

    sha256: str
    size: int
    media_type: str
    filename: str
    kind: str
    source: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class EvidenceRequest:
    """What the investigator asked the claimant for, and when it was answered."""

    what: str
    requested_by: str
    requested_at: datetime
    answered_at: datetime | None = None
