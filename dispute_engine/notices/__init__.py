"""Notices to claimants in their language: gettext catalogs and CLDR formatting."""

from dispute_engine.notices.catalog import (
    OUTCOMES,
    TEMPLATES,
    RenderedNotice,
    languages,
    render,
    resolve,
)

__all__ = ["OUTCOMES", "TEMPLATES", "RenderedNotice", "languages", "render", "resolve"]
