"""Notices to the claimant: which catalog template fits each moment of a dispute.

The dispute chooses the template and its values; the text comes from the message catalogs
(``dispute_engine.notices``), handed in as a :class:`Renderer` so the domain reads no files.
The rendered text is what the event records: replaying a dispute never renders again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

REPLY_WINDOW = timedelta(days=14)  # how long the claimant is given to send what was asked
SATISFACTION_REQUEST = "satisfaction_request"
# A payout reference that is a chain transaction: its notice links to the explorer.
PAYOUT_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Notice:
    """A notice recorded as sent to the claimant.

    ``template`` is the catalog's (``acknowledgement``, ``decision.refund``, ...); notices
    recorded before the catalogs name the old ones (``received``, ``rejected``, ...).
    """

    template: str
    language: str
    text: str
    sent_at: datetime


class RenderedText(Protocol):
    """A notice rendered in one language: the catalog entry used and its text."""

    @property
    def template(self) -> str:
        """The catalog entry (``decision.reject``)."""

    @property
    def language(self) -> str:
        """The catalog the text is in (``en``, ``zh``, ``zh_Hant``, ``es``)."""

    @property
    def subject(self) -> str:
        """The subject line."""

    @property
    def body(self) -> str:
        """The text."""


class Renderer(Protocol):
    """Renders a template in a claimant's language; raises InvalidInput for bad values."""

    def __call__(self, template: str, language: str, **values: Any) -> RenderedText:
        """The notice ``template`` in ``language`` with ``values`` filled in."""
