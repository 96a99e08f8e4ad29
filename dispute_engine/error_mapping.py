"""Library, sqlite3, psycopg and web3 errors -> the engine's public errors, in one place.

Adapters (storage, read models, chain nodes, the outbox) run their library calls inside one
of these blocks; no other module catches a library's errors to translate them. Each public
error carries one line a user can act on, never the library's traceback.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import requests
from eventsourcing.persistence import IntegrityError, PersistenceError
from web3.exceptions import Web3Exception, Web3RPCError

from dispute_engine.domain.errors import (
    ChainUnavailable,
    ConcurrencyConflict,
    PayoutFailed,
    StorageUnavailable,
)
from dispute_engine.witness import WitnessUnavailable

if TYPE_CHECKING:
    from dispute_engine.database import StorageUrl

# Everything a database can do wrong, as seen through the event store's library and drivers.
STORAGE_FAULTS = (PersistenceError, psycopg.Error, sqlite3.Error)
# Everything a node can do wrong, as seen through web3 and requests.
NODE_FAULTS = (requests.RequestException, OSError, ValueError, TypeError, KeyError, Web3Exception)
ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def first_line(exc: BaseException) -> str:
    """The first line of an error's text, or its type's name when it has none."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def storage_errors(where: StorageUrl | str) -> Iterator[None]:
    """Turn a database (or the audit log's witness) that cannot be opened, reached or written
    into StorageUnavailable.

    ``where`` is the storage (named by its display URL) or a phrase naming what is stored.
    The cause (full disk, read-only file, not a database, missing rights) is its one line.
    A uniqueness clash nobody else handled is a ConcurrencyConflict.
    """
    try:
        yield
    except IntegrityError:
        raise ConcurrencyConflict("another writer changed the database first; retry") from None
    except WitnessUnavailable as exc:  # the checkpoint's batch was undone with it
        raise StorageUnavailable(f"cannot write the audit log's witness: {exc}") from None
    except STORAGE_FAULTS as exc:
        place = where if isinstance(where, str) else f"the database {where.display}"
        raise StorageUnavailable(f"cannot use {place}: {first_line(exc)}") from None


@contextmanager
def save_conflicts(dispute_id: UUID) -> Iterator[None]:
    """A save refused by the store's version check is a ConcurrencyConflict on the dispute."""
    try:
        yield
    except IntegrityError:
        raise ConcurrencyConflict(
            f"dispute {dispute_id} was changed by someone else; reload and retry",
            dispute_id=dispute_id,
        ) from None


@contextmanager
def node_errors(chain_id: int, url: str, label: str, timeout: float) -> Iterator[None]:
    """Every fault of the node at ``url`` raised as ChainUnavailable naming chain and node.

    ``label`` is the URL without secrets; the text of the fault is scrubbed of them too.
    """
    try:
        yield
    except ChainUnavailable:
        raise
    except NODE_FAULTS as exc:
        raise ChainUnavailable(
            f"chain {chain_id} node at {label} {describe_node_fault(exc, url, timeout)}",
            chain_id=chain_id,
        ) from None


@contextmanager
def payout_refusals(key: str, already_sent: Callable[[], bool]) -> Iterator[None]:
    """A node refusing a payout's transfer is PayoutFailed, unless the transfer is known anyway.

    Another process may have broadcast the same signed transfer meanwhile; the node then
    refuses ours ("nonce too low", "already known"), and nothing failed.
    """
    try:
        yield
    except Web3RPCError as exc:
        if not already_sent():
            raise PayoutFailed(f"the node refused payout {key}: {exc}") from None


def describe_node_fault(exc: BaseException, url: str, timeout: float) -> str:
    """What went wrong with a node, in a user's words (not the HTTP library's)."""
    if isinstance(exc, requests.Timeout):
        return f"did not answer within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        reason = ERRNO_TEXT.search(str(exc))
        return f"cannot be reached ({reason.group(1) if reason else 'connection failed'})"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"answered HTTP {exc.response.status_code}"
    if isinstance(exc, Web3RPCError):
        return f"refused the request: {scrub(str(exc), url)[:200]}"
    if isinstance(exc, ValueError | TypeError | KeyError):
        return "answered something that is not a valid JSON-RPC reply"
    return f"failed ({type(exc).__name__})"


def scrub(text: str, url: str) -> str:
    """The text without the node URL's path and query, where API keys live."""
    parts = urlsplit(url)
    for secret in (url, parts.path + ("?" + parts.query if parts.query else "")):
        if secret.strip("/"):
            text = text.replace(secret, "/…")
    return text
