"""DisputeEngine: the public Python API over the event-sourced Dispute aggregate."""

from __future__ import annotations

from datetime import UTC
from uuid import UUID

from dispute_engine.auditing import Auditing
from dispute_engine.casework import Casework
from dispute_engine.chain_truth import ChainTruth
from dispute_engine.commands import (
    AddEvidence,
    FileDispute,
    Name,
    ProposeDecision,
    Reason,
)
from dispute_engine.database import Database, StorageUrl, storage_errors
from dispute_engine.domain.actor import Actor
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    EngineShutDown,
    IdempotencyKeyReused,
    InvalidInput,
    StorageUnavailable,
)
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.review import ApprovalPolicy
from dispute_engine.engine_core import DisputeId, GatewayFactory, guarded, system_clock
from dispute_engine.payout_guard import PayoutGuard
from dispute_engine.ports import (
    Clock,
    PayoutGateway,
    TokenDecimals,
)
from dispute_engine.service_levels import ServiceLevels
from dispute_engine.settings import Settings
from dispute_engine.views import DisputeView


@guarded
class DisputeEngine(ChainTruth, ServiceLevels, Auditing, Casework):
    """Files, investigates, decides and closes disputes; every change is an event."""

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        chains: dict[int, str] | None = None,
        clock: Clock | None = None,
        settings: Settings | None = None,
        payout_gateway: PayoutGateway | GatewayFactory | None = None,
        create: bool = True,
    ) -> DisputeEngine:
        """Open the engine on ``memory:``, ``sqlite:///path`` or ``postgresql://...``.

        ``None`` takes the URL from settings (``DISPUTE_ENGINE_DB``), else
        ``sqlite:///./disputes.db``. Tables are created on first use; with
        ``create=False`` nothing is created (no file, schema or table), for reading an
        existing database, with no more than SELECT rights if need be. The default payout
        gateways (the ledger, and the chain with a hot wallet key) consult a PayoutGuard;
        one passed in as ``payout_gateway`` makes its own checks.
        Raises InvalidInput for an unsupported URL, StorageUnavailable when the database
        cannot be opened (or, with ``create=False``, does not exist).
        """
        settings = settings or Settings()
        if chains is not None:
            settings = settings.model_copy(update={"chains": chains})
        storage = StorageUrl.parse(url or settings.db, pool_size=settings.postgres_pool_size)
        # The composition root: the only place the application names its chain adapters.
        from chain.networks import KnownAssets  # noqa: PLC0415

        assets = KnownAssets()
        lookup = None
        token_decimals: TokenDecimals | None = None
        if settings.chains:
            from chain.lookup import Web3TransactionLookup  # noqa: PLC0415
            from chain.payout import Web3PayoutGateway  # noqa: PLC0415

            lookup = Web3TransactionLookup(
                settings.chains, timeout=settings.chain_timeout_seconds, clock=clock
            )
            token_decimals = lookup.token_decimals
            key = settings.hot_wallet_key
            if payout_gateway is None and key is not None:
                nodes = lookup
                limits = settings.payout_limits
                now = clock or system_clock

                def payout_gateway(db: Database) -> PayoutGateway:
                    guard = PayoutGuard(
                        db,
                        assets=assets,
                        token_decimals=nodes.token_decimals,
                        limits=limits,
                        clock=lambda: now().astimezone(UTC),
                    )
                    return Web3PayoutGateway(db, nodes, key, guard)

        return cls(
            storage,
            settings=settings,
            clock=clock,
            payout_gateway=payout_gateway,
            transaction_lookup=lookup,
            assets=assets,
            token_decimals=token_decimals,
            create=create,
        )

    @property
    def approval_policy(self) -> ApprovalPolicy:
        """When a money-moving decision needs two approvers, from settings."""
        return ApprovalPolicy(self.settings.second_approval_above)

    # -- filing -------------------------------------------------------------------

    def file_dispute(self, command: FileDispute, *, by: Actor) -> UUID:
        """File a dispute; the same idempotency key returns the same id and writes nothing.

        A dispute on a transaction other disputes claim is linked with each of them.
        Raises InvalidInput, IdempotencyKeyReused (same key, different claim), NotAuthorized.
        """
        claim = command.claim
        tx = claim.transaction
        if self.assets is not None:
            known = self.assets.decimals(tx.chain_id, tx.asset, tx.token_address)
            claim = claim.model_copy(update={"transaction": tx.with_known_decimals(known)})
        if claim.jurisdiction is None:
            claim = claim.model_copy(update={"jurisdiction": self.settings.default_jurisdiction})
        dispute = Dispute.file(
            claim, idempotency_key=command.idempotency_key, by=by, now=self.now()
        )
        try:
            self._save(dispute)  # most filings are new: try first, look only on a clash
            self._link_claims(dispute, by=by)
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
        self._link_claims(existing, by=by)  # a retry after a crash between the two
        return existing.id

    # -- investigation ------------------------------------------------------------

    def assign(self, dispute_id: DisputeId, *, investigator: str, by: Actor) -> None:
        """Give the dispute to an investigator (by canonical id, as actors are)."""
        name = canonical_id(Name(text=investigator).text, field="investigator")
        self._command(dispute_id, lambda d: d.assign(name, by=by, now=self.now()))

    def verify_identity(self, dispute_id: DisputeId, *, method: str, by: Actor) -> None:
        """Record that the claimant's identity was checked, and how."""
        name = Name(text=method).text
        self._command(dispute_id, lambda d: d.verify_identity(name, by=by, now=self.now()))

    def request_evidence(self, dispute_id: DisputeId, *, what: str, by: Actor) -> None:
        """Ask the claimant for evidence; SLA clocks pause until they answer."""
        text = Reason(text=what).text
        self._command(dispute_id, lambda d: d.request_evidence(text, by=by, now=self.now()))

    def add_evidence(self, dispute_id: DisputeId, evidence: AddEvidence, *, by: Actor) -> str:
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

    def add_note(self, dispute_id: DisputeId, text: str, *, by: Actor) -> None:
        """Keep an internal note; concurrent notes all land."""
        note = Reason(text=text).text
        self._command(dispute_id, lambda d: d.add_note(note, by=by, now=self.now()), retry=True)

    # -- decision -----------------------------------------------------------------

    def propose_decision(
        self, dispute_id: DisputeId, decision: ProposeDecision, *, by: Actor
    ) -> None:
        """Propose refund, partial refund, adjustment or rejection (which resolves at once).

        Money moves only as far as the chain vouches: each contradicted chain fact, or
        ``no_lookup``, must be named in ``decision.overrides``; without an ``amount`` override
        the total paid stays within the transfer the chain verified.
        While checklist items are open, each must be named in ``decision.overrides`` (or
        ``checklist``), a rejection too. Amounts above the asset's threshold, and unauthorized
        transfers, need two distinct approvers. A rejection reverses an unsettled
        provisional credit.
        Raises InvalidInput (money rules, ``overrides``), InvalidTransition, NotAuthorized.
        """

        def propose(dispute: Dispute) -> None:
            dispute.propose_decision(
                decision.outcome,
                decision.amount,
                decision.rationale,
                by=by,
                now=self.now(),
                overrides=decision.overrides,
                approval_policy=self.approval_policy,
            )

        self._command(dispute_id, propose)
        self._commit_reversals(dispute_id)

    def approve_decision(self, dispute_id: DisputeId, *, by: Actor) -> None:
        """Approve the proposed decision; the approver must not be its proposer."""
        self._command(dispute_id, lambda d: d.approve_decision(by=by, now=self.now()))

    def send_back(self, dispute_id: DisputeId, *, reason: str, by: Actor) -> None:
        """Return the proposed decision to investigation, with the approver's reason."""
        text = Reason(text=reason).text
        self._command(dispute_id, lambda d: d.send_back(text, by=by, now=self.now()))

    def execute_decision(self, dispute_id: DisputeId, *, by: Actor) -> str:
        """Pay the approved decision exactly once through the PayoutGateway; returns its reference.

        The gateway is keyed on dispute id + decision number: a retry after a crash, or a
        second executor racing this one, finds the first payment instead of paying again.
        So a save that clashes with another change (a note added meanwhile) is retried on
        the fresh dispute without paying twice.
        Every dispute on the transaction together is paid at most what the chain verified:
        the payout is committed in the per-transaction ledger first, so of two linked
        disputes paid at once by two processes, the one that would pass the cap is refused.
        An unsettled provisional credit counts toward the award (only the rest is paid).
        Raises InvalidTransition, NotAuthorized, PayoutRefused (the gateway's own checks or
        the transaction's cap, ``reason="linked_cap"``; nothing paid, the dispute stays
        approved), PayoutFailed, ChainUnavailable.
        """

        def pay(dispute: Dispute) -> str:
            decision = dispute.require_executable(by=by)
            units = dispute.units_to_pay(decision)
            credit = dispute.unsettled_credit
            if units == 0 and credit is not None:
                # The provisional credit already paid the whole award.
                reference = f"credit:{dispute.id}:credit:{dispute.credits.index(credit) + 1}"
            else:
                reference = self._pay(
                    dispute,
                    key=f"{dispute.id}:{decision.number}",
                    number=decision.number,
                    outcome=decision.outcome,
                    units=units,
                )
            dispute.record_execution(reference, by=by, now=self.now())
            return reference

        reference = self._command(dispute_id, pay, retry=True)
        self._commit_reversals(dispute_id)
        return reference

    # -- the claimant and the end -------------------------------------------------

    def notify_claimant(self, dispute_id: DisputeId, *, by: Actor) -> str:
        """Record a notice to the claimant in their language; returns its text."""
        return self._command(
            dispute_id,
            lambda d: d.notify_claimant(
                by=by, now=self.now(), appeal_window=self.settings.appeal_window
            ),
        )

    def close(self, dispute_id: DisputeId | None = None, *, by: Actor | None = None) -> None:
        """Close a resolved dispute; with no dispute, shut the engine down (see ``shutdown``)."""
        if dispute_id is None:
            self.shutdown()
            return
        if self.is_shut_down:
            raise EngineShutDown("the engine was shut down; open a new one")
        if by is None:
            raise InvalidInput.of("by", "closing a dispute needs the actor who closes it")
        actor = by
        self._command(dispute_id, lambda d: d.close(by=actor, now=self.now()))

    def reopen(self, dispute_id: DisputeId, *, reason: str, by: Actor) -> None:
        """Reopen a resolved or closed dispute on appeal, within the appeal window."""
        text = Reason(text=reason).text
        self._command(
            dispute_id,
            lambda d: d.reopen(
                text, by=by, now=self.now(), appeal_window=self.settings.appeal_window
            ),
        )

    def withdraw(
        self, dispute_id: DisputeId, *, by: Actor, reason: str = "claimant withdrew"
    ) -> None:
        """Withdraw the dispute; nothing more can happen to it."""
        text = Reason(text=reason).text
        self._command(dispute_id, lambda d: d.withdraw(text, by=by, now=self.now()))

    # -- reading ------------------------------------------------------------------

    def get(self, dispute_id: DisputeId) -> DisputeView:
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
        from projections.work_queue import PRIORITY_RANK, WorkQueue  # noqa: PLC0415

        if assignee is not None:
            assignee = canonical_id(assignee, field="assignee")
        try:
            with storage_errors(self.storage):
                self.projections.catch_up(["work_queue"])
                ids = WorkQueue.ids(self.db, status=wanted and str(wanted), assignee=assignee)
        except StorageUnavailable:
            if self.creates:
                raise
            # Opened for reading only, where the queue cannot be built or brought up to
            # date (SELECT rights, a read-only file): the same answer from the events.
            views = [DisputeView.of(d) for d in self._get_many(self._all_ids())]
            chosen = [
                v
                for v in views
                if (wanted is None or v.status == wanted)
                and (assignee is None or v.assignee == assignee)
            ]
            chosen.sort(key=lambda v: (PRIORITY_RANK[v.claim.priority], v.filed_at, str(v.id)))
            return chosen
        return [self.get(UUID(i)) for i in ids]
