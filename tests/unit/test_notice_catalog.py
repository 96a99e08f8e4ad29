"""Notices in every catalog: complete, filled in, in the claimant's locale."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispute_engine.domain.errors import InvalidInput
from dispute_engine.domain.money import Money
from dispute_engine.notices import catalog
from dispute_engine.notices.catalog import (
    NEEDS,
    OUTCOMES,
    TEMPLATES,
    generic_subject,
    languages,
    message_ids,
    problems,
    render,
    resolve,
)

WHEN = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
PAID = Money.parse("1234.5", asset="USDT", decimals=6)
SAMPLE: dict[str, object] = {
    "amount": PAID,
    "claimed": Money.parse("2000", asset="USDT", decimals=6),
    "filed_at": WHEN,
    "what": "a screenshot of the transfer",
    "reply_by": WHEN,
    "reason": "the recipient address was mistyped by the wallet",
    "appeal_by": date(2026, 12, 21),
    "sent_at": WHEN,
    "payout_hash": "0x" + "ab" * 32,
    "chain_id": 1,
    "reopened_at": WHEN,
}
LEFTOVER = re.compile(r"[{}]|\b[a-z_]+\.(subject|body|link)\b")


def kinds() -> list[tuple[str, str | None]]:
    return [(t, o) for t in TEMPLATES for o in (OUTCOMES if t == "decision" else (None,))]


def sample(template: str, outcome: str | None) -> dict[str, object]:
    key = f"decision.{outcome}" if outcome else template
    values = {name: SAMPLE[name] for name in NEEDS[key]}
    return {"ref": "3f2a9c1e", **values, **({"outcome": outcome} if outcome else {})}


def test_the_catalogs_are_english_chinese_traditional_chinese_and_spanish():
    assert languages() == ("en", "es", "zh", "zh_Hant")


@pytest.mark.parametrize("language", languages())
def test_every_catalog_translates_every_message(language: str):
    assert problems(language) == []


def test_a_catalog_with_a_message_left_untranslated_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for po in catalog.LOCALES.glob("*.po"):
        shutil.copy(po, tmp_path / po.name)
    spanish = tmp_path / "es.po"
    text = spanish.read_text(encoding="utf-8")
    text = text.replace('msgstr "Disputa {ref}: sin reembolso"', 'msgstr ""')
    text = text.replace(
        '"Reabrimos la disputa {ref} el {reopened_at}', '"Reabrimos la disputa {ref}'
    )
    spanish.write_text(text, encoding="utf-8")
    monkeypatch.setattr(catalog, "LOCALES", tmp_path)
    assert problems("es") == [
        "es: decision.reject.subject has no translation",
        "es: reopened.body names other fields than the English text",
    ]


@pytest.mark.parametrize("language", ["en", "zh", "zh-Hant", "es", "es-MX"])
@pytest.mark.parametrize(("template", "outcome"), kinds())
def test_every_notice_renders_in_every_language_with_nothing_left_over(
    template: str, outcome: str | None, language: str
):
    notice = render(template, language, **sample(template, outcome))  # type: ignore[arg-type]
    for text in (notice.subject, notice.body):
        assert "3f2a9c1e" in text
        assert LEFTOVER.search(text) is None, text
    if not language.startswith("en"):
        english = render(template, "en", **sample(template, outcome))  # type: ignore[arg-type]
        assert notice.body != english.body


@pytest.mark.parametrize(
    ("tag", "catalog_language", "locale"),
    [
        ("zh-Hant", "zh_Hant", "zh_Hant"),
        ("zh-TW", "zh_Hant", "zh_Hant_TW"),
        ("zh-HK", "zh_Hant", "zh_Hant_HK"),
        ("zh_tw", "zh_Hant", "zh_Hant_TW"),
        ("zh-CN", "zh", "zh_Hans_CN"),
        ("zh", "zh", "zh"),
        ("es-MX", "es", "es_MX"),
        ("es-419", "es", "es_419"),
        ("en-GB", "en", "en_GB"),
        ("fr", "en", "en"),
        ("de-DE", "en", "en"),
        ("x-klingon", "en", "en"),
        ("", "en", "en"),
    ],
)
def test_a_language_falls_back_to_the_closest_catalog(tag: str, catalog_language: str, locale: str):
    found, formatting = resolve(tag)
    assert (found, str(formatting)) == (catalog_language, locale)


def test_traditional_chinese_falls_back_to_simplified_when_there_is_no_catalog_for_it(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(catalog, "languages", lambda: ("en", "es", "zh"))
    resolve.cache_clear()
    try:
        assert resolve("zh-TW")[0] == "zh"
    finally:
        resolve.cache_clear()


@pytest.mark.parametrize(
    ("language", "amount"),
    [
        ("en", "1,234.5 USDT"),
        ("es", "1.234,5 USDT"),
        ("es-MX", "1,234.5 USDT"),
        ("zh", "1,234.5 USDT"),
    ],
)
def test_amounts_are_written_the_way_the_claimants_locale_writes_numbers(
    language: str, amount: str
):
    notice = render("decision", language, outcome="refund", ref="r", amount=PAID, reason="ok")
    assert amount in notice.body


def test_a_large_spanish_amount_groups_thousands_with_dots():
    big = Money.parse("1234567.25", asset="USDC", decimals=6)
    notice = render("decision", "es", outcome="refund", ref="r", amount=big, reason="ok")
    assert "1.234.567,25 USDC" in notice.body


def test_an_amount_keeps_every_decimal_it_has():
    tiny = Money.parse("0.000000000000000001", asset="ETH", decimals=18)
    notice = render("decision", "en", outcome="refund", ref="r", amount=tiny, reason="ok")
    assert "0.000000000000000001 ETH" in notice.body


def test_times_are_shown_in_the_claimants_time_zone_and_locale():
    values = {"ref": "r", "what": "a receipt", "reply_by": WHEN}
    assert "Nov 21, 2026, 9:30:00\u202fAM" in render("evidence_request", "en", **values).body
    tokyo = render("evidence_request", "zh", timezone="Asia/Shanghai", **values)
    assert "2026年11月21日 17:30:00" in tokyo.body
    mexico = render("evidence_request", "es-MX", timezone="America/Mexico_City", **values)
    assert "21 nov 2026, 3:30:00\u202fa.m." in mexico.body


def test_a_refund_links_to_the_explorer_the_chain_registry_names():
    values = {"ref": "r", "amount": PAID, "sent_at": WHEN, "payout_hash": "0x" + "cd" * 32}
    base = render("refund_sent", "en", chain_id=8453, **values)
    assert base.body.endswith("See it on Base: https://basescan.org/tx/0x" + "cd" * 32)
    local = render("refund_sent", "zh", chain_id=31337, **values)
    assert "0x" + "cd" * 32 in local.body
    assert "http" not in local.body


def test_a_decision_names_its_outcome_and_reason():
    reject = render("decision", "en", outcome="reject", ref="r", reason="no error", appeal_by=WHEN)
    assert "Reason: no error" in reject.body
    assert reject.template == "decision.reject"
    with pytest.raises(InvalidInput) as refused:
        render("decision", "en", outcome="refund_twice", ref="r", amount=PAID, reason="x")
    assert refused.value.fields == ["values.outcome"]
    with pytest.raises(InvalidInput):
        render("decision", "en", ref="r", amount=PAID, reason="x")


@pytest.mark.parametrize(
    ("template", "values", "fields"),
    [
        ("reopened", {"ref": "r"}, ["values.reopened_at"]),
        ("reopened", {"ref": "r", "reopened_at": WHEN, "colour": "red"}, ["values.colour"]),
        ("reopened", {"ref": "r", "reopened_at": datetime(2026, 1, 1)}, ["values.reopened_at"]),
        ("reopened", {"ref": "r", "reopened_at": 1.5}, ["values.reopened_at"]),
        ("closed", {"ref": "r", "appeal_by": True}, ["values.appeal_by"]),
        ("closed", {"ref": "r", "appeal_by": WHEN, "outcome": "refund"}, ["values.outcome"]),
        ("goodbye", {"ref": "r"}, ["template"]),
        ("refund_sent", {**sample("refund_sent", None), "chain_id": "1"}, ["values.chain_id"]),
    ],
)
def test_a_notice_with_a_wrong_value_is_refused_with_the_field_named(
    template: str, values: dict[str, object], fields: list[str]
):
    with pytest.raises(InvalidInput) as refused:
        render(template, "en", **values)  # type: ignore[arg-type]
    assert refused.value.fields == fields


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(InvalidInput) as refused:
        render("satisfaction_request", "en", timezone="Mars/Olympus", ref="r")
    assert refused.value.fields == ["timezone"]


def test_a_recorded_notice_without_a_subject_gets_one_naming_the_dispute():
    assert generic_subject("zh-HK", ref="3f2a9c1e") == "關於您的爭議 3f2a9c1e"
    assert generic_subject("xx", ref="3f2a9c1e") == "About your dispute 3f2a9c1e"


def test_every_message_id_is_a_subject_body_or_the_refund_link():
    assert all(re.fullmatch(r"[a-z_.]+\.(subject|body|link)", m) for m in message_ids())


@given(tag=st.text(max_size=40))
def test_any_language_tag_gets_a_notice_from_some_catalog(tag: str):
    notice = render("satisfaction_request", tag, ref="r")
    assert notice.language in languages()
    assert "r" in notice.subject


@given(reason=st.text(min_size=1, max_size=300))
def test_the_reason_appears_in_the_decision_as_written(reason: str):
    notice = render("decision", "es", outcome="reject", ref="r", reason=reason, appeal_by=WHEN)
    assert f"Motivo: {reason}." in notice.body


@given(amount=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**12), places=6))
def test_an_amount_in_a_notice_reads_back_as_the_same_number(amount: Decimal):
    money = Money.parse(amount, asset="USDT", decimals=6)
    body = render("decision", "en", outcome="refund", ref="r", amount=money, reason="x").body
    shown = re.search(r"refund ([\d,.]+) USDT", body)
    assert shown is not None
    assert Decimal(shown.group(1).replace(",", "")) == amount
