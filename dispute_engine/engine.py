"""DisputeEngine: the public Python API over the event-sourced Dispute aggregate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from dispute_engine.auditing import Auditing
from dispute_engine.casework import Casework
from dispute_engine.chain_truth import ChainTruth
from dispute_engine.claimants import NOTE, Claimants
from dispute_engine.commands import (
    AddEvidence,
    FileDispute,
    Name,
    ProposeDecision,
    Reason,
)
from dispute_engine.decision_signatures import SignatureFinding
from dispute_engine.delivery.channel import Channel
from dispute_engine.delivery.outbox import Outbox
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.claim import PRIORITY_RANK
from dispute_engine.domain.decision_signing import SignedAction
from dispute_engine.domain.dispute import WALLET_SIGNATURE, Dispute
from dispute_engine.domain.errors import (
    ConcurrencyConflict,
    DisputeEngineError,
    IdempotencyKeyReused,
    InvalidInput,
    StorageUnavailable,
)
from dispute_engine.domain.lifecycle import Status
from dispute_engine.domain.quality import QualityFigures, check_grouping
from dispute_engine.domain.review import ApprovalPolicy
from dispute_engine.domain.wallet_challenge import WalletChallenge
from dispute_engine.engine_core import DisputeId, EngineCore, GatewayFactory
from dispute_engine.identity import Identity
from dispute_engine.log_verifier import AuditReport
from dispute_engine.notices.catalog import render as render_notice
from dispute_engine.ports import (
    Clock,
    PayoutGateway,
    ReadModels,
)
from dispute_engine.reports import ReportRow
from dispute_engine.service_levels import ServiceLevels
from dispute_engine.settings import Settings
from dispute_engine.staffing import Staffing
from dispute_engine.views import (
    ChainFactsView,
    DisputeView,
    HistoryEntry,
    SlaAlertView,
    StaffView,
)


class DisputeEngine:
    """Files, investigates, decides and closes disputes; every change is an event.

    Built by ``open`` (the composition root in ``bootstrap``). It holds its core (the event
    store, clock, settings, evidence and payout adapters) and four collaborators:
    ``chain`` (what the chain says), ``service_levels`` (SLA alerts and the report),
    ``audit`` (history, past states, the audit log) and ``casework`` (contact attempts,
    escalation, linked claims, provisional credit). The methods below delegate to them.
    """

    def __init__(self, core: EngineCore) -> None:
        self._core = core
        self.claimants = Claimants(core)
        self.chain = ChainTruth(core, shown=self.claimants.shown_facts)
        self.service_levels = ServiceLevels(core)
        self.casework = Casework(
            core, seal=self.claimants.seal, sender=self.claimants.claimed_sender
        )
        self.staffing = Staffing(core)
        self.audit = Auditing(core, self.staffing.verify_decision_signatures)

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

    @property
    def approval_policy(self) -> ApprovalPolicy:
        """When a money-moving decision needs two approvers, from settings."""
        return ApprovalPolicy(self._core.settings.second_approval_above)

    # -- filing -------------------------------------------------------------------

    def file_dispute(self, command: FileDispute, *, by: Actor | Identity) -> UUID:
        """File a dispute; the same idempotency key returns the same id and writes nothing.

        A dispute on a transaction other disputes claim is linked with each of them.
        Raises InvalidInput, IdempotencyKeyReused (same key, different claim), NotAuthorized.
        """
        by = self.staffing.acting(by)
        claim = command.claim
        tx = claim.transaction
        if self._core.assets is not None:
            known = self._core.assets.decimals(tx.chain_id, tx.asset, tx.token_address)
            claim = claim.model_copy(update={"transaction": tx.with_known_decimals(known)})
        if claim.jurisdiction is None:
            claim = claim.model_copy(
                update={"jurisdiction": self._core.settings.default_jurisdiction}
            )
        dispute = Dispute.file(
            claim,
            idempotency_key=command.idempotency_key,
            by=by,
            now=self._core.now(),
            sealed=self.claimants.seal_claim(claim),
        )
        try:
            self._core.save(dispute)  # most filings are new: try first, look only on a clash
            self.casework.link_claims(dispute, by=by)
            return dispute.id
        except ConcurrencyConflict:
            existing = self._core.load(dispute.id)
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
        self.casework.link_claims(existing, by=by)  # a retry after a crash between the two
        return existing.id

    # -- investigation ------------------------------------------------------------

    def assign(self, dispute_id: DisputeId, *, investigator: str, by: Actor | Identity) -> None:
        """Give the dispute to an investigator (by canonical id, as actors are).

        Warns (``LanguageNotServed``) when the staff directory says the investigator does not
        serve the dispute's language; the assignment is recorded all the same.
        """
        by = self.staffing.acting(by)
        name = canonical_id(Name(text=investigator).text, field="investigator")

        def assign(dispute: Dispute) -> Dispute:
            dispute.assign(name, by=by, now=self._core.now())
            return dispute

        self.staffing.warn_if_unserved(self._core.command(dispute_id, assign), name)

    def verify_identity(
        self,
        dispute_id: DisputeId,
        *,
        method: str,
        by: Actor | Identity,
        signature: str | None = None,
    ) -> None:
        """Record that the claimant's identity was checked, and how.

        ``method="wallet_signature"`` takes the claimant's ``signature`` over the challenge
        from :meth:`issue_identity_challenge` and accepts it only from the claimed sender; a
        refusal is recorded as a failed attempt and raised (SignatureRefused, ChallengeExpired,
        ChallengeReused, MalformedSignature); five lock the method (IdentityMethodLocked).
        Other methods are recorded as the investigator states them. Raises InvalidInput (a
        signature missing, or given for another method), InvalidTransition, NotAuthorized.
        """
        by = self.staffing.acting(by)
        name = Name(text=method).text
        if name == WALLET_SIGNATURE:
            if signature is None:
                raise InvalidInput.of("signature", "a wallet signature needs the signature")
            self.claimants.verify_by_wallet(dispute_id, signature, by=by)
            return
        if signature is not None:
            raise InvalidInput.of("signature", f"only {WALLET_SIGNATURE} takes a signature")
        self._core.command(
            dispute_id, lambda d: d.verify_identity(name, by=by, now=self._core.now())
        )

    def issue_identity_challenge(
        self, dispute_id: DisputeId, *, by: Actor | Identity
    ) -> WalletChallenge:
        """A one-time message (``.message``) for the claimant to sign with the wallet that sent
        the disputed transaction; it replaces any earlier one and expires in 15 minutes.

        Raises DisputeNotFound, InvalidTransition, NotAuthorized, IdentityMethodLocked.
        """
        by = self.staffing.acting(by)
        return self.claimants.issue_identity_challenge(dispute_id, by=by)

    def record_feedback(
        self, dispute_id: DisputeId, *, rating: int, comment: str = "", channel: str
    ) -> None:
        """Record the claimant's answer to the satisfaction request (rating 1 to 5), once per
        resolution: a reopened dispute asks again.

        Raises InvalidInput, DisputeNotFound, InvalidTransition (not resolved, or answered).
        """
        self.claimants.record_feedback(dispute_id, rating=rating, comment=comment, channel=channel)

    def forget_claimant(self, claimant_id: str, *, by: Actor | Identity) -> list[UUID]:
        """Forget a claimant (an approver decides): destroy their data key and record it on
        each of their disputes; no notice goes to them afterwards. Returns the disputes marked.

        Raises NotAuthorized, InvalidInput, InvalidTransition (a payout to their sealed address
        is begun and not recorded: ``.allowed`` names the command that completes it; nothing
        destroyed or recorded).
        """
        by = self.staffing.acting(by)
        return self.claimants.forget_claimant(claimant_id, by=by)

    def quality_report(self, *, by: str | None = None) -> dict[str, QualityFigures]:
        """CSAT, first-response and resolution times, breaches and reopen rate, overall
        (``all``) or by channel, language, investigator or reason.

        Raises InvalidInput for another grouping.
        """
        grouping = check_grouping(by)
        self.projections.catch_up(["quality"])
        return self.projections.quality_report(grouping)

    def outbox(self, channels: Mapping[str, Channel] | None = None) -> Outbox:
        """The notice outbox of this engine's database, sending through ``channels``."""
        return Outbox(self._core.db, channels)

    def request_evidence(self, dispute_id: DisputeId, *, what: str, by: Actor | Identity) -> None:
        """Ask the claimant for evidence; SLA clocks pause until they answer."""
        by = self.staffing.acting(by)
        text = Reason(text=what).text
        self._core.command(
            dispute_id, lambda d: d.request_evidence(text, by=by, now=self._core.now())
        )

    def add_evidence(
        self, dispute_id: DisputeId, evidence: AddEvidence, *, by: Actor | Identity
    ) -> str:
        """Store the evidence bytes (once per content) and attach them; returns the sha256.

        Raises InvalidInput (too large, unknown media type), InvalidTransition, NotAuthorized.
        """
        by = self.staffing.acting(by)
        if len(evidence.content) > self._core.settings.max_evidence_bytes:
            raise InvalidInput.of(
                "content", f"evidence is limited to {self._core.settings.max_evidence_bytes} bytes"
            )
        dispute = self._core.load(dispute_id)
        dispute.require_evidence_allowed(evidence.source, by=by)
        with self._core.storage_boundary():
            sha256 = self.claimants.store_evidence(dispute.claim.claimant_id, evidence.content)
        self._core.command(
            dispute_id,
            lambda d: d.add_evidence(
                sha256=sha256,
                size=len(evidence.content),
                media_type=evidence.media_type,
                filename=evidence.filename,
                kind=evidence.kind,
                source=evidence.source,
                by=by,
                now=self._core.now(),
            ),
            retry=True,
        )
        return sha256

    def evidence_content(self, sha256: str) -> bytes:
        """The bytes of a piece of evidence, opened with their claimant's data key when they
        were sealed, and checked against their sha256 on every read.

        Raises KeyError when unknown, EvidenceAltered when the stored bytes were changed,
        PersonalDataErased once their claimant was forgotten.
        """
        with self._core.storage_boundary():
            return self.claimants.evidence_content(sha256)

    def add_note(self, dispute_id: DisputeId, text: str, *, by: Actor | Identity) -> None:
        """Keep an internal note; concurrent notes all land."""
        by = self.staffing.acting(by)
        note = Reason(text=text).text
        self._core.command(
            dispute_id,
            lambda d: d.add_note(
                self.claimants.seal(d.claim.claimant_id, NOTE, note), by=by, now=self._core.now()
            ),
            retry=True,
        )

    # -- decision -----------------------------------------------------------------

    def propose_decision(
        self, dispute_id: DisputeId, decision: ProposeDecision, *, by: Actor | Identity
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
        by = self.staffing.acting(by)

        def propose(dispute: Dispute) -> None:
            dispute.propose_decision(
                decision.outcome,
                decision.amount,
                decision.rationale,
                by=by,
                now=self._core.now(),
                overrides=decision.overrides,
                approval_policy=self.approval_policy,
            )

        self._core.command(dispute_id, propose)
        self.casework.commit_reversals(dispute_id)

    def approve_decision(self, dispute_id: DisputeId, *, by: Actor | Identity) -> None:
        """Approve the proposed decision; the approver must not be its proposer."""
        actor = self.staffing.acting(by)

        def approve(dispute: Dispute) -> None:
            signature = self.staffing.sign(actor, dispute, SignedAction.APPROVE)
            dispute.approve_decision(by=actor, now=self._core.now(), signature=signature)

        self._core.command(dispute_id, approve)

    def send_back(self, dispute_id: DisputeId, *, reason: str, by: Actor | Identity) -> None:
        """Return the proposed decision to investigation, with the approver's reason."""
        actor = self.staffing.acting(by)
        text = Reason(text=reason).text

        def send_back(dispute: Dispute) -> None:
            signature = self.staffing.sign(actor, dispute, SignedAction.SEND_BACK)
            dispute.send_back(text, by=actor, now=self._core.now(), signature=signature)

        self._core.command(dispute_id, send_back)

    def execute_decision(self, dispute_id: DisputeId, *, by: Actor | Identity) -> str:
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
        approved), PayoutFailed, ChainUnavailable, PersonalDataErased (with a master key, the
        claimant was forgotten: nothing paid, nothing written), PersonalDataRefused (the
        claimant's sealed address is not the one the claim records: nothing paid).
        """
        by = self.staffing.acting(by)
        payee = self.casework.payee()

        def pay(dispute: Dispute) -> str:
            decision = dispute.require_executable(by=by)
            self._core.require_sealed(dispute)
            self.staffing.require_signed_approval(dispute)
            signature = self.staffing.sign(by, dispute, SignedAction.EXECUTE)
            units = dispute.units_to_pay(decision)
            credit = dispute.unsettled_credit
            if units == 0 and credit is not None:
                # The provisional credit already paid the whole award.
                reference = f"credit:{dispute.id}:credit:{dispute.credits.index(credit) + 1}"
            else:
                reference = self.casework.pay(
                    dispute,
                    key=dispute.decision_key(decision),
                    number=decision.number,
                    outcome=decision.outcome,
                    units=units,
                    payee=payee,
                )
            dispute.record_execution(reference, by=by, now=self._core.now(), signature=signature)
            return reference

        reference = self._core.command(dispute_id, pay, retry=True, fresh=True)
        self.casework.commit_reversals(dispute_id)
        return reference

    # -- the claimant and the end -------------------------------------------------

    def notify_claimant(self, dispute_id: DisputeId, *, by: Actor | Identity) -> str:
        """Record a notice to the claimant in their language; returns its text."""
        by = self.staffing.acting(by)
        return self._core.command(
            dispute_id,
            lambda d: d.notify_claimant(
                by=by,
                now=self._core.now(),
                appeal_window=self._core.settings.appeal_window,
                render=render_notice,
            ),
        )

    def close(self, dispute_id: DisputeId, *, by: Actor | Identity) -> None:
        """Close a resolved dispute, telling the claimant and asking how the help was (a
        forgotten claimant is not written to). ``shutdown`` releases the engine's resources."""
        by = self.staffing.acting(by)
        self._core.command(
            dispute_id,
            lambda d: d.close(
                by=by,
                now=self._core.now(),
                appeal_window=self._core.settings.appeal_window,
                render=render_notice,
            ),
        )

    def reopen(self, dispute_id: DisputeId, *, reason: str, by: Actor | Identity) -> None:
        """Reopen a resolved or closed dispute on appeal, within the appeal window."""
        by = self.staffing.acting(by)
        text = Reason(text=reason).text
        self._core.command(
            dispute_id,
            lambda d: d.reopen(
                text, by=by, now=self._core.now(), appeal_window=self._core.settings.appeal_window
            ),
        )

    def withdraw(
        self, dispute_id: DisputeId, *, by: Actor | Identity, reason: str = "claimant withdrew"
    ) -> None:
        """Withdraw the dispute; nothing more can happen to it."""
        by = self.staffing.acting(by)
        text = Reason(text=reason).text
        self._core.command(dispute_id, lambda d: d.withdraw(text, by=by, now=self._core.now()))

    # -- reading ------------------------------------------------------------------

    def get(self, dispute_id: DisputeId) -> DisputeView:
        """The dispute as it stands, its sealed fields opened. Raises DisputeNotFound."""
        dispute = self._core.load(dispute_id)
        return self.claimants.reveal(DisputeView.of(dispute), dispute)

    def list_disputes(
        self,
        *,
        status: Status | str | None = None,
        assignee: str | None = None,
        queue: str | None = None,
    ) -> list[DisputeView]:
        """Disputes, most urgent and oldest first, optionally by status, assignee and queue
        (``"escalation"`` for escalated disputes).

        Served from the work-queue view, brought up to date first.
        """
        try:
            wanted = Status(status) if status is not None else None
        except ValueError:
            raise InvalidInput.of("status", f"must be one of {', '.join(Status)}") from None
        if assignee is not None:
            assignee = canonical_id(assignee, field="assignee")
        try:
            read_models = self._core.projections
            read_models.catch_up(["work_queue"])
            ids = read_models.work_queue_ids(
                status=wanted and str(wanted), assignee=assignee, queue=queue
            )
        except StorageUnavailable:
            if self._core.creates:
                raise
            # Opened for reading only, where the queue cannot be built or brought up to
            # date (SELECT rights, a read-only file): the same answer from the events.
            views = [DisputeView.of(d) for d in self._core.load_many(self._core.all_ids())]
            chosen = [
                v
                for v in views
                if (wanted is None or v.status == wanted)
                and (assignee is None or v.assignee == assignee)
                and (queue is None or v.queue == queue)
            ]
            chosen.sort(key=lambda v: (PRIORITY_RANK[v.priority], v.filed_at, str(v.id)))
            return chosen
        return [self.get(UUID(i)) for i in ids]

    # -- the staff directory ------------------------------------------------------------

    def init_staff(
        self,
        staff_id: str,
        *,
        public_key: str,
        languages: Iterable[str] = (),
        display_name: str | None = None,
    ) -> StaffView:
        """Register the directory's first admin, once, on a directory without members.

        Of two at once, one lands. Raises NotAuthorized (already founded), InvalidInput.
        """
        return self.staffing.init_staff(
            staff_id, public_key=public_key, languages=languages, display_name=display_name
        )

    def register_staff(
        self,
        staff_id: str,
        *,
        roles: Iterable[Role | str],
        languages: Iterable[str],
        public_key: str,
        display_name: str | None = None,
        by: Actor | Identity,
    ) -> StaffView:
        """Add a member with their roles, served languages (BCP 47) and Ed25519 public key.

        Raises NotAuthorized (``by`` is no admin), InvalidInput (any field, or the id already
        registered under any spelling); nothing is written then.
        """
        return self.staffing.register_staff(
            staff_id,
            roles=roles,
            languages=languages,
            public_key=public_key,
            display_name=display_name,
            by=by,
        )

    def register_staff_key(
        self, staff_id: str, *, public_key: str, by: Actor | Identity
    ) -> StaffView:
        """Rotate a member to a new key from now; what the old key signed stays verifiable.

        Raises StaffNotFound, NotAuthorized, InvalidTransition (revoked), InvalidInput.
        """
        return self.staffing.register_staff_key(staff_id, public_key=public_key, by=by)

    def change_staff(
        self,
        staff_id: str,
        *,
        roles: Iterable[Role | str] | None = None,
        languages: Iterable[str] | None = None,
        expected_version: int | None = None,
        by: Actor | Identity,
    ) -> StaffView:
        """Replace a member's roles, the languages they serve, or both (admins only).

        ``None`` leaves that part as it is. No one grants themselves a role or takes away
        their own admin role, and no member holds admin and approver together. With
        ``expected_version`` (the ``version`` of the member as read), a member changed since
        is a conflict. Raises StaffNotFound, NotAuthorized, InvalidTransition (revoked),
        InvalidInput (nothing to change, nothing changed, any field), ConcurrencyConflict;
        nothing is written then.
        """
        return self.staffing.change_staff(
            staff_id, roles=roles, languages=languages, expected_version=expected_version, by=by
        )

    def revoke_staff(self, staff_id: str, *, by: Actor | Identity) -> StaffView:
        """Revoke a member: they can no longer act; their past signatures stay verifiable.

        Raises StaffNotFound, NotAuthorized, InvalidTransition (already revoked).
        """
        return self.staffing.revoke_staff(staff_id, by=by)

    def staff(self, staff_id: str) -> StaffView:
        """A member under any spelling of their id. Raises StaffNotFound, InvalidInput."""
        return self.staffing.staff(staff_id)

    def staff_history(self, staff_id: str) -> list[HistoryEntry]:
        """Every directory event of a member, oldest first, each naming the admin who made it
        (as ``history`` gives a dispute's). Raises StaffNotFound, InvalidInput, CorruptHistory.
        """
        return self.history(self.staffing.member_id(staff_id))

    def list_staff(self, *, include_revoked: bool = True) -> list[StaffView]:
        """The directory's members by staff id (revoked ones unless ``include_revoked`` is
        False), from its view brought up to date first."""
        return self.staffing.list_staff(include_revoked=include_revoked)

    def next_disputes(self, *, for_staff: str, limit: int = 10) -> list[DisputeView]:
        """The most urgent disputes a member can work on, in the languages they serve.

        Ordered by the soonest SLA due time, then priority, then age. Investigators are
        offered disputes not yet decided that are theirs or nobody's; approvers those waiting
        for approval or payment; a revoked member nothing.
        Raises StaffNotFound, InvalidInput (``limit`` outside 1..1000).
        """
        return [self.get(i) for i in self.staffing.next_dispute_ids(for_staff, limit)]

    def verify_decision_signatures(self) -> list[SignatureFinding]:
        """Every approval, send-back and execution whose signature does not verify against
        the acting member's key at the time (in directory mode, every unsigned one too)."""
        return self.staffing.verify_decision_signatures()

    # -- the collaborators' part of the public API ------------------------------------

    def look_up_transaction(self, dispute_id: DisputeId, *, by: Actor | Identity) -> ChainFactsView:
        """Ask the chain what the disputed transaction did (see ``ChainTruth``)."""
        by = self.staffing.acting(by)
        return self.chain.look_up_transaction(dispute_id, by=by)

    def look_up_many(
        self, dispute_ids: Sequence[DisputeId], *, by: Actor | Identity
    ) -> list[ChainFactsView | DisputeEngineError]:
        """Look up a queue of disputes in JSON-RPC batches (see ``ChainTruth``)."""
        by = self.staffing.acting(by)
        return self.chain.look_up_many(dispute_ids, by=by)

    def recheck_unfinalized(self, *, by: Actor | Identity) -> list[UUID]:
        """Look again at facts that are not final (see ``ChainTruth``)."""
        by = self.staffing.acting(by)
        return self.chain.recheck_unfinalized(by=by)

    def record_sla_breaches(self, now: datetime | None = None) -> list[SlaAlertView]:
        """Record every SLA warning and breach due by ``now`` (see ``ServiceLevels``)."""
        return self.service_levels.record_sla_breaches(now)

    def sla_report(self, *, since: datetime, until: datetime) -> list[ReportRow]:
        """How SLA clocks started in a period fared (see ``ServiceLevels``)."""
        return self.service_levels.sla_report(since=since, until=until)

    def record_contact_attempt(
        self, dispute_id: DisputeId, *, party: str, channel: str, note: str, by: Actor | Identity
    ) -> None:
        """Record an attempt to reach a party about the dispute (see ``Casework``)."""
        by = self.staffing.acting(by)
        self.casework.record_contact_attempt(
            dispute_id, party=party, channel=channel, note=note, by=by
        )

    def escalate(self, dispute_id: DisputeId, *, reason: str, by: Actor | Identity) -> None:
        """Raise the priority and hand the dispute to the escalation queue (see ``Casework``)."""
        by = self.staffing.acting(by)
        self.casework.escalate(dispute_id, reason=reason, by=by)

    def grant_provisional_credit(self, dispute_id: DisputeId, *, by: Actor | Identity) -> str:
        """Credit the claimant ahead of the decision, once (see ``Casework``)."""
        by = self.staffing.acting(by)
        return self.casework.grant_provisional_credit(dispute_id, by=by)

    def record_credit_deadlines(self, now: datetime | None = None) -> list[tuple[UUID, str]]:
        """Record credits fallen due and credits made permanent, once (see ``Casework``)."""
        return self.casework.record_credit_deadlines(now)

    def history(self, dispute_id: DisputeId) -> list[HistoryEntry]:
        """Every recorded event of the dispute with its leaf hash (see ``Auditing``)."""
        return self.audit.history(dispute_id)

    def state_at(
        self, dispute_id: DisputeId, *, at: datetime | None = None, version: int | None = None
    ) -> DisputeView:
        """The dispute as it stood at a moment or after a version (see ``Auditing``)."""
        return self.audit.state_at(dispute_id, at=at, version=version)

    def export_audit_log(self, fmt: str) -> str:
        """The audit log as ``csv`` or ``jsonl`` (see ``Auditing``)."""
        return self.audit.export_audit_log(fmt)

    def verify_audit_log(self) -> AuditReport:
        """Audit the store: seals, the log, checkpoints, evidence, signatures (see
        ``Auditing.verify``)."""
        return self.audit.verify()

    # -- the engine itself ----------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings the engine was opened with."""
        return self._core.settings

    def now(self) -> datetime:
        """The engine's "now", from its clock. Raises InvalidInput for a naive clock."""
        return self._core.now()

    @property
    def projections(self) -> ReadModels:
        """The engine's read models: ``catch_up``, ``rebuild``, ``follow``, ``position``.

        Raises EngineShutDown, StorageUnavailable.
        """
        return self._core.projections

    def shutdown(self) -> None:
        """Release the database connections; the engine cannot be used afterwards."""
        self._core.shutdown()

    def __enter__(self) -> Self:
        """``with DisputeEngine.open(...) as engine:`` shuts the engine down at the end."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Leaving the ``with`` block shuts the engine down."""
        self.shutdown()
