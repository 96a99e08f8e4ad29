"""One node of one chain: verified chain id, bounded time, every failure a ChainUnavailable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware

from dispute_engine.deadline import within
from dispute_engine.domain.errors import ChainMismatch, ChainUnavailable
from dispute_engine.error_mapping import node_errors, scrub
from dispute_engine.networks import Network

T = TypeVar("T")
ETH_TESTER_URL = "eth-tester://"


def public_url(url: str) -> str:
    """The URL without what may be a secret: credentials, path and query (API keys)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    port = f":{parts.port}" if parts.port else ""
    hidden = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{hidden}"


class ChainClient:
    """A web3 connection to one chain's node, checked before first use."""

    def __init__(self, network: Network, url: str, *, timeout: float) -> None:
        self.network = network
        self.url = url
        self.label = public_url(url)
        self.timeout = timeout
        self._web3: Web3 | None = None
        self._lock = threading.Lock()

    @property
    def batches(self) -> bool:
        """Whether the node takes JSON-RPC batches (the in-process chain does not)."""
        return self.url != ETH_TESTER_URL

    @property
    def web3(self) -> Web3:
        """The connection; raises ChainMismatch when the node is on another chain."""
        with self._lock:
            if self._web3 is None:
                web3 = self._connect()
                reported = self.call(lambda: web3.eth.chain_id, web3)
                if reported != self.network.chain_id:
                    raise ChainMismatch(
                        f"the node at {self.label} is on chain {reported}, "
                        f"configured for chain {self.network.chain_id}",
                        chain_id=self.network.chain_id,
                    )
                self._web3 = web3
            return self._web3

    def _connect(self) -> Web3:
        if self.url == ETH_TESTER_URL:
            return Web3(EthereumTesterProvider())
        # No retries: a dead node must fail within the timeout, and web3's retry does not
        # cover connection errors of the sync provider anyway.
        provider = HTTPProvider(
            self.url,
            request_kwargs={"timeout": self.timeout},
            exception_retry_configuration=None,
        )
        web3 = Web3(provider)
        if self.network.poa:
            web3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return web3

    def call(self, request: Callable[[], T], web3: Web3 | None = None) -> T:
        """Run one request against the node, all of it within the timeout.

        Node faults, and a node too slow in total, become ChainUnavailable.
        """
        with node_errors(self.network.chain_id, self.url, self.label, self.timeout):
            return within(self.timeout, request, expired=self._too_slow)

    def _too_slow(self) -> ChainUnavailable:
        return ChainUnavailable(
            f"chain {self.network.chain_id} node at {self.label} did not answer within "
            f"{self.timeout:g} s (DISPUTE_ENGINE_CHAIN_TIMEOUT_SECONDS)",
            chain_id=self.network.chain_id,
        )

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Results of a JSON-RPC batch, one per call: a call the node failed alone is its
        ChainUnavailable, never None, which would read as "no such transaction"."""
        web3 = self.web3

        def send() -> list[Any]:
            provider = cast(HTTPProvider, web3.provider)
            responses = provider.make_batch_request(list(calls))  # type: ignore[arg-type]
            if not isinstance(responses, list) or len(responses) != len(calls):
                raise ValueError(f"the node answered a batch of {len(calls)} with {responses!r}")
            return [
                self.failed(method, r["error"]) if "error" in r else r.get("result")
                for (method, _), r in zip(calls, responses, strict=True)
            ]

        return self.call(send)

    def failed(self, method: str, error: Any) -> ChainUnavailable:
        """The error of one call the node could not answer."""
        return ChainUnavailable(
            f"chain {self.network.chain_id} node at {self.label} failed {method}: "
            f"{scrub(repr(error), self.url)[:200]}",
            chain_id=self.network.chain_id,
        )
