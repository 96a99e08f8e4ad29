"""The audit: every seal, the Merkle log rebuilt from its leaves, checkpoints, the witness,
evidence bytes and decision signatures, checked against each other in one pass each.

It never deletes, rebuilds or rewrites anything; the only write it makes is bringing the log
up to date with genuinely sealed events, and with rights only to read it reports them instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import OriginatorVersionError

from dispute_engine.decision_signatures import SignatureFinding
from dispute_engine.domain.errors import ConcurrencyConflict, CorruptHistory, StorageUnavailable
from dispute_engine.engine_core import EngineCore
from dispute_engine.evidence_store import EVIDENCE
from dispute_engine.log_store import LEAVES, LOG_TABLES, LOG_VERSION, LogStore
from dispute_engine.merkle import MerkleTree, leaf_hash
from dispute_engine.sealed_recorders import SEALS
from dispute_engine.seals import InvalidSeal, KeyRing, Seal, event_message
from dispute_engine.witness import WitnessUnavailable, read_witness, witness_problems

Progress = Callable[[int, int], None]  # (done, total) events checked
_PAGE = 10_000
_CATCH_UP_ATTEMPTS = 5
_NO_SEAL = "has no seal: stored without the engine's key (forged), never logged"


@dataclass(frozen=True)
class AuditProblem:
    """One thing that does not hold, named: which event, leaf, checkpoint, line or blob."""

    subject: str
    problem: str
    dispute_id: UUID | None = None
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"


@dataclass(frozen=True)
class AuditReport:
    """What ``audit verify`` checked and every problem it found."""

    events: int  # stored events
    logged: int  # leaves of the log
    appended: int  # sealed events this audit appended to the log first
    checkpoints: int
    witnessed: int  # witness lines checked
    blobs: int  # evidence blobs re-hashed
    read_only: bool  # the log could not be brought up to date (no right to write)
    problems: tuple[AuditProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Every stored event is sealed and logged, and everything else holds."""
        return not self.problems and self.events == self.logged


def _event_subject(dispute_id: UUID, version: int) -> str:
    return f"dispute {dispute_id} v{version}"


@dataclass(frozen=True)
class _Entry:
    """One stored event as read: what its seal covers, and its seal or what is wrong with it."""

    key: tuple[UUID, int]
    message: bytes
    seal: Seal | None
    problem: str


def _entry(row: Any, known: Mapping[str, bytes], no_seal: str = _NO_SEAL) -> _Entry:
    oid = row["originator_id"]
    key = (oid if isinstance(oid, UUID) else UUID(oid), int(row["originator_version"]))
    message = event_message(*key, str(row["topic"]), bytes(row["state"]))
    text = row["seal"]
    if text is None:
        return _Entry(key, message, None, no_seal)
    try:
        seal = Seal.from_text(text)
    except InvalidSeal as error:
        return _Entry(key, message, None, f"its seal does not read: {error}")
    if seal.key_id not in known:
        return _Entry(key, message, None, f"is sealed by unknown key {seal.key_id}")
    return _Entry(key, message, seal, "")


class LogVerifier:
    """Runs one audit of an engine's store (see the module's docstring)."""

    def __init__(
        self,
        core: EngineCore,
        ring: KeyRing,
        decision_signatures: Callable[[], list[SignatureFinding]],
    ) -> None:
        self._core = core
        self._ring = ring
        self._decision_signatures = decision_signatures
        self._problems: list[AuditProblem] = []
        self._named: set[tuple[UUID, int]] = set()

    def _problem(self, subject: str, problem: str, key: tuple[UUID, int] | None = None) -> None:
        dispute_id, version = key if key is not None else (None, None)
        self._problems.append(AuditProblem(subject, problem, dispute_id, version))
        if key is not None:
            self._named.add(key)

    def run(self, witness: Path | None, progress: Progress | None) -> AuditReport:
        """The whole audit. Raises StorageUnavailable when the store cannot be read at all."""
        missing = self._missing_tables()
        seals_kept = SEALS not in missing  # without, every event is named as unsealed
        log_kept = missing.isdisjoint(LOG_TABLES)
        appended, read_only = 0, False
        if log_kept and seals_kept:
            self._check_position()
            appended, read_only = self._catch_up()
        store = LogStore(self._core.db)
        self._check_version()
        with self._core.storage_boundary():
            total = self._count_events()
            sealed = self._events(total, progress, seals_kept)
            checkpoints = store.checkpoints() if log_kept else []
            # With no log to read, every sealed event is named as not logged.
            tree = self._leaves(store.leaf_hashes() if log_kept else [], sealed)
            if log_kept:
                self._nodes(store, tree)
        self._checkpoints(checkpoints, tree)
        witnessed = self._witness(witness, checkpoints, tree)
        with self._core.storage_boundary():
            blobs = 0 if EVIDENCE in missing else self._evidence()
        for finding in self._signature_findings():
            self._problem(
                _event_subject(finding.dispute_id, finding.version),
                f"{finding.event} by {finding.actor}: {finding.problem}",
                (finding.dispute_id, finding.version),
            )
        return AuditReport(
            total,
            tree.size,
            appended,
            len(checkpoints),
            witnessed,
            blobs,
            read_only,
            tuple(self._problems),
        )

    def _missing_tables(self) -> set[str]:
        """The tables the audit reads that are not there (dropped), each named as a problem."""
        db = self._core.db
        with self._core.storage_boundary():
            missing = {t for t in (*LOG_TABLES, SEALS, EVIDENCE) if not db.has_table(t)}
        if log := [t for t in LOG_TABLES if t in missing]:
            self._problem(
                "audit log",
                f"its tables {', '.join(log)} are missing: deleted outside the engine, "
                "or never built",
            )
        for table, subject in ((SEALS, "event seals"), (EVIDENCE, "evidence")):
            if table in missing:
                self._problem(subject, f"the table {table} is missing: deleted outside the engine")
        return missing

    def _signature_findings(self) -> list[SignatureFinding]:
        try:
            return self._decision_signatures()
        except CorruptHistory as error:  # an unreadable event, already named by its seal
            self._problem("decision signatures", f"not all could be checked: {error}")
        except OriginatorVersionError:  # a missing event, already named by its leaf
            self._problem("decision signatures", "not all could be checked: an event is missing")
        return []

    def _catch_up(self) -> tuple[int, bool]:
        """Append sealed events not logged yet; with no right to write, report them instead.

        Another process appending at the same moment makes a turn clash: try again, so what
        is checked afterwards is the log with every sealed event in it.
        """
        for attempt in range(_CATCH_UP_ATTEMPTS):
            try:
                return self._core.projections.catch_up(["audit_log"])["audit_log"], False
            except StorageUnavailable:
                return 0, True
            except ConcurrencyConflict:
                if attempt + 1 == _CATCH_UP_ATTEMPTS:
                    self._problem("audit log", "other writers kept appending; try again")
            except (LookupError, ValueError, CorruptHistory) as error:
                self._problem("audit log", f"cannot be brought up to date: {error}")
                break
        return 0, False

    def _check_position(self) -> None:
        """The log's tracked position never moves back: a reset is named (and harmless, as
        each event is logged once).

        The leaves are read before the position: both move forward in one transaction, so a
        writer appending in between can only put the position further ahead, never behind.
        """
        try:
            with self._core.storage_boundary():
                rows = self._core.db.fetchall(
                    f"SELECT MAX(notification_id) AS n FROM {self._core.db.table(LEAVES)}"
                )
            position = self._core.projections.position("audit_log")
        except StorageUnavailable:
            return  # never built: named by the version check
        last = rows[0]["n"]
        if last is not None and position < int(last):
            self._problem(
                "audit log",
                f"its tracked position was moved back to {position}, behind its last leaf "
                f"(position {last}): reset outside the engine",
            )

    def _check_version(self) -> None:
        try:
            with self._core.storage_boundary():
                rows = self._core.db.fetchall(
                    f"SELECT version FROM {self._core.db.table('projection_versions')} "
                    "WHERE name = ?",
                    ["audit_log"],
                )
        except StorageUnavailable:  # no view was ever built in this store
            rows = []
        if not rows:
            self._problem("audit log", "was never built (run `dispute-engine projections run`)")
        elif int(rows[0]["version"]) != LOG_VERSION:
            self._problem(
                "audit log",
                f"is recorded as version {rows[0]['version']}, this release writes "
                f"{LOG_VERSION}: changed outside the engine",
            )

    def _count_events(self) -> int:
        rows = self._core.db.fetchall(f"SELECT COUNT(*) AS n FROM {self._core.events_table}")
        return int(rows[0]["n"])

    def _stored(self, seals_kept: bool) -> Iterator[list[Any]]:
        """Every stored event with its seal (if any), in notification order, a page a time."""
        db = self._core.db
        nid = f"e.{db.notification_id}"
        seal, seals = "NULL", ""
        if seals_kept:
            seal = "s.seal"
            seals = (
                f"LEFT JOIN {db.table(SEALS)} s ON s.originator_id = e.originator_id "
                "AND s.originator_version = e.originator_version"
            )
        last = 0
        while True:
            rows = db.fetchall(
                f"SELECT {nid} AS nid, e.originator_id, e.originator_version, e.topic, "
                f"e.state, {seal} AS seal FROM {self._core.events_table} e {seals} "
                f"WHERE {nid} > ? ORDER BY {nid} LIMIT {_PAGE}",
                [last],
            )
            yield rows
            if len(rows) < _PAGE:
                return
            last = int(rows[-1]["nid"])

    def _events(
        self, total: int, progress: Progress | None, seals_kept: bool
    ) -> dict[tuple[str, int], bytes]:
        """Check every seal (none without the seals' table); returns the leaf hash of each
        event whose seal holds, by dispute id (text) and version. A page's seals are checked
        while the next is read."""
        known = self._ring.public_keys()
        no_seal = _NO_SEAL if seals_kept else "has no seal: the seals' table was deleted"
        sealed: dict[tuple[str, int], bytes] = {}
        done = 0
        waiting: tuple[list[_Entry], Future[list[bool]]] | None = None
        with ThreadPoolExecutor(1) as checker:
            for rows in chain(self._stored(seals_kept), [None]):
                submitted = None
                if rows is not None:
                    page = [_entry(row, known, no_seal) for row in rows]
                    checks = [(e.seal.key_id, e.seal.signature, e.message) for e in page if e.seal]
                    submitted = (page, checker.submit(self._ring.verify_all, checks))
                if waiting is not None:
                    done += self._settle(*waiting, sealed)
                    if progress is not None:
                        progress(done, total)
                waiting = submitted
        return sealed

    def _settle(
        self,
        page: list[_Entry],
        checked: Future[list[bool]],
        sealed: dict[tuple[str, int], bytes],
    ) -> int:
        """Record a page's events, in order: each leaf hash whose seal holds, or its problem."""
        holds = iter(checked.result())
        for entry in page:
            key = entry.key
            if entry.seal is None:
                self._problem(_event_subject(*key), entry.problem, key)
            elif next(holds):
                sealed[str(key[0]), key[1]] = leaf_hash(entry.message)
            else:
                self._problem(
                    _event_subject(*key),
                    "its seal does not verify: altered, moved or forged since it was stored",
                    key,
                )
        return len(page)

    def _leaves(
        self, leaves: Iterable[tuple[int, str, int, bytes]], sealed: dict[tuple[str, int], bytes]
    ) -> MerkleTree:
        """Rebuild the tree from the log's leaves; compare each leaf with the store."""
        tree = MerkleTree()
        seen: set[tuple[str, int]] = set()
        for index, dispute_id, version, digest in leaves:
            leaf = bytes(digest)
            if index != tree.size:
                self._problem(f"leaf {index}", f"leaf indices skip from {tree.size}")
            tree.append(leaf)
            seen.add((dispute_id, version))
            expected = sealed.get((dispute_id, version))
            if expected == leaf:
                continue
            key = (UUID(dispute_id), version)
            if expected is not None:
                self._problem(
                    _event_subject(*key), f"differs from what leaf {index} of the log holds", key
                )
            elif key not in self._named:  # a bad seal is named already
                self._problem(
                    _event_subject(*key),
                    f"logged as leaf {index}, missing from the event store (deleted)",
                    key,
                )
        for dispute_id, version in sorted(sealed.keys() - seen):
            key = (UUID(dispute_id), version)
            self._problem(_event_subject(*key), "is sealed but not in the audit log yet", key)
        return tree

    def _nodes(self, store: LogStore, tree: MerkleTree) -> None:
        stored = 0
        for node in store.nodes():
            stored += 1
            try:
                expected = tree.node(node.level, node.index)
            except LookupError:
                expected = None
            if expected != node.hash:
                self._problem(
                    f"log node ({node.level}, {node.index})",
                    "does not match the tree rebuilt from the log's leaves",
                )
        complete = sum((tree.size >> level) for level in range(tree.size.bit_length()))
        if stored < complete:
            self._problem("audit log", f"holds {stored} of the tree's {complete} nodes")

    def _checkpoints(self, checkpoints: list[Any], tree: MerkleTree) -> None:
        for checkpoint in checkpoints:
            subject = f"checkpoint of size {checkpoint.tree_size}"
            try:
                checkpoint.verify(self._ring)
            except InvalidSeal as error:
                self._problem(subject, f"its signature does not hold: {error}")
                continue
            if checkpoint.tree_size > tree.size:
                self._problem(subject, f"is larger than the log ({tree.size} leaves)")
            elif tree.root(checkpoint.tree_size) != checkpoint.root:
                self._problem(subject, "its root is not the root of the log's first leaves")

    def _witness(self, folder: Path | None, checkpoints: list[Any], tree: MerkleTree) -> int:
        if folder is None:
            return 0
        try:
            record = read_witness(folder)
        except WitnessUnavailable as error:
            self._problem("witness", str(error))
            return 0
        for line, problem in witness_problems(record, tree, tree.size, self._ring):
            self._problem(f"witness line {line}", problem)
        stored = {(c.tree_size, c.root) for c in checkpoints}
        for line, checkpoint in record.checkpoints:
            if (checkpoint.tree_size, checkpoint.root) not in stored:
                self._problem(
                    f"witness line {line}",
                    f"the checkpoint of size {checkpoint.tree_size} is missing from the database",
                )
        return len(record.checkpoints) + len(record.problems)

    def _evidence(self) -> int:
        db = self._core.db
        table = db.table(EVIDENCE)
        count, last = 0, ""
        while True:
            rows = db.fetchall(
                f"SELECT sha256, size, content FROM {table} WHERE sha256 > ? "
                "ORDER BY sha256 LIMIT 100",
                [last],
            )
            for row in rows:
                content = bytes(row["content"])
                if hashlib.sha256(content).hexdigest() != row["sha256"]:
                    self._problem(
                        f"evidence {row['sha256']}", "its bytes no longer have this sha256"
                    )
                elif len(content) != int(row["size"]):
                    self._problem(f"evidence {row['sha256']}", "its recorded size is wrong")
            count += len(rows)
            if len(rows) < 100:
                return count
            last = str(rows[-1]["sha256"])
