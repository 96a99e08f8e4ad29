"""DisputeEngine: the public Python API over the event-sourced Dispute aggregate."""

from __future__ import annotations

from uuid import UUID

from dispute_engine.auditing import Auditing
from dispute_engine.chain_truth import ChainTruth
from dispute_engine.commands import (
    AddEvidence,
    FileDispute,
    Name,
    ProposeDecision,
    Reason,
)
from dispute_engine.domain.actor import Actor
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.claim import PRIORITY_RANK
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    EngineShutDown,
    IdempotencyKeyReused,
    InvalidInput,
    StorageUnavailable,
)
from dispute_engine.domain.lifecycle import Status
from dispute_engine.engine_core import DisputeId, GatewayFactory
from dispute_engine.ports import (
    Clock,
    PayoutGateway,
    PayoutInstruction,
)
from dispute_engine.service_levels import ServiceLevels
from dispute_engine.settings import Settings
from dispute_engine.views import DisputeView


class DisputeEngine(ChainTruth, ServiceLevels, Auditing):
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
        from dispute_engine.bootstrap import open_engine  # noqa: PLC0415 - it names this class

        return open_engine(
            cls,
            url,
            chains=chains,
            clock=clock,
            settings=settings,
            payout_gateway=payout_gateway,
            create=create,
        )

    # -- filing -------------------------------------------------------------------

    def file_dispute(self, command: FileDispute, *, by: Actor) -> UUID:
        """File a dispute; the same idempotency key returns the same id and writes nothing.

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
        with self._storage():
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
        with self._storage():
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
        Raises InvalidInput (money rules, ``overrides``), InvalidTransition, NotAuthorized.
        """
        self._command(
            dispute_id,
            lambda d: d.propose_decision(
                decision.outcome,
                decision.amount,
                decision.rationale,
                by=by,
                now=self.now(),
                overrides=decision.overrides,
            ),
        )

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
        Raises InvalidTransition, NotAuthorized, PayoutRefused (the gateway's own checks;
        nothing paid, the dispute stays approved), PayoutFailed, ChainUnavailable.
        """

        def pay(dispute: Dispute) -> str:
            decision = dispute.require_executable(by=by)
            tx = dispute.claim.transaction
            with self._storage():
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
            return receipt.reference

        return self._command(dispute_id, pay, retry=True)

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
        if assignee is not None:
            assignee = canonical_id(assignee, field="assignee")
        try:
            read_models = self.projections
            read_models.catch_up(["work_queue"])
            ids = read_models.work_queue_ids(status=wanted and str(wanted), assignee=assignee)
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
