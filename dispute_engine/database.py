"""Where the engine stores things: one URL picks SQLite, PostgreSQL or memory.

``memory:`` is an SQLite database held in memory, private to one engine, so every kind of
storage runs the same SQL. The engine's own tables (evidence, payout instructions) live beside
the event store and use its connection pool.
"""

from __future__ import annotations

import fcntl
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit
from uuid import UUID

import psycopg

from dispute_engine.domain.errors import InvalidInput, StorageUnavailable

Kind = Literal["sqlite", "postgres"]
# A schema name is put into SQL quoted, so it must be a plain identifier.
SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def timestamp(moment: datetime | None) -> str | None:
    """A fixed-width UTC text that sorts like the time it stands for (on both databases)."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:  # most moments are in UTC already
        moment = moment.astimezone(UTC)
    # The ISO form without its "+00:00" is the same text as strftime's, made faster.
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


class Cursor(Protocol):
    """What both libraries' cursors offer: DB-API execute and fetch."""

    def execute(self, statement: Any, params: Any = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


class Datastore(Protocol):
    """What the eventsourcing SQLite and PostgreSQL datastores both offer."""

    def transaction(self, *, commit: bool) -> Any: ...


@dataclass(frozen=True)
class StorageUrl:
    """A parsed database URL and the eventsourcing environment that selects it."""

    kind: Kind
    env: dict[str, str]
    display: str

    @classmethod
    def parse(cls, url: str, *, pool_size: int = 5) -> StorageUrl:
        """Parse ``memory:``, ``sqlite:///path`` or ``postgresql://user@host:port/db``.

        ``?schema=NAME`` on a PostgreSQL URL keeps the tables in that schema.
        Raises InvalidInput for anything else.
        """
        if url in ("memory:", "memory://"):
            name = f"file:disputes-{uuid.uuid4().hex}?mode=memory&cache=shared"
            return cls("sqlite", _sqlite_env(name), "memory:")
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            path = unquote(parts.path)[1:] if parts.path.startswith("/") else ""
            if not path:
                raise InvalidInput.of("db", "an SQLite URL needs a path: sqlite:///disputes.db")
            return cls("sqlite", _sqlite_env(path), url)
        if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            query = parse_qs(parts.query)
            schema = query.get("schema", ["public"])[0]
            if not SCHEMA_NAME.fullmatch(schema):
                raise InvalidInput.of(
                    "db",
                    f"schema {schema!r} must be letters, digits and _ (at most 63), "
                    "not starting with a digit",
                )
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
                "POSTGRES_HOST": parts.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parts.port or 5432),
                "POSTGRES_USER": unquote(parts.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_SCHEMA": schema,
                "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
                "POSTGRES_POOL_SIZE": str(pool_size),
                "POSTGRES_MAX_OVERFLOW": str(pool_size),
                "POSTGRES_CONNECT_TIMEOUT": "10",
                "POSTGRES_LOCK_TIMEOUT": "10",
            }
            safe = parts._replace(netloc=parts.hostname or "").geturl() if parts.password else url
            return cls("postgres", env, safe)
        raise InvalidInput.of(
            "db",
            f"unsupported database URL {url!r}: use memory:, sqlite:///... or postgresql://...",
        )

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of the tables ("" on SQLite)."""
        return self.env.get("POSTGRES_SCHEMA", "")

    def connect(self) -> psycopg.Connection[Any]:
        """A plain PostgreSQL connection (for locks and schema set-up)."""
        e = self.env
        return psycopg.connect(
            dbname=e["POSTGRES_DBNAME"],
            host=e["POSTGRES_HOST"],
            port=e["POSTGRES_PORT"],
            user=e["POSTGRES_USER"],
            password=e["POSTGRES_PASSWORD"] or None,
            connect_timeout=10,
            autocommit=True,
        )

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite database's file (None in memory or on PostgreSQL)."""
        name = self.env.get("SQLITE_DBNAME", "")
        return None if not name or name.startswith("file:") else name

    def require_existing(self) -> None:
        """Refuse to go on when the SQLite file does not exist (opening would create it).

        Raises StorageUnavailable.
        """
        path = self.sqlite_path
        if path is not None and not os.path.isfile(path):
            raise StorageUnavailable(
                f"cannot use the database {self.display}: no such file "
                "(reading never creates a database)"
            )

    def for_reading(self) -> StorageUrl:
        """The URL a reader opens: an SQLite file it may not write is opened read-only
        (and, on a read-only file system, as immutable: SQLite cannot even keep its shared
        memory file there, and nothing can change the file), so reading needs no write right.
        """
        path = self.sqlite_path
        if path is None or os.access(path, os.W_OK):
            return self
        flags = "mode=ro"
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            flags += "&immutable=1"
        name = f"file:{quote(os.path.abspath(path))}?{flags}"
        return replace(self, env={**self.env, "SQLITE_DBNAME": name})

    @contextmanager
    def creation_lock(self, *, create: bool = True) -> Iterator[None]:
        """Serialise table creation across processes opening one new database.

        PostgreSQL's ``CREATE ... IF NOT EXISTS`` is not safe when run concurrently ("tuple
        concurrently updated"), so creators queue on an advisory lock. On SQLite, creators
        of a new file race on switching it to WAL and on the library's first tracking
        record, so they queue on an exclusive ``flock`` of the file itself, which SQLite's
        own (fcntl) locks do not see: a lock file beside the database (``<file>.lock``),
        never the database file itself, whose descriptor closing would drop the process's
        SQLite locks on it.
        """
        if self.kind != "postgres":
            with self._file_lock(create=create):
                yield
            return
        with self.connect() as conn:
            conn.execute(
                "SELECT pg_advisory_lock(hashtext(%s))", (f"dispute-engine:{self.schema}",)
            )
            if create:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            try:
                yield
            finally:
                conn.execute(
                    "SELECT pg_advisory_unlock(hashtext(%s))", (f"dispute-engine:{self.schema}",)
                )

    @contextmanager
    def writer_turn(self, key: str) -> Iterator[None]:
        """Take a turn among writers of one thing (a dispute) across processes.

        A session advisory lock on PostgreSQL; on SQLite, which has one writer at a time
        anyway, an exclusive ``flock`` of the lock file beside the database.
        """
        if self.kind != "postgres":
            with self._file_lock(create=True):
                yield
            return
        lock = f"dispute-engine:{self.schema}:{key}"
        with self.connect() as conn:  # closing the connection releases the lock
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
            yield

    @contextmanager
    def _file_lock(self, *, create: bool) -> Iterator[None]:
        """An exclusive ``flock`` of ``<file>.lock`` (made if missing, when ``create``).

        Never of the database file: closing any descriptor of it releases every fcntl lock
        the process holds on it, SQLite's own included, and another process may then take
        itself for the last user of the write-ahead log and checkpoint it away under a
        writer. A reader (not ``create``) finding no lock file goes on without it: it
        creates nothing, so there is nothing to queue for, and it leaves no file behind.
        """
        fd = self._open_lock_file(create=create)
        if fd is None:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _open_lock_file(self, *, create: bool) -> int | None:
        """The lock file's descriptor; None in memory, on PostgreSQL, or for a reader
        finding no lock file. Raises StorageUnavailable when a creator cannot make it."""
        path = self.sqlite_path
        if path is None:
            return None
        try:
            return os.open(f"{path}.lock", os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        except OSError as exc:
            if not create:
                return None
            raise StorageUnavailable(
                f"cannot use the database {self.display}: {exc.strerror}"
            ) from None


def _sqlite_env(name: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": name,
        # A writer waits this long for SQLite's one write lock: long enough for several
        # processes creating a new file's views on a busy host to take their turns.
        "SQLITE_LOCK_TIMEOUT": "30",
    }


class Database:
    """The engine's own tables, in the event store's database and transactions' style."""

    def __init__(self, datastore: Datastore, url: StorageUrl, *, creates: bool = True) -> None:
        self.datastore = datastore
        self.kind = url.kind
        self.schema = url.schema
        self.creates = creates

    def table(self, name: str) -> str:
        """The table's name, qualified by the schema on PostgreSQL."""
        return f'"{self.schema}".{name}' if self.kind == "postgres" else name

    @property
    def blob(self) -> str:
        """The column type of raw bytes."""
        return "BYTEA" if self.kind == "postgres" else "BLOB"

    def originator_key(self, aggregate_id: UUID) -> UUID | str:
        """An aggregate id as the events table stores it (hex text on SQLite)."""
        return aggregate_id.hex if self.kind == "sqlite" else aggregate_id

    @property
    def notification_id(self) -> str:
        """The events table's column that holds the global position of an event."""
        return "notification_id" if self.kind == "postgres" else "rowid"

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.kind == "postgres" else statement

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor in a transaction that commits when the block ends without error."""
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    def execute(self, cursor: Cursor, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement written with ``?`` placeholders, on either database."""
        cursor.execute(self._sql(statement), tuple(params))

    def executemany(self, cursor: Cursor, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many rows (pipelined on PostgreSQL)."""
        if rows:
            cast(Any, cursor).executemany(self._sql(statement), [tuple(r) for r in rows])

    def insert_rows(
        self, cursor: Cursor, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows into ``table`` (qualified): one COPY on PostgreSQL, which is
        several times faster than a statement per row; a statement per row on SQLite."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.kind != "postgres":
            marks = ", ".join("?" for _ in columns)
            self.executemany(cursor, f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with cast(Any, cursor).copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows (addressable by column name) of one query."""
        # One statement is a transaction of its own on either database's autocommit
        # connections: no BEGIN and ROLLBACK around it (round trips on PostgreSQL).
        if self.kind == "postgres":
            with cast(Any, self.datastore).get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(self._sql(statement), tuple(params))
                return list(cursor.fetchall())
        with (
            cast(Any, self.datastore).get_connection(commit=False) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(self._sql(statement), tuple(params))
            return list(cursor.fetchall())

    def has_table(self, name: str) -> bool:
        """Whether the table (unqualified) exists."""
        if self.kind == "postgres":
            rows = self.fetchall("SELECT to_regclass(?) IS NOT NULL AS found", [self.table(name)])
            return bool(rows[0]["found"])
        rows = self.fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
        )
        return bool(rows)

    def create(self, *statements: str) -> None:
        """Create tables and indexes (idempotent statements) in one transaction.

        A database opened without creating (``creates=False``) is left as it is.
        """
        if not self.creates:
            return
        with self.transaction() as cursor:
            for statement in statements:
                cursor.execute(statement)
