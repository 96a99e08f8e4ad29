"""Notices reach the claimant in their language, English where there is no text in it."""

from __future__ import annotations

from dispute_engine.domain.notice import render


def test_a_notice_is_written_in_the_claimants_language():
    assert render("received", "zh", ref="D-1") == "我们已收到您的争议 D-1,正在处理中。"
    assert render("received", "es", ref="D-1") == (
        "Hemos recibido su disputa D-1 y la estamos revisando."
    )


def test_a_language_without_a_text_gets_the_english_notice():
    assert render("received", "de", ref="D-1") == (
        "We have received your dispute D-1 and are looking into it."
    )
