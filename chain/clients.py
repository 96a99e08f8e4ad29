"""ChainClients: the one registry of chain nodes the lookup and payout adapters share."""

from __future__ import annotations

from collections.abc import Mapping

from chain.client import ChainClient
from dispute_engine.domain.errors import ChainNotConfigured
from dispute_engine.networks import Networks


class ChainClients:
    """One checked web3 client per configured chain id, built once and shared."""

    def __init__(
        self, nodes: Mapping[int, str], *, timeout: float = 10.0, networks: Networks | None = None
    ) -> None:
        known = networks or Networks()
        self._clients = {
            cid: ChainClient(known.network(cid), url, timeout=timeout) for cid, url in nodes.items()
        }

    def client(self, chain_id: int) -> ChainClient:
        """The node of a chain. Raises ChainNotConfigured."""
        try:
            return self._clients[chain_id]
        except KeyError:
            raise ChainNotConfigured(
                f"no node is configured for chain {chain_id}: add one to DISPUTE_ENGINE_CHAINS, "
                f'e.g. \'{{"{chain_id}": "http://127.0.0.1:8545"}}\''
            ) from None
