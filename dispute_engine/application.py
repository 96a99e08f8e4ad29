"""DisputeEngine: the public Python API over the event-sourced Dispute aggregate."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from pydantic_core import to_jsonable_python

from dispute_engine.commands import (
    AddEvidence,
    FileDispute,
    Name,
    ProposeDecision,
    Reason,
)
from dispute_engine.database import Database, StorageUrl, storage_errors
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.chain_facts import ChainFacts
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ChainUnavailable,
    ConcurrencyConflict,
    DisputeEngineError,
    DisputeNotFound,
    IdempotencyKeyReused,
    InvalidInput,
)
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.sla_policy import SlaAlert
from dispute_engine.evidence_store import SqlEvidenceStore
from dispute_engine.hash_chain import chain_hash
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.ports import (
    Clock,
    EvidenceStore,
    PayoutGateway,
    PayoutInstruction,
    TransactionLookup,
)
from dispute_engine.settings import Settings
from dispute_engine.views import ChainFactsView, DisputeView, HistoryEntry, SlaAlertView

if TYPE_CHECKING:
    from projections.audit_log import Discrepancy
    from projections.runner import ProjectionRunner
    from projections.sla import ReportRow

T = TypeVar("T")
SLA_CHECKER = Actor(id="sla-checker", roles={Role.SYSTEM})
ALERT_BATCH = 200  # disputes whose alerts are saved in one transaction
_EVENT_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class DisputeEngine(Application[UUID]):
    """Files, investigates, decides and closes disputes; every change is an event."""

    name = "disputes"

    def __init__(
        self,
        storage: StorageUrl,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        payout_gateway: PayoutGateway | Callable[[Database], PayoutGateway] | None = None,
        transaction_lookup: TransactionLookup | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.storage = storage
        self.clock: Clock = clock or system_clock
        self.transaction_lookup = transaction_lookup
        self._projections: ProjectionRunner | None = None
        self._projections_lock = threading.Lock()
        with storage_errors(storage), storage.creation_lock():
            super().__init__(env={**storage.env, "CREATE_TABLE": "y"})
            self.db = Database(cast(Any, self.factory).datastore, storage)
            self.evidence_store: EvidenceStore = SqlEvidenceStore(self.db)
            if payout_gateway is None:
                payout_gateway = PayoutLedger
            self.payout_gateway: PayoutGateway = (
                payout_gateway(self.db) if callable(payout_gateway) else payout_gateway
            )

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        chains: dict[int, str] | None = None,
        clock: Clock | None = None,
        settings: Settings | None = None,
        payout_gateway: PayoutGateway | Callable[[Database], PayoutGateway] | None = None,
    ) -> DisputeEngine:
        """Open the engine on ``memory:``, ``sqlite:///path`` or ``postgresql://...``.

        ``None`` takes the URL from settings (``DISPUTE_ENGINE_DB``), else
        ``sqlite:///./disputes.db``. Tables are created on first use.
        Raises InvalidInput for an unsupported URL.
        """
        settings = settings or Settings()
        if chains is not None:
            settings = settings.model_copy(update={"chains": chains})
        storage = StorageUrl.parse(url or settings.db, pool_size=settings.postgres_pool_size)
        lookup = None
        if settings.chains:
            # The composition root: the only place the application names its chain adapters.
            from chain.lookup import Web3TransactionLookup  # noqa: PLC0415
            from chain.payout import Web3PayoutGateway  # noqa: PLC0415

            lookup = Web3TransactionLookup(
                settings.chains, timeout=settings.chain_timeout_seconds, clock=clock
            )
            key = settings.hot_wallet_key
            if payout_gateway is None and key is not None:
                nodes = lookup

                def payout_gateway(db: Database) -> PayoutGateway:
                    return Web3PayoutGateway(db, nodes, key)

        return cls(
            storage,
            settings=settings,
            clock=clock,
            payout_gateway=payout_gateway,
            transaction_lookup=lookup,
        )

    def now(self) -> datetime:
        """The engine's "now", from its clock. Raises InvalidInput for a naive clock."""
        now = self.clock()
        if now.tzinfo is None:
            raise InvalidInput.of("clock", "the clock must return a timezone-aware datetime")
        return now.astimezone(UTC)

    # -- loading and saving -----------------------------------------------------

    def _get(self, dispute_id: UUID, version: int | None = None) -> Dispute:
        try:
            dispute: object = self.repository.get(dispute_id, version=version)
        except AggregateNotFoundError:
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id) from None
        if not isinstance(dispute, Dispute):
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id)
        return dispute

    def _save(self, dispute: Dispute) -> None:
        try:
            self.save(dispute)
        except IntegrityError:
            raise ConcurrencyConflict(
                f"dispute {dispute.id} was changed by someone else; reload and retry",
                dispute_id=dispute.id,
            ) from None

    def _command(
        self, dispute_id: UUID, apply: Callable[[Dispute], T], *, retry: bool = False
    ) -> T:
        """Load, apply the command, save; optionally retry on a conflict.

        Retrying is for commands whose precondition still holds on the fresh state (adding
        evidence or a note), so concurrent investigators both succeed.
        """
        attempts = 1 + (self.settings.conflict_retries if retry else 0)
        for attempt in range(attempts):
            dispute = self._get(dispute_id)
            result = apply(dispute)
            try:
                self._save(dispute)
            except ConcurrencyConflict:
                if attempt + 1 == attempts:
                    raise
                # Jittered backoff, so writers that collided do not collide again in step.
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    # -- filing -------------------------------------------------------------------

    def file_dispute(self, command: FileDispute, *, by: Actor) -> UUID:
        """File a dispute; the same idempotency key returns the same id and writes nothing.

        Raises InvalidInput, IdempotencyKeyReused (same key, different claim), NotAuthorized.
        """
        claim = command.claim
        if claim.jurisdiction is None:
            claim = claim.model_copy(update={"jurisdiction": self.settings.default_jurisdiction})
        dispute = Dispute.file(
            claim, idempotency_key=command.idempotency_key, by=by, now=self.now()
        )
        try:
            self._save(dispute)  # most filings are new: try first, look only on a clash
            return dispute.id
        except ConcurrencyConflict:
            existing = self._get(dispute.id)
        if existing.fingerprint != dispute.fingerprint:
            raise IdempotencyKeyReused(
                [
                    {
                        "field": "idempotency_key",
                        "message": f"already used for dispute {existing.id} with another claim",
                    }
                ],
                dispute_id=existing.id,
            )
        return existing.id

    # -- investigation ------------------------------------------------------------

    def assign(self, dispute_id: UUID, *, investigator: str, by: Actor) -> None:
        """Give the dispute to an investigator."""
        name = Name(text=investigator).text
        self._command(dispute_id, lambda d: d.assign(name, by=by, now=self.now()))

    def verify_identity(self, dispute_id: UUID, *, method: str, by: Actor) -> None:
        """Record that the claimant's identity was checked, and how."""
        name = Name(text=method).text
        self._command(dispute_id, lambda d: d.verify_identity(name, by=by, now=self.now()))

    def request_evidence(self, dispute_id: UUID, *, what: str, by: Actor) -> None:
        """Ask the claimant for evidence; SLA clocks pause until they answer."""
        text = Reason(text=what).text
        self._command(dispute_id, lambda d: d.request_evidence(text, by=by, now=self.now()))

    def add_evidence(self, dispute_id: UUID, evidence: AddEvidence, *, by: Actor) -> str:
        """Store the evidence bytes (once per content) and attach them; returns the sha256.

        Raises InvalidInput (too large, unknown media type), InvalidTransition, NotAuthorized.
        """
        if len(evidence.content) > self.settings.max_evidence_bytes:
            raise InvalidInput.of(
                "content", f"evidence is limited to {self.settings.max_evidence_bytes} bytes"
            )
        self._get(dispute_id).require_evidence_allowed(evidence.source, by=by)
        sha256 = self.evidence_store.put(evidence.content)
        self._command(
            dispute_id,
            lambda d: d.add_evidence(
                sha256=sha256,
                size=len(evidence.content),
                media_type=evidence.media_type,
                filename=evidence.filename,
                kind=evidence.kind,
                source=evidence.source,
                by=by,
                now=self.now(),
            ),
            retry=True,
        )
        return sha256

    def evidence_content(self, sha256: str) -> bytes:
        """The bytes of a piece of evidence. Raises KeyError when unknown."""
        return self.evidence_store.get(sha256)

    def add_note(self, dispute_id: UUID, text: str, *, by: Actor) -> None:
        """Keep an internal note; concurrent notes all land."""
        note = Reason(text=text).text
        self._command(dispute_id, lambda d: d.add_note(note, by=by, now=self.now()), retry=True)

    # -- the chain ------------------------------------------------------------------

    def _lookup(self) -> TransactionLookup:
        if self.transaction_lookup is None:
            raise ChainUnavailable("no chain nodes are configured: pass chains= to open()")
        return self.transaction_lookup

    def _record_facts(self, dispute_id: UUID, facts: ChainFacts, by: Actor) -> ChainFactsView:
        def record(dispute: Dispute) -> ChainFactsView:
            dispute.record_chain_facts(
                facts, by=by, now=self.now(), time_tolerance=self.settings.time_tolerance
            )
            view = DisputeView.of(dispute).chain_facts
            assert view is not None
            return view

        return self._command(dispute_id, record, retry=True)

    def look_up_transaction(self, dispute_id: UUID, *, by: Actor) -> ChainFactsView:
        """Ask the chain what the disputed transaction did; record the facts and mismatches.

        Raises ChainUnavailable (nothing recorded; retry later), ChainNotConfigured,
        InvalidTransition, NotAuthorized.
        """
        dispute = self._get(dispute_id)
        dispute.require_lookup_allowed(by=by)
        tx = dispute.claim.transaction
        return self._record_facts(dispute_id, self._lookup().look_up(tx.chain_id, tx.tx_hash), by)

    def look_up_many(
        self, dispute_ids: Sequence[UUID], *, by: Actor
    ) -> list[ChainFactsView | DisputeEngineError]:
        """Look up a queue of disputes in JSON-RPC batches; each entry is its view or error."""
        disputes: list[Dispute | DisputeEngineError] = []
        for dispute_id in dispute_ids:
            try:
                dispute = self._get(dispute_id)
                dispute.require_lookup_allowed(by=by)
                disputes.append(dispute)
            except DisputeEngineError as exc:
                disputes.append(exc)
        wanted = [d for d in disputes if isinstance(d, Dispute)]
        found = (
            []
            if not wanted
            else self._lookup().look_up_many(
                [(d.claim.transaction.chain_id, d.claim.transaction.tx_hash) for d in wanted]
            )
        )
        by_id = {d.id: f for d, f in zip(wanted, found, strict=True)}
        results: list[ChainFactsView | DisputeEngineError] = []
        for item in disputes:
            if isinstance(item, DisputeEngineError):
                results.append(item)
                continue
            facts = by_id[item.id]
            try:
                if isinstance(facts, DisputeEngineError):
                    raise facts
                results.append(self._record_facts(item.id, facts, by))
            except DisputeEngineError as exc:
                results.append(exc)
        return results

    def recheck_unfinalized(self, *, by: Actor) -> list[UUID]:
        """Look again at disputes whose facts are not final; returns those whose facts changed.

        A reorg that changes or removes a transaction records new facts that supersede the
        old ones; the old ones stay in the history.
        """
        pending = [i for i in self._dispute_ids() if self._get(i).needs_recheck]
        before = {i: self._get(i).version for i in pending}
        for result in self.look_up_many(pending, by=by):
            if isinstance(result, ChainUnavailable):
                raise result
        return [i for i in pending if self._get(i).version != before[i]]

    # -- decision -----------------------------------------------------------------

    def propose_decision(self, dispute_id: UUID, decision: ProposeDecision, *, by: Actor) -> None:
        """Propose refund, partial refund, adjustment or rejection (which resolves at once)."""
        self._command(
            dispute_id,
            lambda d: d.propose_decision(
                decision.outcome, decision.amount, decision.rationale, by=by, now=self.now()
            ),
        )

    def approve_decision(self, dispute_id: UUID, *, by: Actor) -> None:
        """Approve the proposed decision; the approver must not be its proposer."""
        self._command(dispute_id, lambda d: d.approve_decision(by=by, now=self.now()))

    def send_back(self, dispute_id: UUID, *, reason: str, by: Actor) -> None:
        """Return the proposed decision to investigation, with the approver's reason."""
        text = Reason(text=reason).text
        self._command(dispute_id, lambda d: d.send_back(text, by=by, now=self.now()))

    def execute_decision(self, dispute_id: UUID, *, by: Actor) -> str:
        """Pay the approved decision exactly once through the PayoutGateway; returns its reference.

        The gateway is keyed on dispute id + decision number: a retry after a crash, or a
        second executor racing this one, finds the first payment instead of paying again.
        Raises InvalidTransition, NotAuthorized, PayoutFailed, ChainUnavailable.
        """
        dispute = self._get(dispute_id)
        decision = dispute.require_executable(by=by)
        tx = dispute.claim.transaction
        receipt = self.payout_gateway.pay(
            PayoutInstruction(
                key=f"{dispute.id}:{decision.number}",
                dispute_id=dispute.id,
                decision_number=decision.number,
                outcome=decision.outcome,
                claimant_id=dispute.claim.claimant_id,
                chain_id=tx.chain_id,
                asset=tx.asset,
                token_address=tx.token_address,
                decimals=dispute.disputed.decimals,
                units=decision.units,
                to_address=tx.sender,
            )
        )
        dispute.record_execution(receipt.reference, by=by, now=self.now())
        self._save(dispute)
        return receipt.reference

    # -- the claimant and the end -------------------------------------------------

    def notify_claimant(self, dispute_id: UUID, *, by: Actor) -> str:
        """Record a notice to the claimant in their language; returns its text."""
        return self._command(
            dispute_id,
            lambda d: d.notify_claimant(
                by=by, now=self.now(), appeal_window=self.settings.appeal_window
            ),
        )

    def close(self, dispute_id: UUID | None = None, *, by: Actor | None = None) -> None:
        """Close a resolved dispute; with no dispute, release the database connections."""
        if dispute_id is None:
            super().close()
            return
        if by is None:
            raise InvalidInput.of("by", "closing a dispute needs the actor who closes it")
        actor = by
        self._command(dispute_id, lambda d: d.close(by=actor, now=self.now()))

    def reopen(self, dispute_id: UUID, *, reason: str, by: Actor) -> None:
        """Reopen a resolved or closed dispute on appeal, within the appeal window."""
        text = Reason(text=reason).text
        self._command(
            dispute_id,
            lambda d: d.reopen(
                text, by=by, now=self.now(), appeal_window=self.settings.appeal_window
            ),
        )

    def withdraw(self, dispute_id: UUID, *, by: Actor, reason: str = "claimant withdrew") -> None:
        """Withdraw the dispute; nothing more can happen to it."""
        text = Reason(text=reason).text
        self._command(dispute_id, lambda d: d.withdraw(text, by=by, now=self.now()))

    # -- reading ------------------------------------------------------------------

    def get(self, dispute_id: UUID) -> DisputeView:
        """The dispute as it stands. Raises DisputeNotFound."""
        return DisputeView.of(self._get(dispute_id))

    def list_disputes(
        self, *, status: Status | str | None = None, assignee: str | None = None
    ) -> list[DisputeView]:
        """Disputes, most urgent and oldest first, optionally by status and assignee.

        Served from the work-queue view, brought up to date first.
        """
        try:
            wanted = Status(status) if status is not None else None
        except ValueError:
            raise InvalidInput.of("status", f"must be one of {', '.join(Status)}") from None
        from projections.work_queue import WorkQueue  # noqa: PLC0415

        self.projections.catch_up(["work_queue"])
        ids = WorkQueue.ids(self.db, status=wanted and str(wanted), assignee=assignee)
        return [self.get(UUID(i)) for i in ids]

    @property
    def projections(self) -> ProjectionRunner:
        """The runner of this engine's views (work queue, SLA, audit log)."""
        from projections.runner import ProjectionRunner  # noqa: PLC0415

        with self._projections_lock:
            if self._projections is None:
                self._projections = ProjectionRunner(self)
            return self._projections

    def record_sla_breaches(self, now: datetime | None = None) -> list[SlaAlertView]:
        """Record every SLA warning (50/75/90 %) and breach due by ``now``; returns them.

        What the scheduled checker calls. The SLA view is brought up to date first, then
        read by its due index, so a check costs in proportion to the clocks due. Each alert
        is recorded once however many checkers run at once: the aggregate refuses a second
        one, and a concurrent save is retried on the fresh state.
        """
        from projections.sla import SlaView  # noqa: PLC0415

        moment = (now or self.now()).astimezone(UTC)
        self.projections.catch_up(["sla"])
        due = [UUID(i) for i in SlaView.due(self.db, moment)]
        recorded: list[tuple[UUID, SlaAlert]] = []
        for start in range(0, len(due), ALERT_BATCH):
            recorded += self._record_alerts(due[start : start + ALERT_BATCH], moment)
        return [
            SlaAlertView(
                dispute_id=dispute_id,
                clock=a.clock,
                metric=a.metric,
                threshold=a.threshold,
                due_at=a.due_at,
                detected_at=moment,
            )
            for dispute_id, a in recorded
        ]

    def _get_many(self, ids: Sequence[UUID]) -> list[Dispute]:
        """Several disputes, their events read in one query."""
        table = self.db.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        keys = [i.hex if self.storage.kind == "sqlite" else i for i in ids]
        rows = self.db.fetchall(
            f"SELECT originator_id, originator_version, topic, state FROM {table} "
            f"WHERE originator_id IN ({', '.join('?' for _ in keys)}) "
            "ORDER BY originator_id, originator_version",
            keys,
        )
        disputes: dict[UUID, Dispute] = {}
        for row in rows:
            dispute_id = UUID(str(row["originator_id"]))
            stored = StoredEvent(
                dispute_id, row["originator_version"], row["topic"], bytes(row["state"])
            )
            event = cast(Dispute.Event, self.mapper.to_domain_event(stored))
            disputes[dispute_id] = event.mutate(disputes.get(dispute_id))
        return [disputes[i] for i in ids if i in disputes]

    def _record_alerts(self, ids: Sequence[UUID], now: datetime) -> list[tuple[UUID, SlaAlert]]:
        """Record the due alerts of several disputes in one transaction; one by one on a clash."""
        disputes = self._get_many(ids)
        alerts = [
            (d.id, a) for d in disputes for a in d.record_due_sla_alerts(by=SLA_CHECKER, now=now)
        ]
        try:
            self.save(*disputes)
            return alerts
        except IntegrityError:  # another checker saved one of them first
            alone: list[tuple[UUID, SlaAlert]] = []
            for dispute_id in ids:
                alone += [
                    (dispute_id, a)
                    for a in self._command(
                        dispute_id,
                        lambda d: d.record_due_sla_alerts(by=SLA_CHECKER, now=now),
                        retry=True,
                    )
                ]
            return alone

    def _dispute_ids(self) -> list[UUID]:
        filed = f"{Dispute.__module__}:{Dispute.__qualname__}.Filed"
        return [UUID(str(n.originator_id)) for n in self._all_notifications([filed])]

    def sla_report(self, *, since: datetime, until: datetime) -> list[ReportRow]:
        """Met, breached, open and stopped clocks per metric and priority started in a period."""
        from projections.sla import SlaView  # noqa: PLC0415

        self.projections.catch_up(["sla"])
        return SlaView.report(self.db, since, until)

    def export_audit_log(self, fmt: str) -> str:
        """The audit log, brought up to date, as ``csv`` or ``jsonl``. Raises InvalidInput."""
        from projections.audit_log import AuditLog  # noqa: PLC0415

        if fmt not in ("csv", "jsonl"):
            raise InvalidInput.of("format", "must be csv or jsonl")
        self.projections.catch_up(["audit_log"])
        return AuditLog.export(self.db, "csv" if fmt == "csv" else "jsonl")

    def verify_audit_log(self) -> tuple[int, list[Discrepancy]]:
        """Recompute the hash chain from the event store and compare it with the audit log.

        Returns how many logged events were checked and the discrepancies (altered, deleted,
        or not yet logged). The log is not brought up to date first, on purpose: it is the
        record to check the store against.
        """
        from projections.audit_log import verify  # noqa: PLC0415

        self.projections  # noqa: B018 - make sure the log's table exists
        return verify(self.db, self._all_notifications())

    def _all_notifications(self, topics: Sequence[str] = ()) -> Iterator[Notification]:
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 1000, topics=topics)
            yield from page
            if len(page) < 1000:
                return
            start = page[-1].id + 1

    def history(self, dispute_id: UUID) -> list[HistoryEntry]:
        """Every recorded event of the dispute, oldest first, hash-chained.

        Raises DisputeNotFound.
        """
        stored = self.recorder.select_events(dispute_id)
        if not stored:
            raise DisputeNotFound(f"no dispute {dispute_id}", dispute_id=dispute_id)
        positions = self._positions(dispute_id)
        entries = []
        previous = ""
        for record in stored:
            domain_event = cast(Dispute.Event, self.mapper.to_domain_event(record))
            previous = chain_hash(previous, record.topic, record.originator_version, record.state)
            data = {k: v for k, v in vars(domain_event).items() if k not in _EVENT_FIELDS}
            entries.append(
                HistoryEntry(
                    position=positions.get(record.originator_version, 0),
                    version=record.originator_version,
                    name=type(domain_event).__name__,
                    at=domain_event.timestamp,
                    actor=str(data.get("actor", "")),
                    data=to_jsonable_python(data),
                    hash=previous,
                )
            )
        return entries

    def _positions(self, dispute_id: UUID) -> dict[int, int]:
        table = self.db.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        key = dispute_id.hex if self.storage.kind == "sqlite" else dispute_id  # as stored
        rows = self.db.fetchall(
            f"SELECT originator_version, {self.db.notification_id} AS notification_id "
            f"FROM {table} WHERE originator_id = ?",
            (key,),
        )
        return {int(r["originator_version"]): int(r["notification_id"]) for r in rows}

    def state_at(
        self,
        dispute_id: UUID,
        *,
        at: datetime | None = None,
        version: int | None = None,
    ) -> DisputeView:
        """The dispute as it stood at a moment or after a version.

        Raises InvalidInput unless exactly one of ``at`` and ``version`` is given,
        DisputeNotFound when the dispute did not exist yet.
        """
        if (at is None) == (version is None):
            raise InvalidInput.of("at", "give exactly one of at= and version=")
        if at is not None:
            if at.tzinfo is None:
                raise InvalidInput.of("at", "must be timezone-aware")
            versions = [e.version for e in self.history(dispute_id) if e.at <= at]
            if not versions:
                raise DisputeNotFound(
                    f"dispute {dispute_id} was not filed yet at {at.isoformat()}",
                    dispute_id=dispute_id,
                )
            version = versions[-1]
        assert version is not None
        dispute = self._get(dispute_id, version=version)
        if not 1 <= version <= dispute.version:
            raise InvalidInput.of("version", f"must be between 1 and {dispute.version}")
        return DisputeView.of(dispute)
