"""Valid inputs to start from; tests override the field they are about."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from dispute_engine import DisputeEngine, FileDispute, Settings
from dispute_engine.payout_ledger import PayoutLedger
from dispute_engine.seals import SigningKey

USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
SENDER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
RECIPIENT = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
# Proposals on disputes never looked up: the chain vouches for nothing, which they name,
# and the reason's checklist is left open on purpose.
UNCHECKED = ("no_lookup", "amount", "checklist")
# A rejection decided without working the checklist.
UNCHECKED_REJECTION = ("checklist",)
# The engine's sealing key in tests that seal events.
SEALING_KEY = SigningKey.generate()


def sealed_settings(
    key: SigningKey = SEALING_KEY,
    *,
    retired: tuple[SigningKey, ...] = (),
    witness: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Settings that seal events with ``key`` (and trust the retired keys' seals)."""
    return Settings(
        sealing_key=SecretStr(key.private_bytes().hex()),
        retired_sealing_keys=tuple(k.public_key.hex() for k in retired),
        witness_dir=witness,
        **overrides,
    )


def sealed_env(key: SigningKey = SEALING_KEY, witness: Path | None = None) -> dict[str, str]:
    """The same settings as environment variables, for the command line."""
    env = {"DISPUTE_ENGINE_SEALING_KEY": key.private_bytes().hex()}
    if witness is not None:
        env["DISPUTE_ENGINE_WITNESS_DIR"] = str(witness)
    return env


def transaction(**overrides: Any) -> dict[str, Any]:
    """A claimed USDT transfer on Ethereum."""
    return {
        "chain_id": 1,
        "tx_hash": "0x" + "ab" * 32,
        "asset": "USDT",
        "token_address": USDT,
        "amount": "125.50",
        "sender": SENDER,
        "recipient": RECIPIENT,
        "occurred_at": "2026-11-20T08:15:00Z",
        **overrides,
    }


def filing(**overrides: Any) -> dict[str, Any]:
    """The fields of a valid FileDispute, as plain data.

    Each idempotency key claims a transaction of its own (no linked claims), and the same key
    the same transaction, so a retried filing is the same claim.
    """
    key = overrides.pop("idempotency_key", f"key-{uuid.uuid4()}")
    own = "0x" + hashlib.sha256(key.encode()).hexdigest()
    tx = transaction(**{"tx_hash": own, **overrides.pop("transaction", {})})
    return {
        "claimant_id": "user-1842",
        "channel": "chat",
        "language": "zh",
        "jurisdiction": "US",
        "priority": "normal",
        "reason": "not_received",
        "transaction": tx,
        "description": "Sent 125.50 USDT to the exchange, never credited",
        "idempotency_key": key,
        **overrides,
    }


def file_dispute(engine: DisputeEngine, by: Any, **overrides: Any) -> uuid.UUID:
    """File a valid dispute (with overrides) and return its id."""
    return engine.file_dispute(FileDispute.model_validate(filing(**overrides)), by=by)


def stored_rows(engine: DisputeEngine) -> tuple[int, int, int]:
    """Counts of stored events, evidence blobs and payout instructions: the whole footprint."""
    db = engine._core.db

    def count(table: str) -> int:
        return int(db.fetchall(f"SELECT COUNT(*) AS n FROM {db.table(table)}")[0]["n"])

    ledger = isinstance(engine._core.payout_gateway, PayoutLedger)
    sealing = engine._core.settings.master_key is not None  # evidence sealed in its own table
    return (
        int(db.fetchall(f"SELECT COUNT(*) AS n FROM {engine._core.events_table}")[0]["n"]),
        count("evidence_blobs") + (count("sealed_evidence_blobs") if sealing else 0),
        count("payout_instructions") if ledger else 0,
    )
