"""The report commands: how good the help was, from the quality view."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer

from dispute_engine.cli import render
from dispute_engine.cli.app import report_app
from dispute_engine.cli.session import Session
from dispute_engine.domain.quality import Durations, QualityFigures


class By(StrEnum):
    """What the quality report groups disputes by."""

    CHANNEL = "channel"
    LANGUAGE = "language"
    INVESTIGATOR = "investigator"
    REASON = "reason"


@report_app.command("quality")
def report_quality(
    ctx: typer.Context,
    by: Annotated[
        By | None, typer.Option(help="Group by channel, language, investigator or reason.")
    ] = None,
) -> None:
    """CSAT, first-response and resolution times (median, p90), breaches and reopen rate."""
    session = Session.of(ctx)
    with session.engine(create=False) as engine:
        report = engine.quality_report(by=None if by is None else by.value)
    session.emit(
        {name: _json(f) for name, f in report.items()},
        lambda: render.table(
            (
                by.value if by else "group",
                "disputes",
                "rated",
                "csat",
                "1st resp median",
                "1st resp p90",
                "resolution median",
                "resolution p90",
                "breaches",
                "breached",
                "reopened",
            ),
            [
                (
                    name,
                    f.disputes,
                    f.rated,
                    _share(f.csat),
                    _span(f.first_response.median),
                    _span(f.first_response.p90),
                    _span(f.resolution.median),
                    _span(f.resolution.p90),
                    f.breaches,
                    f.breached_disputes,
                    _share(f.reopen_rate),
                )
                for name, f in report.items()
            ],
        ),
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _span(value: timedelta | None) -> str:
    """A duration as ``1d 4h 05m`` (to the minute), or ``-``."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours}h {minutes:02d}m" if days else f"{hours}h {minutes:02d}m"


def _seconds(durations: Durations) -> dict[str, float | int | None]:
    def of(value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds()

    return {
        "count": durations.count,
        "median_seconds": of(durations.median),
        "p90_seconds": of(durations.p90),
    }


def _json(f: QualityFigures) -> dict[str, object]:
    return {
        "disputes": f.disputes,
        "rated": f.rated,
        "csat": f.csat,
        "first_response": _seconds(f.first_response),
        "resolution": _seconds(f.resolution),
        "breaches": f.breaches,
        "breached_disputes": f.breached_disputes,
        "reopen_rate": f.reopen_rate,
    }
