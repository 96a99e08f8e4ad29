"""The engine's casework part: contact attempts, escalation, linked claims, provisional credit.

Money paid here (a provisional credit) goes through the same payout rail, keyed for exactly
once, as an executed decision; every payment on a transaction is first committed in the
per-transaction ledger, which refuses one that would take the transaction's disputes past
what the chain verified.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from dispute_engine.commands import Reason, RecordContact
from dispute_engine.commitment_ledger import Commitment, CommitmentLedger
from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import ConcurrencyConflict, PayoutRefused, PersonalDataErased
from dispute_engine.domain.provisional_credit import CreditState
from dispute_engine.engine_core import DisputeId, EngineCore
from dispute_engine.ports import PayoutInstruction

CREDIT_CHECKER = Actor(id="sla-checker", roles={Role.SYSTEM})
CONTACT_NOTE = "contact.note"  # the purpose a contact attempt's note is sealed for
# Seals a claimant's text for a purpose under their data key (Claimants.seal).
Sealer = Callable[[str, str, str], str]
# The claimed sender's real address, opened where the claim records a pseudonym
# (Claimants.claimed_sender).
SenderOpener = Callable[[Dispute], str]


class Payee:
    """Where one payout goes: the claimed sender, opened once for the call that pays it, so a
    retry after the claimant was forgotten mid-payment still completes the payment begun."""

    def __init__(self, opener: SenderOpener) -> None:
        self._opener = opener
        self._address: str | None = None

    def address(self, dispute: Dispute) -> str:
        """The address; raises as the opener (PersonalDataErased, PersonalDataRefused)."""
        if self._address is None:
            self._address = self._opener(dispute)
        return self._address


class Casework:
    """Contact attempts, escalation, links between disputes on one transaction, credits."""

    def __init__(self, core: EngineCore, *, seal: Sealer, sender: SenderOpener) -> None:
        self._core = core
        self._seal = seal
        self._sender = sender

    @property
    def commitments(self) -> CommitmentLedger:
        """The money committed on each transaction, across its disputes."""
        return self._core.commitments

    def record_contact_attempt(
        self, dispute_id: DisputeId, *, party: str, channel: str, note: str, by: Actor
    ) -> None:
        """Record an attempt to reach a party (an answer is not needed).

        Raises InvalidInput (party, channel, note), InvalidTransition, NotAuthorized.
        """
        contact = RecordContact(party=party, channel=channel, note=note)
        self._core.command(
            dispute_id,
            lambda d: d.record_contact_attempt(
                contact.party,
                contact.channel,
                self._seal(d.claim.claimant_id, CONTACT_NOTE, contact.note),
                by=by,
                now=self._core.now(),
            ),
            retry=True,
        )

    def escalate(self, dispute_id: DisputeId, *, reason: str, by: Actor) -> None:
        """Raise the priority one step and hand the dispute to the escalation queue."""
        text = Reason(text=reason).text
        self._core.command(dispute_id, lambda d: d.escalate(text, by=by, now=self._core.now()))

    # -- linked claims ------------------------------------------------------------

    def link_claims(self, dispute: Dispute, *, by: Actor) -> None:
        """Link a filed dispute with every other dispute on its transaction, both ways.

        Found in the claims index each filing writes with its event (one indexed read).
        Links inform investigators; the cap on what the transaction's disputes are paid
        never depends on them (the ledger holds it), so two filings racing past each other
        lose nothing but the link.
        """
        tx = dispute.claim.transaction
        with self._core.storage_boundary():
            filed = self._core.events.filed_on(tx.chain_id, tx.tx_hash)
        others = [other for other in filed if other != dispute.id]
        for other in others:
            for one, another in ((dispute.id, other), (other, dispute.id)):
                self._core.command(one, self._linker(another, by), retry=True)

    def _linker(self, other: UUID, by: Actor) -> Callable[[Dispute], bool]:
        return lambda dispute: dispute.link_claim(other, by=by, now=self._core.now())

    def _commit(self, dispute: Dispute, key: str, units: int) -> None:
        """Commit a payment on the dispute's transaction. Raises PayoutRefused (linked_cap)."""
        tx = dispute.claim.transaction
        with self._core.storage_boundary():
            self.commitments.commit(
                Commitment(key, tx.chain_id, tx.tx_hash, dispute.id, units),
                cap=dispute.transaction_cap,
            )

    def _begun(self, key: str) -> bool:
        with self._core.storage_boundary():
            return self.commitments.holds(key)

    def payee(self) -> Payee:
        """The payee of one paying call (its retries included)."""
        return Payee(self._sender)

    def pay(
        self, dispute: Dispute, *, key: str, number: int, outcome: str, units: int, payee: Payee
    ) -> str:
        """Commit, then pay ``payee`` through the rail exactly once; returns the rail's reference.

        Raises PayoutRefused (the ledger's cap or the rail's checks: nothing paid, nothing
        committed), PayoutFailed, ChainUnavailable, PersonalDataErased (with a master key, the
        claimant was forgotten: their address is not paid to, nothing committed),
        PersonalDataRefused (the sealed address is not the one the claim records: nothing
        paid, nothing committed). A payout begun before the forgetting (its key committed,
        its address opened by this call) is completed: the rail finds it.
        """
        sealing = self._core.settings.master_key is not None
        if sealing and dispute.claimant_forgotten and not self._begun(key):
            raise PersonalDataErased(
                "the claimant was forgotten: nothing is paid to their address",
                claimant_id=dispute.claim.claimant_id,
            )
        to_address = payee.address(dispute)
        self._commit(dispute, key, units)
        tx = dispute.claim.transaction
        try:
            with self._core.storage_boundary():
                receipt = self._core.payout_gateway.pay(
                    PayoutInstruction(
                        key=key,
                        dispute_id=dispute.id,
                        decision_number=number,
                        outcome=outcome,
                        claimant_id=dispute.claim.claimant_id,
                        chain_id=tx.chain_id,
                        asset=tx.asset,
                        token_address=tx.token_address,
                        decimals=dispute.disputed.decimals,
                        units=units,
                        to_address=to_address,
                    )
                )
        except PayoutRefused:
            with self._core.storage_boundary():
                self.commitments.release(key)
            raise
        return receipt.reference

    def commit_reversals(self, dispute_id: DisputeId) -> None:
        """Give back to the transaction's cap what reversed credits took back (once each)."""
        dispute = self._core.load(dispute_id)
        for number, credit in enumerate(dispute.credits, start=1):
            if credit.state is CreditState.REVERSED:
                key = f"{dispute.id}:credit:{number}:reversal"
                self._commit(dispute, key, -credit.reversed_units)

    # -- provisional credit ---------------------------------------------------------

    def grant_provisional_credit(self, dispute_id: DisputeId, *, by: Actor) -> str:
        """Credit the claimant the disputed amount ahead of the decision; returns the reference.

        Paid exactly once through the payout rail under the credit's key, so a retry or a
        second approver racing this one finds the first payment.
        Raises NotAuthorized (an approver grants), InvalidTransition (no rule for the
        jurisdiction, a credit already unsettled, a concluded dispute), PayoutRefused,
        PersonalDataErased (with a master key, the claimant was forgotten).
        """

        payee = self.payee()

        def grant(dispute: Dispute) -> str:
            units = dispute.require_credit_grantable(by=by)
            key = dispute.credit_key()
            reference = self.pay(
                dispute,
                key=key,
                number=0,
                outcome="provisional_credit",
                units=units,
                payee=payee,
            )
            dispute.record_provisional_credit(units, reference, by=by, now=self._core.now())
            return reference

        return self._core.command(dispute_id, grant, retry=True, fresh=True)

    def record_credit_deadlines(self, now: datetime | None = None) -> list[tuple[UUID, str]]:
        """Record credits fallen due (``ProvisionalCreditDue``) and credits the policy makes
        permanent at the final deadline, once each however many checkers run at once;
        returns each dispute with the event recorded.
        """
        moment = (now or self._core.now()).astimezone(UTC)
        read_models = self._core.projections
        read_models.catch_up(["work_queue"])
        recorded: list[tuple[UUID, str]] = []
        for text in read_models.work_queue_ids(status=None, assignee=None):
            dispute_id = UUID(text)
            if self._core.load(dispute_id).credit_plan is None:
                continue
            try:
                names = self._core.command(
                    dispute_id,
                    lambda d: d.record_due_credit_events(by=CREDIT_CHECKER, now=moment),
                )
            except ConcurrencyConflict:
                continue  # another checker recorded them first; nothing is due twice
            recorded += [(dispute_id, name) for name in names]
        return recorded
