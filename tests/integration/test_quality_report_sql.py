"""The quality report counted and ranked in the database equals the report computed from rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispute_engine.database import Database, timestamp
from dispute_engine.delivery.storage import open_database
from dispute_engine.domain.quality import GROUPINGS, QualityRow, quality_report
from projections.quality import QualityView
from tests.strategies import quality_rows


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database, factory = open_database(db_url)
    QualityView().create(database)
    yield database
    factory.close()


def fields_of(row: QualityRow) -> list[str]:
    return [str(getattr(row, f.name)) for f in fields(row)]


def micros(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else (end - start) // timedelta(microseconds=1)


def hold(db: Database, rows: list[QualityRow]) -> None:
    """Make the view hold exactly these rows."""
    table = db.table("quality_rows")
    with db.transaction() as cursor:
        db.execute(cursor, f"DELETE FROM {table}")
        db.executemany(
            cursor,
            f"INSERT INTO {table} (dispute_id, status, channel, language, investigator, reason, "
            "filed_at, first_response_at, resolved_at, rating, breaches, reopens, "
            "first_response_us, resolution_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    str(n),
                    "filed",
                    r.channel,
                    r.language,
                    r.investigator,
                    r.reason,
                    timestamp(r.filed_at),
                    timestamp(r.first_response_at),
                    timestamp(r.resolved_at),
                    r.rating,
                    r.breaches,
                    r.reopens,
                    micros(r.filed_at, r.first_response_at),
                    micros(r.filed_at, r.resolved_at),
                )
                for n, r in enumerate(rows)
            ],
        )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(quality_rows(), max_size=40), by=st.sampled_from([None, *GROUPINGS]))
def test_the_report_from_the_view_equals_the_report_from_its_rows(
    db: Database, rows: list[QualityRow], by: str | None
):
    hold(db, rows)
    assert QualityView.report(db, by=by) == quality_report(rows, by=by)  # type: ignore[arg-type]
    assert sorted(QualityView.rows(db), key=fields_of) == sorted(rows, key=fields_of)
