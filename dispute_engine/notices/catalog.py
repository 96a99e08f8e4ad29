"""Notices to claimants from gettext catalogs, with amounts and dates in the claimant's locale.

The ``.po`` sources under ``locales/`` are compiled when first used (babel's ``read_po`` into
``Translations``) and cached, so there is no build step. Message ids are symbolic
(``decision.refund.body``): an id without a translation is a defect the tests find, never text
that silently reads as the id.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.money import Money
from dispute_engine.networks import network

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"
TRADITIONAL_TERRITORIES = frozenset({"TW", "HK", "MO"})

Template = Literal[
    "acknowledgement",
    "evidence_request",
    "reminder",
    "decision",
    "refund_sent",
    "reopened",
    "closed",
    "satisfaction_request",
]
Outcome = Literal["refund", "partial_refund", "adjustment", "reject"]
TEMPLATES: tuple[Template, ...] = get_args(Template)
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

# The values each template needs, beyond the dispute reference every notice names.
NEEDS: Mapping[str, frozenset[str]] = {
    "acknowledgement": frozenset({"amount", "filed_at"}),
    "evidence_request": frozenset({"what", "reply_by"}),
    "reminder": frozenset({"what", "reply_by"}),
    "decision.refund": frozenset({"amount", "reason"}),
    "decision.partial_refund": frozenset({"amount", "claimed", "reason"}),
    "decision.adjustment": frozenset({"amount", "reason"}),
    "decision.reject": frozenset({"reason", "appeal_by"}),
    "refund_sent": frozenset({"amount", "sent_at", "payout_hash", "chain_id"}),
    "reopened": frozenset({"reopened_at"}),
    "closed": frozenset({"appeal_by"}),
    "satisfaction_request": frozenset(),
}
_SUBJECT_ONLY = frozenset({"ref"})

Value = str | int | Decimal | Money | datetime | date


@dataclass(frozen=True)
class RenderedNotice:
    """One notice, ready to send: its subject and body in one language."""

    template: str
    language: str  # the catalog used: en, zh, zh_Hant, es
    locale: str  # the CLDR locale amounts and dates were formatted in, e.g. es_MX
    subject: str
    body: str

    def __str__(self) -> str:
        return self.body


def languages() -> tuple[str, ...]:
    """The catalogs there are, by file name (``zh_Hant`` for Traditional Chinese)."""
    return tuple(sorted(p.stem for p in LOCALES.glob("*.po")))


def message_ids() -> tuple[str, ...]:
    """Every message id a complete catalog translates."""
    ids: list[str] = []
    for key in NEEDS:
        ids += [f"{key}.subject", f"{key}.body"]
    return (*ids, "refund_sent.link", "notice.subject")


def problems(language: str) -> list[str]:
    """What is wrong with one catalog: ids missing, untranslated, fuzzy, unknown, or naming
    other fields than the English text does. An empty list is a complete catalog."""
    with (LOCALES / f"{language}.po").open("rb") as source:
        catalog = read_po(source, locale=language.split("_", maxsplit=1)[0])
    with (LOCALES / f"{DEFAULT}.po").open("rb") as source:
        english = read_po(source, locale=DEFAULT)
    found: list[str] = []
    for key in message_ids():
        entry = catalog.get(key)
        if entry is None or not entry.string:
            found.append(f"{language}: {key} has no translation")
        elif entry.fuzzy:
            found.append(f"{language}: {key} is marked fuzzy")
        elif _fields(str(entry.string)) != _fields(str(english[key].string)):
            found.append(f"{language}: {key} names other fields than the English text")
    known = set(message_ids())
    found += [f"{language}: {m.id} is not used" for m in catalog if m.id and m.id not in known]
    return found


def _fields(text: str) -> set[str]:
    return {part[1] for part in string.Formatter().parse(text) if part[1] is not None}


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of one language, read from its ``.po`` source once.

    Raises InvalidInput for a language without a catalog.
    """
    if language not in languages():
        raise InvalidInput.of("language", f"no catalog for {language!r}")
    with (LOCALES / f"{language}.po").open("rb") as source:
        catalog = read_po(source, locale=language, domain="notices")
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="notices")


@lru_cache(maxsize=1024)
def resolve(language: str) -> tuple[str, Locale]:
    """The catalog and the formatting locale for a claimant's BCP 47 language tag.

    Traditional Chinese (``zh-Hant``, ``zh-TW``, ``zh-HK``, ``zh-MO``) gets its own catalog,
    a regional tag its language's (``es-MX`` -> ``es``), anything else English. Amounts and dates
    follow the most specific locale CLDR knows for the tag, as long as it is the catalog's
    language, so Mexican Spanish gets ``es_MX`` number formatting in the ``es`` text.
    """
    tag = language.strip().replace("_", "-")
    try:
        parsed: Locale | None = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        parsed = None
    primary = parsed.language if parsed is not None else tag.split("-")[0].lower()
    available = languages()
    catalog = DEFAULT
    if primary == "zh":
        script = parsed.script if parsed is not None else None
        territory = parsed.territory if parsed is not None else None
        traditional = script == "Hant" or (script is None and territory in TRADITIONAL_TERRITORIES)
        catalog = "zh_Hant" if traditional and "zh_Hant" in available else "zh"
    elif primary in available:
        catalog = primary
    if parsed is not None and parsed.language == catalog.split("_")[0]:
        return catalog, parsed
    return catalog, Locale.parse(catalog)


def render(
    template: str,
    language: str,
    *,
    timezone: str = "UTC",
    **values: Value,
) -> RenderedNotice:
    """A notice in the claimant's language, amounts and dates in their locale and time zone.

    ``ref`` names the dispute; each template needs the values in ``NEEDS``; a decision also
    needs ``outcome`` (refund, partial_refund, adjustment, reject). A refund's explorer link
    comes from the chain registry by ``chain_id``. Raises InvalidInput for an unknown template,
    outcome or time zone, a missing or unexpected value, or a value of the wrong type.
    """
    key = _key(template, values.pop("outcome", None))
    needed = NEEDS[key] | _SUBJECT_ONLY
    missing = sorted(needed - values.keys())
    unexpected = sorted(values.keys() - needed)
    if missing or unexpected:
        problems = [{"field": f"values.{n}", "message": "missing"} for n in missing]
        problems += [{"field": f"values.{n}", "message": "not used by " + key} for n in unexpected]
        raise InvalidInput(problems)
    zone = _zone(timezone)
    catalog, locale = resolve(language)
    fields = {name: _format(name, value, locale, zone) for name, value in values.items()}
    gettext = translations(catalog).gettext
    subject = _fill(gettext(f"{key}.subject"), fields)
    body = _fill(gettext(f"{key}.body"), fields)
    if key == "refund_sent":
        link = _explorer_link(values["chain_id"], str(values["payout_hash"]))
        if link is not None:
            body += "\n" + _fill(gettext("refund_sent.link"), {**fields, **link})
    return RenderedNotice(key, catalog, str(locale), subject, body)


def generic_subject(language: str, *, ref: str) -> str:
    """A subject naming the dispute, for a recorded notice that has none of its own."""
    catalog, _ = resolve(language)
    return _fill(translations(catalog).gettext("notice.subject"), {"ref": ref})


def _key(template: str, outcome: object) -> str:
    if template not in TEMPLATES:
        raise InvalidInput.of("template", f"unknown notice {template!r}: one of {TEMPLATES}")
    if template != "decision":
        if outcome is not None:
            raise InvalidInput.of("values.outcome", f"not used by {template}")
        return template
    if outcome not in OUTCOMES:
        raise InvalidInput.of("values.outcome", f"must be one of {OUTCOMES}, got {outcome!r}")
    return f"decision.{outcome}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.of("timezone", f"unknown time zone {name!r}") from None


def _format(name: str, value: object, locale: Locale, zone: ZoneInfo) -> str:
    # bool is an int; a float is never an exact amount.
    if isinstance(value, Money):
        return f"{_format(name, value.amount, locale, zone)} {value.asset}"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return format_decimal(value, locale=locale, decimal_quantization=False)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput.of(f"values.{name}", "must be a timezone-aware datetime")
        return format_datetime(value.astimezone(UTC), "medium", tzinfo=zone, locale=locale)
    if isinstance(value, date):
        return format_date(value, "long", locale=locale)
    if isinstance(value, str):
        return value
    raise InvalidInput.of(f"values.{name}", f"cannot be shown in a notice: {type(value).__name__}")


def _fill(text: str, fields: Mapping[str, str]) -> str:
    # Only plain {name} fields: a catalog entry cannot reach attributes or indexes of a value.
    if not _fields(text) <= fields.keys():
        raise InvalidInput.of("template", f"the catalog text {text!r} names unknown fields")
    return text.format_map(fields)


def _explorer_link(chain_id: object, payout_hash: str) -> dict[str, str] | None:
    if not isinstance(chain_id, int) or isinstance(chain_id, bool):
        raise InvalidInput.of("values.chain_id", "must be an integer chain id")
    chain = network(chain_id)
    url = chain.transaction_url(payout_hash)
    return None if url is None else {"explorer": chain.name, "url": url}
