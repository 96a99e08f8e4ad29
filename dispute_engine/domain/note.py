"""Internal notes investigators keep on a dispute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Note:
    """One internal note: who wrote it, what it says, and when."""

    author: str
    text: str
    added_at: datetime
