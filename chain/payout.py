"""Web3PayoutGateway: refunds sent on chain from a hot wallet, never twice.

Before a transfer is sent, its signed bytes and nonce are recorded under the instruction's
key. A retry after a crash (between recording and sending, or between sending and the
engine saving its event) finds the record and re-broadcasts the same signed transaction,
which the chain includes at most once because its nonce is spent once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from eventsourcing.persistence import IntegrityError
from pydantic import SecretStr
from web3.exceptions import TransactionNotFound

from chain.clients import ChainClients
from dispute_engine.database import Database
from dispute_engine.domain.errors import PayoutFailed
from dispute_engine.error_mapping import payout_refusals
from dispute_engine.payout_guard import PayoutGuard
from dispute_engine.ports import PayoutInstruction, PayoutReceipt

TRANSFER_SELECTOR = "0xa9059cbb"
RECORD_ATTEMPTS = 5


class Web3PayoutGateway:
    """A PayoutGateway paying native coins or ERC-20 tokens from one hot wallet."""

    def __init__(
        self,
        db: Database,
        nodes: ChainClients,
        key: SecretStr,
        guard: PayoutGuard | None = None,
    ) -> None:
        self.db = db
        self.nodes = nodes
        self.guard = guard
        self._account: LocalAccount = Account.from_key(key.get_secret_value())
        self._lock = threading.Lock()
        self.table = db.table("chain_payouts")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "key TEXT PRIMARY KEY, chain_id BIGINT NOT NULL, sender TEXT NOT NULL, "
            "nonce BIGINT NOT NULL, tx_hash TEXT NOT NULL, raw TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, UNIQUE (chain_id, sender, nonce))"
        )

    @property
    def address(self) -> str:
        """The hot wallet's address (never its key)."""
        return str(self._account.address)

    def pay(self, instruction: PayoutInstruction) -> PayoutReceipt:
        """Send the refund once; a repeated key re-broadcasts the recorded transfer.

        A new key passes the guard first. Raises PayoutRefused (nothing sent), PayoutFailed,
        ChainUnavailable.
        """
        client = self.nodes.client(instruction.chain_id)
        admitted = False
        if self.guard is not None and self._recorded(instruction.key) is None:
            admitted = self.guard.admit(instruction)
        try:
            with self._lock:
                (tx_hash, raw), created = self._record_once(instruction)
        except Exception:
            if admitted and self.guard is not None:
                self.guard.release(instruction.key)  # nothing was signed: it does not count
            raise
        eth = client.web3.eth

        def known() -> bool:
            try:
                eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return False
            return True  # on chain or in the pool: nothing to send

        def broadcast() -> None:
            if known():
                return
            with payout_refusals(instruction.key, already_sent=known):
                eth.send_raw_transaction(HexStr(raw))

        client.call(broadcast)
        return PayoutReceipt(key=instruction.key, reference=tx_hash, created=created)

    def _record_once(self, instruction: PayoutInstruction) -> tuple[tuple[str, str], bool]:
        """The transfer recorded for the key, and whether this call recorded it.

        Another process may record the same key, or take the nonce, between the read and the
        insert: the unique keys refuse the second insert, and the record is read again.
        Raises PayoutFailed (nothing recorded) when the nonce keeps being taken.
        """
        for _ in range(RECORD_ATTEMPTS):
            recorded = self._recorded(instruction.key)
            if recorded is not None:
                return recorded, False
            try:
                return self._sign_and_record(instruction), True
            except IntegrityError:
                continue
        raise PayoutFailed(
            f"payout {instruction.key}: other payouts kept taking the hot wallet's nonce; retry"
        )

    def _recorded(self, key: str) -> tuple[str, str] | None:
        rows = self.db.fetchall(f"SELECT tx_hash, raw FROM {self.table} WHERE key = ?", (key,))
        return (str(rows[0]["tx_hash"]), str(rows[0]["raw"])) if rows else None

    def _sign_and_record(self, i: PayoutInstruction) -> tuple[str, str]:
        client = self.nodes.client(i.chain_id)
        eth = client.web3.eth
        sender = self.address
        rows = self.db.fetchall(
            f"SELECT MAX(nonce) AS n FROM {self.table} WHERE chain_id = ? AND sender = ?",
            (i.chain_id, sender),
        )
        last = rows[0]["n"]
        pending = client.call(lambda: eth.get_transaction_count(sender, "pending"))  # type: ignore[arg-type]
        nonce = max(pending, -1 if last is None else int(last) + 1)
        to = to_checksum_address(i.to_address)
        if i.token_address is None:
            target, value, data = to, i.units, "0x"
        else:
            target, value = to_checksum_address(i.token_address), 0
            data = TRANSFER_SELECTOR + to[2:].lower().rjust(64, "0") + f"{i.units:064x}"
        base: dict[str, Any] = {
            "chainId": i.chain_id,
            "nonce": nonce,
            "from": sender,
            "to": target,
            "value": value,
            "data": data,
        }
        gas = client.call(lambda: eth.estimate_gas(base))  # type: ignore[arg-type]
        fee = client.call(lambda: eth.gas_price)
        signed = self._account.sign_transaction(
            {
                **base,
                "gas": gas,
                "maxFeePerGas": fee * 2,
                "maxPriorityFeePerGas": fee // 10 or 1,
                "type": 2,
            }
        )
        tx_hash = "0x" + bytes(signed.hash).hex()
        raw = "0x" + bytes(signed.raw_transaction).hex()
        with self.db.transaction() as cursor:
            self.db.execute(
                cursor,
                f"INSERT INTO {self.table} (key, chain_id, sender, nonce, tx_hash, raw, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (i.key, i.chain_id, sender, nonce, tx_hash, raw, datetime.now(UTC).isoformat()),
            )
        return tx_hash, raw
