"""The library's SQLite and PostgreSQL recorders, sealing every event in its own transaction.

Each stored event gets an Ed25519 seal by the engine's current key over what the store keeps
(:func:`dispute_engine.seals.event_message`), written to ``event_seals`` in the transaction that
inserts the event: an event is stored sealed or not at all. A recorder without a signing key
stores events unsealed, and the audit reports each of them.

A save also writes the rows of ``claims_by_transaction`` its caller gives (``claims=``: chain
id, lower-case hash, dispute id and filing time of each filing saved), in the same transaction,
so the disputes on a transaction are one indexed read that never lags the filings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from dispute_engine.seals import KeyRing

SEALS = "event_seals"
CLAIMS = "claims_by_transaction"
ClaimRow = tuple[int, str, str, str]  # chain id, lower-case hash, dispute id, filing time
_CLAIM_COLUMNS = "(chain_id, tx_hash, dispute_id, filed_at)"
_CLAIM_ARRAYS = ("claim_chains", "claim_hashes", "claim_disputes", "claim_times")
# Filed on one transaction, by when: the primary key serves the lookup, in filing order.
_CLAIMS_TABLE = (
    "(chain_id BIGINT NOT NULL, tx_hash TEXT NOT NULL, dispute_id TEXT NOT NULL, "
    "filed_at TEXT NOT NULL, PRIMARY KEY (chain_id, tx_hash, filed_at, dispute_id))"
)
# A row indexed already (by the backfill of earlier filings) is left as it is.
CLAIM_INSERT = _CLAIM_COLUMNS + " VALUES ({marks}) ON CONFLICT DO NOTHING"
_UPSERT = (
    "(originator_id, originator_version, seal) VALUES ({marks}) "
    "ON CONFLICT (originator_id, originator_version) DO UPDATE SET seal = excluded.seal"
)


def seal_rows(ring: KeyRing | None, events: Sequence[StoredEvent]) -> list[tuple[Any, int, str]]:
    """One ``(originator_id, version, seal text)`` per event; none without a signing key."""
    if ring is None or ring.current is None:
        return []
    return [
        (
            e.originator_id,
            e.originator_version,
            ring.seal_event(
                UUID(str(e.originator_id)), e.originator_version, e.topic, e.state
            ).to_text(),
        )
        for e in events
    ]


class SealedSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite's application recorder, writing each event's seal with it."""

    ring: KeyRing | None = None

    def construct_create_table_statements(self) -> list[str]:
        """The events table and the seals table beside it."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SEALS} (originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, seal TEXT NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))",
            f"CREATE TABLE IF NOT EXISTS {CLAIMS} {_CLAIMS_TABLE}",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        rows = [(UUID(str(i)).hex, v, s) for i, v, s in seal_rows(self.ring, stored_events)]
        if rows:
            c.executemany(f"INSERT INTO {SEALS} " + _UPSERT.format(marks="?, ?, ?"), rows)
        claims: Sequence[ClaimRow] = kwargs.get("claims", ())
        if claims:
            c.executemany(f"INSERT INTO {CLAIMS} {CLAIM_INSERT.format(marks='?, ?, ?, ?')}", claims)
        return ids


class SealedPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL's application recorder, writing each event's seal with it."""

    ring: KeyRing | None = None

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{seals} (originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, seal text NOT NULL, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(schema=schema, seals=Identifier(SEALS))
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {schema}.{claims} ").format(
                schema=schema, claims=Identifier(CLAIMS)
            )
            + SQL(_CLAIMS_TABLE)
        )
        self.insert_seals_statement = SQL("INSERT INTO {schema}.{seals} ").format(
            schema=schema, seals=Identifier(SEALS)
        ) + SQL(_UPSERT.format(marks="%s, %s, %s"))
        self.insert_claims_statement = SQL("INSERT INTO {schema}.{claims} ").format(
            schema=schema, claims=Identifier(CLAIMS)
        ) + SQL(CLAIM_INSERT.format(marks="%s, %s, %s, %s"))
        # One function inserts a save's events, their seals and its filings' claim rows: it
        # takes the events table's EXCLUSIVE lock first (as the library does without its
        # functions, and its insert function does not), so saves commit in the order of their
        # notification ids and a view reading past an id never misses a smaller one committed
        # later; then the library's insert function (its NOTIFY), then the seals and the
        # claims. A failed insert (a stale version) undoes them all.
        self.pg_function_name_save = f"de_save_events_{self.datastore.originator_id_type}"
        id_type = Identifier(self.datastore.originator_id_type)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[], "
                "seal_ids {id_type}[], seal_versions bigint[], seals text[], "
                "claim_chains bigint[], claim_hashes text[], claim_disputes text[], "
                "claim_times text[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "RETURN QUERY SELECT * FROM {schema}.{insert_events}(events); "
                "IF cardinality(seals) > 0 THEN "
                "INSERT INTO {schema}.{seals} (originator_id, originator_version, seal) "
                "SELECT * FROM unnest(seal_ids, seal_versions, seals) "
                "ON CONFLICT (originator_id, originator_version) "
                "DO UPDATE SET seal = excluded.seal; "
                "END IF; "
                "IF cardinality(claim_chains) > 0 THEN "
                "INSERT INTO {schema}.{claims} {columns} "
                "SELECT * FROM unnest(claim_chains, claim_hashes, claim_disputes, claim_times) "
                "ON CONFLICT DO NOTHING; "
                "END IF; "
                "END; $BODY$"
            ).format(
                schema=schema,
                function=Identifier(self.pg_function_name_save),
                event=Identifier(self.stored_event_type_name),
                id_type=id_type,
                lock_timeout=self.datastore.lock_timeout,
                table=Identifier(self.events_table_name),
                insert_events=Identifier(self.pg_function_name_insert_events),
                seals=Identifier(SEALS),
                claims=Identifier(CLAIMS),
                columns=SQL(_CLAIM_COLUMNS),
            )
        )
        # The events go as typed arrays in binary, from which the server builds the library's
        # array of composite values, sparing psycopg that array's escaped text.
        self.save_events_statement = SQL(
            "SELECT * FROM {schema}.{function}(ARRAY("
            "SELECT ROW(i, v, t, s)::{schema}.{event} FROM unnest(%(ids)b::{id_type}[], "
            "%(versions)b::bigint[], %(topics)b::text[], %(states)b::bytea[]) "
            "WITH ORDINALITY AS e(i, v, t, s, n) ORDER BY n), "
            "%(seal_ids)b::{id_type}[], %(seal_versions)b::bigint[], %(seals)b::text[], "
            "%(claim_chains)b::bigint[], %(claim_hashes)b::text[], %(claim_disputes)b::text[], "
            "%(claim_times)b::text[])"
        ).format(
            schema=schema,
            function=Identifier(self.pg_function_name_save),
            event=Identifier(self.stored_event_type_name),
            id_type=id_type,
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert the events, their seals and the ``claims`` rows atomically; returns
        notification ids in order."""
        if not self.datastore.enable_db_functions:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids  # sealed by _insert_events
        rows = seal_rows(self.ring, stored_events)
        claims: Sequence[ClaimRow] = kwargs.get("claims", ())
        # One array per column of the claim rows (four empty arrays for none).
        columns = list(zip(*claims, strict=True)) or [()] * len(_CLAIM_ARRAYS)
        params: dict[str, list[Any]] = {
            "ids": [e.originator_id for e in stored_events],
            "versions": [e.originator_version for e in stored_events],
            "topics": [e.topic for e in stored_events],
            "states": [e.state for e in stored_events],
            "seal_ids": [originator for originator, _, _ in rows],
            "seal_versions": [version for _, version, _ in rows],
            "seals": [seal for _, _, seal in rows],
            **{name: list(c) for name, c in zip(_CLAIM_ARRAYS, columns, strict=True)},
        }
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.save_events_statement, params, prepare=True)
            return [int(r[self.pg_function_name_save]) for r in curs.fetchall()]

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        rows = seal_rows(self.ring, stored_events)
        if rows:
            curs.executemany(self.insert_seals_statement, rows)
        claims: Sequence[ClaimRow] = kwargs.get("claims", ())
        if claims:
            curs.executemany(self.insert_claims_statement, claims)


def sealing(recorder: ApplicationRecorder, ring: KeyRing) -> None:
    """Give a sealed recorder its key ring (an in-memory recorder seals nothing)."""
    if isinstance(recorder, SealedSQLiteRecorder | SealedPostgresRecorder):
        recorder.ring = ring
