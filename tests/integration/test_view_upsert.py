"""Writing view rows: the one-statement upsert leaves the rows the row-by-row one does."""

from __future__ import annotations

from typing import Any

import pytest

from dispute_engine import DisputeEngine
from projections.view import upsert, upsert_all

ROWS: list[dict[str, Any]] = [
    {"k": "a", "n": 1, "big": 2**40, "note": 'it\'s "quoted", with \\ and é'},
    {"k": "b", "n": 2, "big": 0, "note": None},
]
AGAIN: list[dict[str, Any]] = [
    {"k": "b", "n": 3, "big": -(2**40), "note": "changed"},
    {"k": "c", "n": 4, "big": 5, "note": ""},
]


@pytest.mark.parametrize("write", [upsert, upsert_all])
def test_rows_are_inserted_then_updated_on_their_key(engine: DisputeEngine, write: Any):
    db = engine._core.db
    table = db.table("upsert_probe")
    db.create(
        f"CREATE TABLE IF NOT EXISTS {table} (k TEXT PRIMARY KEY, n INTEGER NOT NULL, "
        "big BIGINT NOT NULL, note TEXT)"
    )
    for rows in (ROWS, AGAIN, []):
        with db.transaction() as cursor:
            write(db, cursor, "upsert_probe", ["k"], rows)
    found = db.fetchall(f"SELECT k, n, big, note FROM {table} ORDER BY k")
    assert [dict(r) for r in found] == [ROWS[0], *AGAIN]
