"""The engine's claimant part: proof of wallet control, feedback, and forgetting a person."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import Field, StrictStr

from dispute_engine.casework import CONTACT_NOTE
from dispute_engine.domain.actor import Actor, Role, require_permission
from dispute_engine.domain.claim import Claim, address_pseudonym
from dispute_engine.domain.dispute import SEALED_PREFIX, Dispute
from dispute_engine.domain.errors import (
    ChainNotConfigured,
    ChallengeExpired,
    ChallengeReused,
    EvidenceAltered,
    InvalidTransition,
    MalformedSignature,
    PersonalDataErased,
    PersonalDataRefused,
    SignatureRefused,
)
from dispute_engine.domain.lifecycle import Action
from dispute_engine.domain.quality import Feedback
from dispute_engine.domain.value_object import ValueObject
from dispute_engine.domain.wallet_challenge import WalletChallenge
from dispute_engine.engine_core import DisputeId, EngineCore
from dispute_engine.personal_data import ERASED, claimant_key
from dispute_engine.ports import WalletSignatures
from dispute_engine.views import ChainFactsView, DisputeView, with_sender

# The claimant's answer arrives through a channel's gateway: the service relays it.
CLAIMANT = Actor(id="claimant", roles=frozenset({Role.SYSTEM}))
T = TypeVar("T")
# The purposes personal fields are sealed for (bound into each envelope).
PURPOSES = {  # the claim's fields
    "description": "claim.description",
    "contact": "claim.contact",
    "sender": "claim.sender",
}
NOTE = "note.text"
FEEDBACK_COMMENT = "feedback.comment"
EVIDENCE = "evidence.content"
MAX_SIGNATURE_TEXT = 10_000  # hex of the longest signature a contract wallet may aggregate


class WalletSignatureAnswer(ValueObject):
    """The signature a claimant sent back. Raises InvalidInput."""

    signature: Annotated[StrictStr, Field(min_length=1, max_length=MAX_SIGNATURE_TEXT)]


def failure_reason(error: SignatureRefused | MalformedSignature) -> str:
    """How a refused wallet signature is recorded."""
    if isinstance(error, ChallengeExpired):
        return "expired"
    if isinstance(error, ChallengeReused):
        return "reused"
    if isinstance(error, MalformedSignature):
        return "malformed"
    return "wrong_signer"


class Claimants:
    """Checks claimants' wallet signatures, records their feedback, and forgets them."""

    def __init__(self, core: EngineCore) -> None:
        self._core = core

    def issue_identity_challenge(self, dispute_id: DisputeId, *, by: Actor) -> WalletChallenge:
        """A one-time message for the claimed sender to sign (``.message``), recorded.

        The message names the claimant's real address; a sealed claim records the challenge
        with the pseudonym its claim holds. Raises DisputeNotFound, InvalidTransition,
        NotAuthorized, IdentityMethodLocked, PersonalDataErased (the claimant was forgotten:
        nothing recorded).
        """
        nonce = secrets.token_hex(16)

        def issue(dispute: Dispute) -> WalletChallenge:
            challenge = dispute.issue_identity_challenge(
                domain=self._core.settings.challenge_domain,
                nonce=nonce,
                by=by,
                now=self._core.now(),
            )
            return self._to_sign(dispute, challenge)

        return self._core.command(dispute_id, issue)

    def verify_by_wallet(self, dispute_id: DisputeId, signature: object, *, by: Actor) -> None:
        """Accept the signature only from the claimed sender over the latest challenge.

        A refusal is recorded as a failed attempt, then raised: SignatureRefused (another
        signer), ChallengeExpired, ChallengeReused, MalformedSignature. Raises
        IdentityMethodLocked after five, InvalidInput (not a signature: nothing recorded),
        ChainUnavailable (a contract wallet's chain did not answer: nothing recorded).
        """
        answer = WalletSignatureAnswer.model_validate({"signature": signature})
        dispute = self._core.load(dispute_id)
        dispute.require_wallet_open(by)
        recorded = dispute.wallet_challenge
        now = self._core.now()
        try:
            if recorded is None:
                raise ChallengeReused(
                    "no challenge was issued for this dispute; issue one first",
                    actor=by.id,
                    dispute_id=dispute.id,
                )
            challenge = self._to_sign(dispute, recorded)
            self._checker().verify(
                challenge.message,
                answer.signature,
                address=challenge.address,
                chain_id=challenge.chain_id,
                now=now,
                issued={challenge.nonce},
                used={challenge.nonce} if dispute.challenge_answered else set(),
            )
        except (SignatureRefused, MalformedSignature) as refused:
            reason = failure_reason(refused)
            self._command(dispute.id, lambda d: d.record_identity_failure(reason, by=by, now=now))
            raise
        nonce = recorded.nonce
        self._command(dispute.id, lambda d: d.verify_wallet_identity(nonce, by=by, now=now))

    def claimed_sender(self, dispute: Dispute) -> str:
        """The claimed transaction's sender, the claimant's own wallet: opened from its
        envelope when the claim records a pseudonym, as recorded otherwise.

        Raises PersonalDataErased (the claimant was forgotten), PersonalDataRefused (the
        envelope does not open, on this engine without a master key too, or holds an address
        whose pseudonym is not the recorded one): the pseudonym is never paid or challenged.
        """
        recorded = dispute.claim.transaction.sender
        sealed = dispute.sealed_fields.get("sender")
        if sealed is None:
            return recorded
        personal = self._core.personal_data()
        if personal is None:
            raise PersonalDataRefused(
                f"the sender of dispute {dispute.id} is sealed and this engine has no master "
                "key (DISPUTE_ENGINE_MASTER_KEY) to open it"
            )
        real = personal.open(dispute.claim.claimant_id, PURPOSES["sender"], sealed)
        try:
            matches = address_pseudonym(dispute.id, real) == recorded
        except ValueError:
            matches = False
        if not matches:
            raise PersonalDataRefused(
                f"the sealed sender of dispute {dispute.id} is not the address its claim "
                "records; the envelope was altered"
            )
        return real

    def _to_sign(self, dispute: Dispute, challenge: WalletChallenge) -> WalletChallenge:
        """The challenge as the claimant's wallet signs it: naming their real address."""
        return challenge.model_copy(update={"address": self.claimed_sender(dispute)})

    def record_feedback(
        self, dispute_id: DisputeId, *, rating: object, comment: object, channel: object
    ) -> None:
        """Record the claimant's answer to the satisfaction request.

        Raises InvalidInput, DisputeNotFound, InvalidTransition (not resolved, or answered
        already for this resolution).
        """
        feedback = Feedback.model_validate(
            {"rating": rating, "comment": comment, "channel": channel}
        )

        def record(dispute: Dispute) -> None:
            comment = self.seal(dispute.claim.claimant_id, FEEDBACK_COMMENT, feedback.comment)
            sealed = feedback.model_copy(update={"comment": comment})
            dispute.record_feedback(sealed, by=CLAIMANT, now=self._core.now())

        self._command(dispute_id, record)

    def forget_claimant(self, claimant_id: str, *, by: Actor) -> list[UUID]:
        """Destroy the claimant's data key, then record it on each of their disputes not yet
        marked; returns those, sorted. Forgetting again destroys and records nothing new.

        Raises NotAuthorized (an approver decides), InvalidInput (a malformed id),
        InvalidTransition (a payout to a sealed address under way: nothing destroyed).
        """
        require_permission(by, Action.FORGET_CLAIMANT)
        claimant = claimant_key(claimant_id)
        read_models = self._core.projections
        read_models.catch_up(["work_queue"])
        disputes = read_models.claimant_disputes(claimant)
        personal = self._core.personal_data()
        if personal is not None:
            for dispute_id in disputes:
                self._require_no_payout_begun(self._core.load(dispute_id))
            personal.forget(claimant)
        marked = []
        for dispute_id in disputes:
            if self._command(dispute_id, lambda d: d.forget_claimant(by=by, now=self._core.now())):
                marked.append(dispute_id)
        return sorted(marked)

    def _require_no_payout_begun(self, dispute: Dispute) -> None:
        """Refuse to forget while a payout to a sealed address was begun (committed) and not
        recorded: only its address can complete it, and forgetting would destroy that.

        Raises InvalidTransition naming the dispute and the command that completes it.
        """
        if "sender" not in dispute.sealed_fields:
            return  # the address is in the claim: a payout completes without the key
        for action, key in dispute.unrecorded_payouts():
            with self._core.storage_boundary():
                begun = self._core.commitments.holds(key)
            if begun:
                raise InvalidTransition(
                    f"dispute {dispute.id} has a payout begun and not recorded ({key}); "
                    f"complete it ({action}) before forgetting the claimant",
                    action=Action.FORGET_CLAIMANT,
                    status=dispute.status,
                    allowed=[action],
                    dispute_id=dispute.id,
                )

    # -- personal data ------------------------------------------------------------------

    def seal_claim(self, claim: Claim) -> dict[str, str] | None:
        """The claim's personal fields sealed under the claimant's data key (None without a
        master key), to be recorded in their place."""
        personal = self._core.personal_data()
        if personal is None:
            return None
        fields = {
            "description": claim.description,
            "contact": claim.contact,
            "sender": claim.transaction.sender,
        }
        return {
            name: personal.seal(claim.claimant_id, PURPOSES[name], value)
            for name, value in fields.items()
            if value is not None
        }

    def seal(self, claimant_id: str, purpose: str, text: str) -> str:
        """A claimant's text sealed under their data key, to be recorded in its place; as given
        without a master key, or when empty (it says nothing of anyone)."""
        personal = self._core.personal_data()
        return text if personal is None or not text else personal.seal(claimant_id, purpose, text)

    def store_evidence(self, claimant_id: str, content: bytes) -> str:
        """Keep evidence bytes, sealed under the claimant's data key when there is a master
        key; returns the sha256 of the plain bytes."""
        store = self._core.evidence_store
        personal = self._core.personal_data()
        if personal is None:
            return store.put(content)
        digest = hashlib.sha256(content).hexdigest()
        sealed = personal.seal_bytes(claimant_id, EVIDENCE, content)
        store.put_sealed(claimant_key(claimant_id), digest, len(content), sealed)
        return digest

    def evidence_content(self, sha256: str) -> bytes:
        """The evidence bytes with that digest, opened with their claimant's data key.

        Raises KeyError when unknown, PersonalDataErased once every claimant who sent them was
        forgotten, EvidenceAltered when the bytes do not hash to the digest.
        """
        store = self._core.evidence_store
        personal = self._core.personal_data()
        erased: PersonalDataErased | None = None
        for claimant, sealed in store.sealed(sha256) if personal is not None else []:
            assert personal is not None  # rows are read only with a master key
            try:
                content = personal.open_bytes(claimant, EVIDENCE, sealed)
            except PersonalDataErased as error:
                erased = error
                continue
            if hashlib.sha256(content).hexdigest() != sha256:
                raise EvidenceAltered(
                    f"the sealed evidence kept under sha256 {sha256} does not have that hash",
                    sha256=sha256,
                )
            return content
        try:
            return store.get(sha256)
        except KeyError:
            if erased is not None:
                raise erased from None
            raise

    def reveal(self, view: DisputeView, dispute: Dispute) -> DisputeView:
        """The view with its sealed fields (description, contact, sender, notes, contact notes)
        opened, or shown as ``[erased]`` once forgotten (``[sealed]`` on an engine without the
        master key)."""
        personal = self._core.personal_data()
        if personal is None:
            return view
        claimant = dispute.claim.claimant_id

        def shown(purpose: str, text: str) -> str:
            if not text.startswith(SEALED_PREFIX):
                return text
            return str(personal.reveal(claimant, purpose, text))

        update: dict[str, Any] = {
            "notes": [
                n.model_copy(update={"text": shown(NOTE, raw.text)})
                for n, raw in zip(view.notes, dispute.notes, strict=True)
            ],
            "contacts": [
                c.model_copy(update={"note": shown(CONTACT_NOTE, raw.note)})
                for c, raw in zip(view.contacts, dispute.contacts, strict=True)
            ],
        }
        sealed = dispute.sealed_fields
        opened = {name: shown(PURPOSES[name], sealed[name]) for name in sealed if name != "sender"}
        claim = view.claim.model_copy(update=opened)
        if "sender" in sealed:
            try:
                sender = self.claimed_sender(dispute)
            except PersonalDataErased:
                claim = with_sender(claim, str(ERASED))
            else:
                claim = with_sender(claim, sender)
                if view.chain_facts is not None:
                    pseudonym = dispute.claim.transaction.sender
                    update["chain_facts"] = view.chain_facts.opened(pseudonym, sender)
        update["claim"] = claim
        return view.model_copy(update=update)

    def shown_facts(self, dispute: Dispute, facts: ChainFactsView) -> ChainFactsView:
        """Recorded chain facts naming the claimant's real address where they name its
        pseudonym; as recorded when it cannot be opened (forgotten, or an altered envelope)."""
        if "sender" not in dispute.sealed_fields:
            return facts
        try:
            real = self.claimed_sender(dispute)
        except (PersonalDataErased, PersonalDataRefused):
            return facts
        return facts.opened(dispute.claim.transaction.sender, real)

    def _checker(self) -> WalletSignatures:
        if self._core.wallet_signatures is None:
            raise ChainNotConfigured("this engine has no wallet signature checker")
        return self._core.wallet_signatures

    def _command(self, dispute_id: DisputeId, change: Callable[[Dispute], T]) -> T:
        return self._core.command(dispute_id, change, retry=True)
