"""Notices to the claimant, in their language (English, Chinese, Spanish)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Template = Literal["received", "evidence_requested", "in_review", "refunded", "rejected"]


@dataclass(frozen=True)
class Notice:
    """A notice recorded as sent to the claimant."""

    template: str
    language: str
    text: str
    sent_at: datetime


TEMPLATES: dict[Template, dict[str, str]] = {
    "received": {
        "en": "We have received your dispute {ref} and are looking into it.",
        "zh": "我们已收到您的争议 {ref},正在处理中。",
        "es": "Hemos recibido su disputa {ref} y la estamos revisando.",
    },
    "evidence_requested": {
        "en": "To continue with dispute {ref} we need: {what}.",
        "zh": "为继续处理争议 {ref},我们需要:{what}。",
        "es": "Para continuar con la disputa {ref} necesitamos: {what}.",
    },
    "in_review": {
        "en": "A decision on dispute {ref} is being reviewed.",
        "zh": "争议 {ref} 的处理决定正在复核中。",
        "es": "Se está revisando una decisión sobre la disputa {ref}.",
    },
    "refunded": {
        "en": "Dispute {ref} is resolved: {amount} has been sent to you.",
        "zh": "争议 {ref} 已解决:{amount} 已退还给您。",
        "es": "La disputa {ref} está resuelta: le hemos enviado {amount}.",
    },
    "rejected": {
        "en": "Dispute {ref} is resolved: the transaction was found to be correct. "
        "You may appeal within {days} days.",
        "zh": "争议 {ref} 已解决:经核查该交易无误。您可在 {days} 天内提出申诉。",
        "es": "La disputa {ref} está resuelta: la transacción es correcta. "
        "Puede apelar en un plazo de {days} días.",
    },
}


def render(template: Template, language: str, **values: str) -> str:
    """The notice text in the language (English when the language has no text)."""
    texts = TEMPLATES[template]
    return texts.get(language, texts["en"]).format(**values)
