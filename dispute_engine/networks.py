"""The chains the engine knows: native asset, confirmation depth, well-known tokens (pure data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

ETH_TESTER_CHAIN_ID = 131277322940537  # web3's in-process EthereumTesterProvider


@dataclass(frozen=True)
class Token:
    """A well-known ERC-20 token on one chain."""

    symbol: str
    address: str
    decimals: int


@dataclass(frozen=True)
class Network:
    """One chain: how to read finality on it and what moves on it."""

    chain_id: int
    name: str
    native_asset: str
    native_decimals: int = 18
    confirmations: int = 12
    finality: Literal["tag", "depth"] = "tag"  # the node's `finalized` block, or depth only
    poa: bool = False  # extraData longer than 32 bytes: needs web3's POA middleware
    tokens: tuple[Token, ...] = field(default=())
    explorer: str = ""  # block explorer base URL, without a trailing slash; "" when none

    def transaction_url(self, tx_hash: str) -> str | None:
        """The explorer page of a transaction, or None when the chain has no public explorer."""
        return f"{self.explorer}/tx/{tx_hash}" if self.explorer else None

    def token(self, address: str) -> Token | None:
        """The well-known token at an address (checksummed), if any."""
        return next((t for t in self.tokens if t.address == address), None)

    def token_named(self, symbol: str) -> Token | None:
        """The well-known token with a symbol, if any."""
        return next((t for t in self.tokens if t.symbol == symbol.upper()), None)


NETWORKS: dict[int, Network] = {
    n.chain_id: n
    for n in (
        Network(
            1,
            "Ethereum",
            "ETH",
            confirmations=64,
            explorer="https://etherscan.io",
            tokens=(
                Token("USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6),
                Token("USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
                Token("DAI", "0x6B175474E89094C44Da98b954EedeAC495271d0F", 18),
            ),
        ),
        Network(
            56,
            "BNB Smart Chain",
            "BNB",
            confirmations=15,
            explorer="https://bscscan.com",
            poa=True,
            tokens=(
                Token("USDT", "0x55d398326f99059fF775485246999027B3197955", 18),
                Token("USDC", "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", 18),
            ),
        ),
        Network(
            137,
            "Polygon PoS",
            "POL",
            confirmations=128,
            explorer="https://polygonscan.com",
            poa=True,
            tokens=(
                Token("USDT", "0xc2132D05D31c914a87C6611C10748AEb04B58e8F", 6),
                Token("USDC", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", 6),
            ),
        ),
        Network(
            42161,
            "Arbitrum One",
            "ETH",
            confirmations=20,
            explorer="https://arbiscan.io",
            tokens=(
                Token("USDT", "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", 6),
                Token("USDC", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
            ),
        ),
        Network(
            10,
            "OP Mainnet",
            "ETH",
            confirmations=20,
            explorer="https://optimistic.etherscan.io",
            tokens=(
                Token("USDT", "0x94b008aA00579c1307B0EF2c499aD98a8ce58e58", 6),
                Token("USDC", "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", 6),
            ),
        ),
        Network(
            8453,
            "Base",
            "ETH",
            confirmations=20,
            explorer="https://basescan.org",
            tokens=(Token("USDC", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6),),
        ),
        Network(31337, "Local (anvil)", "ETH", confirmations=2),
        Network(1337, "Local (dev)", "ETH", confirmations=2),
        Network(
            ETH_TESTER_CHAIN_ID, "In-process (eth-tester)", "ETH", confirmations=1, finality="depth"
        ),
    )
}


def network(chain_id: int) -> Network:
    """The registered network, or a generic EVM chain with depth-based finality."""
    return NETWORKS.get(chain_id) or Network(chain_id, f"chain {chain_id}", "ETH", finality="depth")


class Networks:
    """The networks above, with the tokens operators add per chain (``DISPUTE_ENGINE_TOKENS``).

    An added token with the address of a registered one replaces it on that chain.
    """

    def __init__(self, tokens: Mapping[int, Sequence[Token]] | None = None) -> None:
        self._tokens = {cid: tuple(added) for cid, added in (tokens or {}).items()}

    def network(self, chain_id: int) -> Network:
        """The network, with the tokens added for it; generic for an unregistered chain."""
        base = network(chain_id)
        added = self._tokens.get(chain_id, ())
        if not added:
            return base
        addresses = {t.address for t in added}
        kept = tuple(t for t in base.tokens if t.address not in addresses)
        return replace(base, tokens=kept + added)

    def known(self, chain_id: int) -> Network | None:
        """The network when it is registered or has tokens added, else None."""
        if chain_id not in NETWORKS and chain_id not in self._tokens:
            return None
        return self.network(chain_id)


class KnownAssets:
    """The AssetRegistry port over the networks: what each chain's decimals are."""

    def __init__(self, networks: Networks | None = None) -> None:
        self.networks = networks or Networks()

    def decimals(self, chain_id: int, asset: str, token_address: str | None) -> int | None:
        """The decimals of a token the chain knows by address, else of its native asset or
        a well-known token by symbol when no address is given; None for anything else."""
        net = self.networks.known(chain_id)
        if net is None:
            return None
        if token_address is not None:
            token = net.token(token_address)
            return None if token is None else token.decimals
        if asset.upper() == net.native_asset:
            return net.native_decimals
        named = net.token_named(asset)
        return None if named is None else named.decimals
