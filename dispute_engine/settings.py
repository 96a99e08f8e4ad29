"""Settings from the environment (``DISPUTE_ENGINE_*``) with sensible embedded defaults."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispute_engine.domain.claim import Jurisdiction
from dispute_engine.domain.evidence import MAX_EVIDENCE_BYTES
from dispute_engine.domain.review import DEFAULT_APPROVAL_POLICY

DEFAULT_DB = "sqlite:///./disputes.db"


class PayoutLimit(BaseModel):
    """How much of one asset the payout gateway sends at most, in the asset's units."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_payout: Decimal = Field(gt=0, allow_inf_nan=False)
    per_day: Decimal = Field(gt=0, allow_inf_nan=False)


class WebhookTarget(BaseModel):
    """A Standard Webhooks gateway for one notice channel (chat, app, social, phone)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://[^\s/]+")
    secret: SecretStr  # ``whsec_`` and base64, as the gateway issued it


class SmtpTarget(BaseModel):
    """The mail server the ``email`` channel sends through."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3, max_length=254)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None


class TokenSetting(BaseModel):
    """A token an operator adds to a chain's registry: its symbol, address and decimals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.\-]+$")
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    decimals: int = Field(ge=0, le=77)

    @field_validator("address")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        """The address in EIP-55 form, as the chain adapters compare addresses."""
        return to_checksum_address(value)

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class Settings(BaseSettings):
    """How the engine is configured: database, chains, policies.

    ``DISPUTE_ENGINE_DB=postgresql://...``, ``DISPUTE_ENGINE_CHAINS='{"1": "http://..."}'``.
    """

    model_config = SettingsConfigDict(env_prefix="DISPUTE_ENGINE_", frozen=True)

    db: str = DEFAULT_DB
    chains: dict[int, str] = Field(default_factory=dict)
    # Checked as a claim's own jurisdiction is: filings without one are recorded with it.
    default_jurisdiction: Jurisdiction = "US"
    appeal_window_days: int = Field(default=30, ge=0)
    conflict_retries: int = Field(default=30, ge=0, le=100)
    snapshot_interval: int = Field(default=100, ge=0)  # events between snapshots; 0: none
    # Disputes an engine keeps as it last saved them, so its next command on one skips the
    # load (a stale copy is caught by the save and the command redone); 0: none kept. A
    # command on a kept copy does not re-read the stored history: an event edited in place
    # outside the engine is found by reads and the audit, not by that command.
    command_cache_size: int = Field(default=0, ge=0)
    max_evidence_bytes: int = Field(default=MAX_EVIDENCE_BYTES, gt=0, le=MAX_EVIDENCE_BYTES)
    postgres_pool_size: int = Field(default=5, ge=1)
    chain_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    time_tolerance_minutes: int = Field(default=60, ge=0)
    hot_wallet_key: SecretStr | None = None
    # Per asset symbol: ``{"USDT": {"per_payout": "500", "per_day": "5000"}}``; an asset
    # without an entry has no limit.
    payout_limits: dict[str, PayoutLimit] = Field(default_factory=dict)
    # Per asset symbol, the amount above which a decision needs two distinct approvers:
    # ``{"USDT": "10000"}``; an asset without an entry always needs two.
    second_approval_above: dict[str, Decimal] = Field(
        default_factory=lambda: dict(DEFAULT_APPROVAL_POLICY.second_approval_above)
    )
    # Per chain id, tokens the registry should know besides its well-known ones:
    # ``{"31337": [{"symbol": "TUSD", "address": "0x...", "decimals": 6}]}``.
    tokens: dict[int, list[TokenSetting]] = Field(default_factory=dict)
    event_cipher_key: SecretStr | None = None  # AES key (base64): events encrypted at rest
    # Ed25519 private key (hex or base64 of 32 bytes, or a key file) that seals events and
    # signs checkpoints; retired public keys keep the seals they made verifiable.
    sealing_key: SecretStr | None = None
    retired_sealing_keys: tuple[str, ...] = ()
    # The audit log signs a checkpoint of its size and root every N events or T seconds, and
    # appends it to checkpoints.jsonl in the witness folder (another volume or host's mount)
    # and, if set, POSTs it to the witness URL.
    checkpoint_every_events: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=300.0, gt=0)
    witness_dir: Path | None = None
    witness_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+")
    # Wraps every claimant's data key (base64, 32 bytes). On rotation the old one moves to
    # previous_master_keys until `rewrap` has moved every data key under the new one.
    master_key: SecretStr | None = None
    previous_master_keys: list[SecretStr] = Field(default_factory=list)
    # Where notices go: a webhook gateway per channel name, and a mail server for ``email``.
    notice_webhooks: dict[str, WebhookTarget] = Field(default_factory=dict)
    smtp: SmtpTarget | None = None
    # The site named in wallet challenges (EIP-4361 style): the desk's own domain.
    challenge_domain: str = Field(
        default="localhost",
        max_length=253,
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$",
    )
    # The event feed for integrators (NATS JetStream); no URL: no feed view.
    feed_url: str | None = None
    feed_stream: str = Field(default="DISPUTES", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    feed_subject_prefix: str = Field(
        default="disputes", pattern=r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$"
    )
    # Directory mode: whoever acts must be an active member of the staff directory and acts
    # with the directory's roles; approvals, send-backs and executions must be signed.
    require_directory: bool = False

    @property
    def time_tolerance(self) -> timedelta:
        """How far the chain's block time may be from the claimed time without a mismatch."""
        return timedelta(minutes=self.time_tolerance_minutes)

    @property
    def appeal_window(self) -> timedelta:
        """How long after resolution a dispute may be reopened."""
        return timedelta(days=self.appeal_window_days)
