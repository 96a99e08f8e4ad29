"""The engine's chain part: look transactions up, batch them, re-check what is not final."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from dispute_engine.deadline import within
from dispute_engine.domain.actor import Actor
from dispute_engine.domain.chain_facts import ChainFacts
from dispute_engine.domain.claim import address_pseudonym
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import (
    ChainUnavailable,
    DisputeEngineError,
)
from dispute_engine.engine_core import DisputeId, EngineCore
from dispute_engine.ports import (
    TransactionLookup,
)
from dispute_engine.views import ChainFactsView, DisputeView


def pseudonymous(dispute: Dispute, facts: ChainFacts) -> ChainFacts:
    """The facts as the dispute records them: where its claim names the sender by pseudonym,
    the claimant's address (the one whose pseudonym it is) is named by it too. Found by
    pseudonym, so no key is needed, and a forgotten claimant's address is still never
    recorded."""
    if "sender" not in dispute.sealed_fields:
        return facts
    pseudonym = dispute.claim.transaction.sender
    for address in facts.addresses:
        if address_pseudonym(dispute.id, address) == pseudonym:
            return facts.pseudonymized(address, pseudonym)
    return facts


# The recorded facts as a caller is shown them: the claimant's address opened where they name
# its pseudonym (Claimants.shown_facts).
FactsShown = Callable[[Dispute, ChainFactsView], ChainFactsView]


class ChainTruth:
    """Asks the chain what the disputed transactions did and records the facts."""

    def __init__(self, core: EngineCore, *, shown: FactsShown) -> None:
        self._core = core
        self._shown = shown

    @property
    def transaction_lookup(self) -> TransactionLookup | None:
        """The TransactionLookup over the configured chains; None without chains."""
        return self._core.transaction_lookup

    # -- the chain ------------------------------------------------------------------

    def _lookup(self) -> TransactionLookup:
        if self._core.transaction_lookup is None:
            raise ChainUnavailable(
                "no chain node is configured: set DISPUTE_ENGINE_CHAINS, "
                'e.g. \'{"1": "https://your-node"}\''
            )
        return self._core.transaction_lookup

    def _record_facts(self, dispute_id: DisputeId, facts: ChainFacts, by: Actor) -> ChainFactsView:
        def record(dispute: Dispute) -> ChainFactsView:
            dispute.record_chain_facts(
                pseudonymous(dispute, facts),
                by=by,
                now=self._core.now(),
                time_tolerance=self._core.settings.time_tolerance,
            )
            view = DisputeView.of(dispute).chain_facts
            assert view is not None
            return self._shown(dispute, view)

        return self._core.command(dispute_id, record, retry=True)

    def look_up_transaction(self, dispute_id: DisputeId, *, by: Actor) -> ChainFactsView:
        """Ask the chain what the disputed transaction did; record the facts and mismatches.

        Raises ChainUnavailable (nothing recorded; retry later), ChainNotConfigured,
        InvalidTransition, NotAuthorized.
        """
        dispute = self._core.load(dispute_id)
        dispute.require_lookup_allowed(by=by)
        tx = dispute.claim.transaction
        lookup = self._lookup()
        seconds = self._core.settings.chain_timeout_seconds
        facts = within(
            seconds,
            lambda: lookup.look_up(tx.chain_id, tx.tx_hash),
            expired=lambda: ChainUnavailable(
                f"chain {tx.chain_id} did not answer the lookup within {seconds:g} s "
                "(DISPUTE_ENGINE_CHAIN_TIMEOUT_SECONDS); nothing was recorded",
                chain_id=tx.chain_id,
            ),
        )
        return self._record_facts(dispute_id, facts, by)

    def look_up_many(
        self, dispute_ids: Sequence[DisputeId], *, by: Actor
    ) -> list[ChainFactsView | DisputeEngineError]:
        """Look up a queue of disputes in JSON-RPC batches; each entry is its view or error."""
        disputes: list[Dispute | DisputeEngineError] = []
        for dispute_id in dispute_ids:
            try:
                dispute = self._core.load(dispute_id)
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
        old ones; the old ones stay in the history. The work queue's index finds the disputes
        to look at, so a re-check costs in proportion to the facts still pending.
        """
        read_models = self._core.projections
        read_models.catch_up(["work_queue"])
        candidates = [UUID(i) for i in read_models.needing_recheck()]
        before = {d.id: d.version for d in self._core.load_many(candidates) if d.needs_recheck}
        for result in self.look_up_many(list(before), by=by):
            if isinstance(result, ChainUnavailable):
                raise result
        return [d.id for d in self._core.load_many(list(before)) if d.version != before[d.id]]
