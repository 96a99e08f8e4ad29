"""The one composition root: the only module of the product that names its adapters.

``open_engine`` wires storage, the read models (``projections``), the chain clients and
payout gateway (``chain``) and the payout guard into a ``DisputeEngine``; everything else
reaches them through the ports in ``dispute_engine.ports``.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, TypeVar

from chain.client import ETH_TESTER_URL
from chain.clients import ChainClients
from chain.lookup import Web3TransactionLookup
from chain.payout import Web3PayoutGateway
from chain.sandbox import Sandbox
from chain.wallet_signature import WalletSignatureChecker
from dispute_engine.database import Database, StorageUrl
from dispute_engine.engine_core import EngineCore, GatewayFactory, system_clock
from dispute_engine.networks import KnownAssets, Networks, Token
from dispute_engine.payout_guard import PayoutGuard
from dispute_engine.ports import Clock, PayoutGateway, TokenDecimals
from dispute_engine.settings import Settings
from projections.runner import ProjectionRunner, all_views

if TYPE_CHECKING:
    from dispute_engine.engine import DisputeEngine

E = TypeVar("E", bound="DisputeEngine")


def open_engine(
    cls: type[E],
    url: str | None = None,
    *,
    chains: dict[int, str] | None = None,
    clock: Clock | None = None,
    settings: Settings | None = None,
    payout_gateway: PayoutGateway | GatewayFactory | None = None,
    create: bool = True,
) -> E:
    """Build the engine ``DisputeEngine.open`` documents, with every adapter wired in."""
    settings = settings or Settings()
    if chains is not None:
        settings = settings.model_copy(update={"chains": chains})
    storage = StorageUrl.parse(url or settings.db, pool_size=settings.postgres_pool_size)
    networks = Networks(
        {
            chain_id: [Token(t.symbol, t.address, t.decimals) for t in tokens]
            for chain_id, tokens in settings.tokens.items()
        }
    )
    assets = KnownAssets(networks)
    lookup = None
    token_decimals: TokenDecimals | None = None
    clients = None
    if settings.chains:
        clients = ChainClients(
            settings.chains, timeout=settings.chain_timeout_seconds, networks=networks
        )
        lookup = Web3TransactionLookup(clients, clock=clock)
        token_decimals = lookup.token_decimals
        key = settings.hot_wallet_key
        if payout_gateway is None and key is not None:
            decimals_of = lookup.token_decimals
            limits = settings.payout_limits
            now = clock or system_clock

            def payout_gateway(db: Database) -> PayoutGateway:
                guard = PayoutGuard(
                    db,
                    assets=assets,
                    token_decimals=decimals_of,
                    limits=limits,
                    clock=lambda: now().astimezone(UTC),
                )
                return Web3PayoutGateway(db, clients, key, guard)

    core = EngineCore(
        storage,
        settings=settings,
        clock=clock,
        payout_gateway=payout_gateway,
        transaction_lookup=lookup,
        assets=assets,
        token_decimals=token_decimals,
        wallet_signatures=WalletSignatureChecker(clients),
        read_models=lambda source: ProjectionRunner(source, views=all_views(settings)),
        create=create,
    )
    return cls(core)


def in_process_chain() -> dict[int, str]:
    """The ``chains`` setting of the in-process chain the demo runs on."""
    return {Sandbox.chain_id: ETH_TESTER_URL}


def sandbox(engine: DisputeEngine) -> Sandbox:
    """The in-process chain of an engine opened with ``in_process_chain()``.

    Raises ChainNotConfigured when the engine has none.
    """
    return Sandbox.of(engine)
