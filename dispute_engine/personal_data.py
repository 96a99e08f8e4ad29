"""Personal data sealed under one data key per claimant, so forgetting a person destroys one key.

Each claimant has an AES-256-GCM data key, stored only wrapped (encrypted) by the master key
from settings. A sealed field is a compact envelope: version, the data key's generation,
nonce, ciphertext. The claimant and the field's purpose are bound in as associated data, so a
sealed value moved to another claimant or another field does not open.

Forgetting a claimant deletes the wrapped key and leaves a tombstone row: whatever was sealed
under that key can never be opened again (it reads as :data:`ERASED`). A later get-or-create
for the same claimant makes a NEW key, of the next generation: a person who comes back can
file again, and the new key cannot read the old data.

Claimant ids are compared in their canonical form (:func:`canonical_id`), so two spellings of
one id share one key and one ``forget`` erases both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dispute_engine.database import Database
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import InvalidInput, PersonalDataErased, PersonalDataRefused
from dispute_engine.settings import Settings

ENVELOPE_VERSION: Final = 1
TEXT_PREFIX: Final = "pd1."
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
# version (1 byte), data key generation (4 bytes, big-endian)
_HEADER: Final = struct.Struct(">BI")
_TAG_BYTES: Final = 16
_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_MAX_CLAIMANT_ID = 200
# Two creators of one claimant's key race on an insert; the loser reads the winner's row.
_CREATE_ATTEMPTS: Final = 5


class Erased:
    """What a view shows in place of personal data whose claimant was forgotten."""

    def __str__(self) -> str:
        return "[erased]"

    def __repr__(self) -> str:
        return "ERASED"


ERASED: Final = Erased()


class MasterKey:
    """A key that wraps the claimants' data keys; ``key_id`` names it without revealing it."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise InvalidInput.of("master_key", f"must be {KEY_BYTES} bytes, not {len(secret)}")
        self._aead = AESGCM(secret)
        self.key_id = hashlib.sha256(b"dispute-engine/master-key-id\0" + secret).hexdigest()[:16]

    @classmethod
    def from_base64(cls, text: str, *, field: str = "master_key") -> MasterKey:
        """A master key from its base64 text. Raises InvalidInput for anything but 32 bytes."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput.of(field, "must be base64 text") from None
        if len(secret) != KEY_BYTES:
            raise InvalidInput.of(field, f"must decode to {KEY_BYTES} bytes, not {len(secret)}")
        return cls(secret)

    @classmethod
    def generate(cls) -> MasterKey:
        """A fresh random master key (tests and first set-up)."""
        return cls(AESGCM.generate_key(bit_length=256))

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """The data key encrypted under this key, bound to ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key inside ``wrapped``. Raises PersonalDataRefused when it does not open."""
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            raise PersonalDataRefused(
                f"a data key does not open under master key {self.key_id}"
            ) from None

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"


def master_keys(settings: Settings) -> tuple[MasterKey, list[MasterKey]]:
    """The current master key and the previous ones, from settings.

    Raises InvalidInput when ``master_key`` is not set or a key is not base64 of 32 bytes.
    """
    if settings.master_key is None:
        raise InvalidInput.of(
            "master_key", "set DISPUTE_ENGINE_MASTER_KEY (base64 of 32 random bytes)"
        )
    current = MasterKey.from_base64(settings.master_key.get_secret_value())
    previous = [
        MasterKey.from_base64(key.get_secret_value(), field=f"previous_master_keys.{i}")
        for i, key in enumerate(settings.previous_master_keys)
    ]
    return current, previous


@dataclass(frozen=True)
class DataKey:
    """One generation of one claimant's data key, unwrapped (held only in memory)."""

    claimant_id: str
    generation: int
    secret: bytes

    def __repr__(self) -> str:
        return f"DataKey(claimant_id={self.claimant_id!r}, generation={self.generation})"


def claimant_key(claimant_id: str) -> str:
    """The canonical claimant id that keys are stored under. Raises InvalidInput."""
    if not isinstance(claimant_id, str):
        raise InvalidInput.of("claimant_id", "must be text")
    if len(claimant_id) > _MAX_CLAIMANT_ID:
        raise InvalidInput.of("claimant_id", f"must be at most {_MAX_CLAIMANT_ID} characters")
    return canonical_id(claimant_id, field="claimant_id")


def _wrap_context(claimant: str, generation: int) -> bytes:
    return f"dispute-engine/data-key/v1\0{claimant}\0{generation}".encode()


def _field_context(claimant: str, purpose: str, generation: int) -> bytes:
    return f"dispute-engine/personal-data/v1\0{claimant}\0{purpose}\0{generation}".encode()


class ClaimantKeys:
    """The table of wrapped data keys and tombstones, on SQLite or PostgreSQL.

    Database errors pass through, for the engine's storage layer to report as
    StorageUnavailable.
    """

    def __init__(
        self,
        db: Database,
        master: MasterKey,
        previous: Sequence[MasterKey] = (),
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.master = master
        self._masters = {k.key_id: k for k in (*previous, master)}
        self._clock = clock or (lambda: datetime.now(UTC))
        self.table = db.table("claimant_data_keys")
        db.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "claimant_id TEXT NOT NULL, generation INTEGER NOT NULL, "
            f"master_key_id TEXT, wrapped {db.blob}, created_at TEXT NOT NULL, "
            "forgotten_at TEXT, PRIMARY KEY (claimant_id, generation))"
        )

    def current(self, claimant_id: str) -> DataKey:
        """The claimant's live data key, created on first use (one key, however many creators).

        After ``forget`` this is a new key of the next generation. Raises InvalidInput for a
        bad claimant id, PersonalDataRefused when the key is under an unknown master key.
        """
        claimant = claimant_key(claimant_id)
        for _ in range(_CREATE_ATTEMPTS):
            rows = self.db.fetchall(
                f"SELECT generation, master_key_id, wrapped FROM {self.table} "
                "WHERE claimant_id = ? ORDER BY generation DESC LIMIT 1",
                (claimant,),
            )
            if rows and rows[0]["wrapped"] is not None:
                return self._unwrap(claimant, rows[0])
            generation = rows[0]["generation"] + 1 if rows else 1
            secret = AESGCM.generate_key(bit_length=256)
            with self.db.transaction() as cursor:
                self.db.execute(
                    cursor,
                    f"INSERT INTO {self.table} (claimant_id, generation, master_key_id, wrapped, "
                    "created_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (claimant_id, generation) DO NOTHING",
                    (
                        claimant,
                        generation,
                        self.master.key_id,
                        self.master.wrap(secret, _wrap_context(claimant, generation)),
                        self._clock().isoformat(),
                    ),
                )
        raise PersonalDataRefused(f"the data key of {claimant!r} keeps changing; try again")

    def get(self, claimant_id: str, generation: int) -> DataKey:
        """One generation of the claimant's key, to open what was sealed under it.

        Raises PersonalDataErased when it was forgotten, PersonalDataRefused when it never
        existed here or its master key is not held.
        """
        claimant = claimant_key(claimant_id)
        rows = self.db.fetchall(
            f"SELECT generation, master_key_id, wrapped FROM {self.table} "
            "WHERE claimant_id = ? AND generation = ?",
            (claimant, generation),
        )
        if not rows:
            raise PersonalDataRefused(f"no data key {generation} for claimant {claimant!r}")
        if rows[0]["wrapped"] is None:
            raise PersonalDataErased(
                f"claimant {claimant!r} was forgotten; the data is erased", claimant_id=claimant
            )
        return self._unwrap(claimant, rows[0])

    def forget(self, claimant_id: str) -> int:
        """Destroy every data key of the claimant, keeping tombstones; the number destroyed.

        Forgetting twice destroys nothing the second time. A claimant never seen gets a
        tombstone too, so nothing sealed for them earlier elsewhere could be re-keyed here.
        """
        claimant = claimant_key(claimant_id)
        now = self._clock().isoformat()
        with self.db.transaction() as cursor:
            self.db.execute(
                cursor,
                f"UPDATE {self.table} SET wrapped = NULL, master_key_id = NULL, "
                "forgotten_at = ? WHERE claimant_id = ? AND wrapped IS NOT NULL "
                "RETURNING generation",
                (now, claimant),
            )
            destroyed = len(cursor.fetchall())
            self.db.execute(
                cursor,
                f"INSERT INTO {self.table} (claimant_id, generation, created_at, forgotten_at) "
                "VALUES (?, 1, ?, ?) ON CONFLICT (claimant_id, generation) DO NOTHING",
                (claimant, now, now),
            )
        return destroyed

    def forgotten(self, claimant_id: str) -> bool:
        """Whether the claimant was forgotten and has no live key since."""
        rows = self.db.fetchall(
            f"SELECT wrapped FROM {self.table} WHERE claimant_id = ? "
            "ORDER BY generation DESC LIMIT 1",
            (claimant_key(claimant_id),),
        )
        return bool(rows) and rows[0]["wrapped"] is None

    def rewrap(self) -> int:
        """Move every live data key under the current master key; the number moved.

        Run after rotating the master key; then the old key can leave ``previous_master_keys``.
        Raises PersonalDataRefused when a key is under a master key that is not held.
        """
        rows = self.db.fetchall(
            f"SELECT claimant_id, generation, master_key_id, wrapped FROM {self.table} "
            "WHERE wrapped IS NOT NULL AND master_key_id <> ?",
            (self.master.key_id,),
        )
        moved = 0
        for row in rows:
            key = self._unwrap(row["claimant_id"], row)
            context = _wrap_context(key.claimant_id, key.generation)
            with self.db.transaction() as cursor:
                # Only if unchanged: a concurrent forget must win over a rewrap.
                self.db.execute(
                    cursor,
                    f"UPDATE {self.table} SET master_key_id = ?, wrapped = ? "
                    "WHERE claimant_id = ? AND generation = ? AND master_key_id = ? "
                    "RETURNING generation",
                    (
                        self.master.key_id,
                        self.master.wrap(key.secret, context),
                        key.claimant_id,
                        key.generation,
                        row["master_key_id"],
                    ),
                )
                moved += len(cursor.fetchall())
        return moved

    def _unwrap(self, claimant: str, row: object) -> DataKey:
        r = dict(row)  # type: ignore[call-overload]
        master = self._masters.get(r["master_key_id"])
        if master is None:
            raise PersonalDataRefused(
                f"the data key of {claimant!r} is wrapped by master key {r['master_key_id']}, "
                "which is not configured (add it to previous_master_keys)"
            )
        generation = int(r["generation"])
        secret = master.unwrap(bytes(r["wrapped"]), _wrap_context(claimant, generation))
        return DataKey(claimant, generation, secret)


class PersonalData:
    """Seals and opens claimants' personal fields; forgetting a claimant erases them.

    ``purpose`` names the field (``claim.description``, ``contact.email``, ``evidence.content``):
    a value sealed for one purpose does not open as another.
    """

    def __init__(self, keys: ClaimantKeys) -> None:
        self.keys = keys

    def seal_bytes(self, claimant_id: str, purpose: str, value: bytes) -> bytes:
        """The value encrypted under the claimant's data key, as an envelope.

        Raises InvalidInput for a bad claimant id, purpose or value.
        """
        _check_purpose(purpose)
        if not isinstance(value, bytes):
            raise InvalidInput.of(purpose, "must be bytes")
        key = self.keys.current(claimant_id)
        nonce = os.urandom(NONCE_BYTES)
        context = _field_context(key.claimant_id, purpose, key.generation)
        ciphertext = AESGCM(key.secret).encrypt(nonce, value, context)
        return _HEADER.pack(ENVELOPE_VERSION, key.generation) + nonce + ciphertext

    def open_bytes(self, claimant_id: str, purpose: str, sealed: bytes) -> bytes:
        """The value inside an envelope from :meth:`seal_bytes`.

        Raises PersonalDataErased once the claimant is forgotten, PersonalDataRefused for a
        damaged envelope or one sealed for another claimant or purpose.
        """
        _check_purpose(purpose)
        if not isinstance(sealed, bytes) or len(sealed) < _HEADER.size + NONCE_BYTES + _TAG_BYTES:
            raise PersonalDataRefused("not a sealed personal data envelope")
        version, generation = _HEADER.unpack_from(sealed)
        if version != ENVELOPE_VERSION:
            raise PersonalDataRefused(f"unknown envelope version {version}")
        key = self.keys.get(claimant_id, generation)
        nonce = sealed[_HEADER.size : _HEADER.size + NONCE_BYTES]
        context = _field_context(key.claimant_id, purpose, generation)
        try:
            return AESGCM(key.secret).decrypt(nonce, sealed[_HEADER.size + NONCE_BYTES :], context)
        except InvalidTag:
            raise PersonalDataRefused(
                f"this {purpose} was not sealed for claimant {key.claimant_id!r} or was damaged"
            ) from None

    def seal(self, claimant_id: str, purpose: str, value: str) -> str:
        """A text field sealed as printable text (``pd1.`` + base64url), for events and views."""
        if not isinstance(value, str):
            raise InvalidInput.of(purpose, "must be text")
        sealed = self.seal_bytes(claimant_id, purpose, value.encode())
        return TEXT_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, claimant_id: str, purpose: str, sealed: str) -> str:
        """The text inside a value from :meth:`seal`. Raises as :meth:`open_bytes`."""
        if not isinstance(sealed, str) or not sealed.startswith(TEXT_PREFIX):
            raise PersonalDataRefused("not a sealed personal data text")
        body = sealed.removeprefix(TEXT_PREFIX)
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise PersonalDataRefused("not a sealed personal data text") from None
        return self.open_bytes(claimant_id, purpose, raw).decode()

    def reveal(self, claimant_id: str, purpose: str, sealed: str) -> str | Erased:
        """The text for a view: the clear value, or :data:`ERASED` once forgotten."""
        try:
            return self.open(claimant_id, purpose, sealed)
        except PersonalDataErased:
            return ERASED

    def forget(self, claimant_id: str) -> int:
        """Destroy the claimant's data keys: all their sealed data is erased for good."""
        return self.keys.forget(claimant_id)


def _check_purpose(purpose: str) -> None:
    if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
        raise InvalidInput.of(
            "purpose", "must be a lower-case name of at most 64 characters, like claim.description"
        )
