"""Web3TransactionLookup: what a transaction did on chain, one at a time or in batches."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from web3._utils.method_formatters import PYTHONIC_RESULT_FORMATTERS
from web3._utils.rpc_abi import RPC
from web3.exceptions import BadFunctionCallOutput, TransactionNotFound, Web3RPCError

from chain.client import ChainClient
from chain.clients import ChainClients
from dispute_engine.domain.chain_facts import ChainFacts, TokenTransfer, finality
from dispute_engine.domain.errors import (
    ChainNotConfigured,
    ChainUnavailable,
    DisputeEngineError,
)

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
DECIMALS_CALL = "0x313ce567"
SYMBOL_CALL = "0x95d89b41"
Clock = Callable[[], datetime]
# What a node answers for what it does not have (a finality tag, a token's metadata).
OPTIONAL_FAULTS = (Web3RPCError, BadFunctionCallOutput, DecodingError, ValueError)


def _hex(value: Any) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


def _formatted(formatter: Callable[[Any], Any], raw: Any) -> Any:
    """A batch result through web3's formatter; None and per-call failures stay as they are."""
    return raw if raw is None or isinstance(raw, ChainUnavailable) else formatter(raw)


def _found(result: Any) -> bool:
    return result is not None and not isinstance(result, ChainUnavailable)


def _ok(result: Any) -> Any:
    """A batch result that the whole chunk needs. Raises its ChainUnavailable."""
    if isinstance(result, ChainUnavailable):
        raise result
    return result


def _hash(value: Any) -> str:
    text = _hex(value)
    return text if text.startswith("0x") else "0x" + text


class Web3TransactionLookup:
    """The TransactionLookup port over web3: one node per chain id."""

    def __init__(
        self,
        clients: ChainClients | Mapping[int, str],
        *,
        timeout: float = 10.0,
        clock: Clock | None = None,
        batch_size: int = 200,
        max_workers: int = 4,
    ) -> None:
        """Look up on the given clients (or, for a mapping of chain id to URL, new ones)."""
        self.clients = (
            clients if isinstance(clients, ChainClients) else ChainClients(clients, timeout=timeout)
        )
        self.clock = clock or (lambda: datetime.now(UTC))
        self.batch_size = batch_size
        self.max_workers = max_workers
        self._tokens: dict[tuple[int, str], tuple[int | None, str | None]] = {}

    def client(self, chain_id: int) -> ChainClient:
        """The node of a chain. Raises ChainNotConfigured."""
        return self.clients.client(chain_id)

    # -- one at a time --------------------------------------------------------------

    def look_up(self, chain_id: int, tx_hash: str) -> ChainFacts:
        """The facts of one transaction. Raises ChainUnavailable, ChainNotConfigured."""
        client = self.client(chain_id)
        eth = client.web3.eth

        def fetch() -> ChainFacts:
            try:
                tx = eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return self._not_found(client, tx_hash)
            if tx["blockNumber"] is None:
                return self._facts(client, tx, None, None, eth.block_number, None)
            receipt = eth.get_transaction_receipt(tx["hash"])
            # By hash: a reorg between the two reads fails the lookup instead of pairing the
            # receipt with another block's time.
            block = eth.get_block(receipt["blockHash"])
            finalized = self._finalized(client)
            return self._facts(client, tx, receipt, block, eth.block_number, finalized)

        return client.call(fetch)

    def _finalized(self, client: ChainClient) -> int | None:
        if client.network.finality != "tag":
            return None
        try:
            return int(client.web3.eth.get_block("finalized")["number"])
        except OPTIONAL_FAULTS:
            return None  # the node has no finality tag: fall back to depth

    # -- batches ----------------------------------------------------------------------

    def look_up_many(
        self, requests: Sequence[tuple[int, str]]
    ) -> list[ChainFacts | DisputeEngineError]:
        """Facts for many transactions, batched per chain with bounded concurrency.

        One unknown hash, or one failing chunk, fails only its own entries: each entry is
        the facts or the error (ChainUnavailable, ChainNotConfigured) for that request.
        """
        results: list[ChainFacts | DisputeEngineError | None] = [None] * len(requests)
        chunks: list[tuple[int, list[int]]] = []
        for chain_id in dict.fromkeys(cid for cid, _ in requests):
            indexes = [i for i, (cid, _) in enumerate(requests) if cid == chain_id]
            for start in range(0, len(indexes), self.batch_size):
                chunks.append((chain_id, indexes[start : start + self.batch_size]))

        def run(chunk: tuple[int, list[int]]) -> None:
            chain_id, indexes = chunk
            hashes = [requests[i][1] for i in indexes]
            try:
                found: Sequence[ChainFacts | DisputeEngineError] = self._chunk(chain_id, hashes)
            except (ChainUnavailable, ChainNotConfigured) as exc:
                found = [exc] * len(indexes)
            for i, facts in zip(indexes, found, strict=True):
                results[i] = facts

        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            list(pool.map(run, chunks))
        return [r for r in results if r is not None]

    def _chunk(self, chain_id: int, hashes: list[str]) -> Sequence[ChainFacts | DisputeEngineError]:
        client = self.client(chain_id)
        if not client.batches:
            return [self.look_up(chain_id, h) for h in hashes]
        # Garbage anywhere in the answers fails the chunk as ChainUnavailable.
        return client.call(partial(self._batched, client, hashes))

    def _batched(
        self, client: ChainClient, hashes: list[str]
    ) -> list[ChainFacts | DisputeEngineError]:
        fmt = PYTHONIC_RESULT_FORMATTERS
        tagged = client.network.finality == "tag"
        calls: list[tuple[str, list[Any]]] = [("eth_getTransactionByHash", [h]) for h in hashes]
        calls.append(("eth_blockNumber", []))
        if tagged:
            calls.append(("eth_getBlockByNumber", ["finalized", False]))
        first = client.batch(calls)
        txs = [_formatted(fmt[RPC.eth_getTransactionByHash], t) for t in first[: len(hashes)]]
        latest = int(_ok(first[len(hashes)]), 16)
        final_block = first[len(hashes) + 1] if tagged else None
        # An error for the tag means the node has none: fall back to depth, as look_up does.
        finalized = int(final_block["number"], 16) if isinstance(final_block, dict) else None

        mined = [t for t in txs if isinstance(t, Mapping) and t["blockNumber"] is not None]
        receipts_raw = (
            client.batch([("eth_getTransactionReceipt", [_hash(t["hash"])]) for t in mined])
            if mined
            else []
        )
        receipts = {
            _hash(t["hash"]): _formatted(fmt[RPC.eth_getTransactionReceipt], r)
            for t, r in zip(mined, receipts_raw, strict=True)
        }
        # By hash, as in look_up: the block time always belongs to the receipt's block.
        block_hashes = sorted({_hash(r["blockHash"]) for r in receipts.values() if _found(r)})
        blocks_raw = (
            client.batch([("eth_getBlockByHash", [h, False]) for h in block_hashes])
            if block_hashes
            else []
        )
        blocks = {
            h: _formatted(fmt[RPC.eth_getBlockByHash], b)
            for h, b in zip(block_hashes, blocks_raw, strict=True)
        }

        facts: list[ChainFacts | DisputeEngineError] = []
        for tx_hash, tx in zip(hashes, txs, strict=True):
            if not _found(tx):
                facts.append(tx if tx is not None else self._not_found(client, tx_hash))
                continue
            receipt: Any = receipts.get(_hash(tx["hash"]))
            block = blocks.get(_hash(receipt["blockHash"])) if _found(receipt) else None
            if _found(receipt) and not _found(block):
                # A mined transaction whose block the node did not give: retry, never
                # record facts without a block time.
                facts.append(block or client.failed("eth_getBlockByHash", "no such block"))
            elif isinstance(receipt, ChainUnavailable):
                facts.append(receipt)
            else:
                facts.append(self._facts(client, tx, receipt, block, latest, finalized))
        return facts

    # -- assembling facts ----------------------------------------------------------------

    def _not_found(self, client: ChainClient, tx_hash: str) -> ChainFacts:
        net = client.network
        return ChainFacts(
            chain_id=net.chain_id,
            tx_hash=tx_hash,
            status="not_found",
            native_asset=net.native_asset,
            native_decimals=net.native_decimals,
            observed_at=self.clock(),
        )

    def _facts(
        self,
        client: ChainClient,
        tx: Any,
        receipt: Any | None,
        block: Any | None,
        latest: int,
        finalized_block: int | None,
    ) -> ChainFacts:
        net = client.network
        number = int(receipt["blockNumber"]) if receipt else None
        confirmations, final = finality(
            number,
            latest=latest,
            finalized_block=finalized_block,
            required_confirmations=net.confirmations,
        )
        if receipt is None:
            status = "pending"
        else:
            status = "success" if int(receipt["status"]) == 1 else "failed"
        transfers = (
            self._transfers(client, receipt["logs"]) if receipt and status == "success" else ()
        )
        return ChainFacts(
            chain_id=net.chain_id,
            tx_hash=_hash(tx["hash"]),
            status=status,
            block_number=number,
            block_hash=_hash(receipt["blockHash"]) if receipt else None,
            block_time=datetime.fromtimestamp(int(block["timestamp"]), UTC) if block else None,
            confirmations=confirmations,
            finalized=final,
            sender=tx["from"],
            recipient=tx["to"],
            native_units=int(tx["value"]),
            native_asset=net.native_asset,
            native_decimals=net.native_decimals,
            token_transfers=transfers,
            observed_at=self.clock(),
        )

    def _transfers(self, client: ChainClient, logs: Sequence[Any]) -> tuple[TokenTransfer, ...]:
        transfers = []
        for log in logs:
            topics = [_hash(t) for t in log["topics"]]
            if len(topics) != 3 or topics[0] != TRANSFER_TOPIC:
                continue  # not an ERC-20 Transfer (ERC-721 transfers index a third topic)
            token = to_checksum_address(log["address"])
            decimals, symbol = self._token(client, token)
            data = log["data"]
            transfers.append(
                TokenTransfer(
                    token_address=token,
                    sender=to_checksum_address("0x" + topics[1][-40:]),
                    recipient=to_checksum_address("0x" + topics[2][-40:]),
                    units=int(_hex(data).removeprefix("0x") or "0", 16),
                    decimals=decimals,
                    symbol=symbol,
                    log_index=int(log["logIndex"]),
                )
            )
        return tuple(transfers)

    def token_decimals(self, chain_id: int, token_address: str) -> int | None:
        """The token's decimals: the registry's when the chain knows it, else the contract's
        ``decimals()``; None when it has none. Raises ChainUnavailable, ChainNotConfigured."""
        client = self.client(chain_id)
        address = to_checksum_address(token_address)
        return client.call(lambda: self._token(client, address)[0])

    def _token(self, client: ChainClient, address: str) -> tuple[int | None, str | None]:
        key = (client.network.chain_id, address)
        if key not in self._tokens:
            known = client.network.token(address)
            if known is not None:
                self._tokens[key] = (known.decimals, known.symbol)
            else:
                self._tokens[key] = (
                    self._read(client, address, DECIMALS_CALL, "uint8"),
                    self._read(client, address, SYMBOL_CALL, "string"),
                )
        return self._tokens[key]

    @staticmethod
    def _read(client: ChainClient, address: str, selector: str, kind: str) -> Any:
        eth = client.web3.eth
        try:
            raw = eth.call({"to": address, "data": selector})  # type: ignore[typeddict-item]
            return decode([kind], raw)[0]
        except OPTIONAL_FAULTS:
            return None  # not every token implements the optional metadata
