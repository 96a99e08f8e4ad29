"""Ed25519 seals on stored events, by the engine's key, and the key ring that checks them.

A seal covers a canonical, length-prefixed encoding of what the store keeps for an event
(originator id, version, topic, state bytes), so an event inserted or changed by anyone without
the key has no valid seal. A seal names its key by id, so a rotated-out key still checks the
seals it made. The same encoding is the event's leaf in the transparency log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dispute_engine.domain.errors import InvalidInput
from dispute_engine.merkle import leaf_hash

EVENT_DOMAIN = b"dispute-engine/event-seal/v1\x00"
KEY_BYTES = 32
SIGNATURE_BYTES = 64
_CHECKS_PER_THREAD = 500  # fewer checks than this per core are not worth a thread


class InvalidSeal(ValueError):
    """Raised when a seal or signature does not verify: unknown key, bad bytes, wrong content."""


_EIGHT = (8).to_bytes(8, "big")  # the length prefix of a version
_UUID_AND_VERSION_PREFIX = EVENT_DOMAIN + (16).to_bytes(8, "big")  # then the originator id


def event_message(originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The bytes a seal covers: a domain prefix, then each field as 8-byte length + value.

    The length prefixes keep field boundaries unambiguous (``topic`` "a", state "bc" differs
    from topic "ab", state "c"); the prefix keeps an event seal from being read as any other
    signature by the same key.
    """
    if version < 0:
        raise ValueError(f"an event version is not negative, got {version}")
    name = topic.encode()
    return b"".join(
        (
            _UUID_AND_VERSION_PREFIX,
            originator_id.bytes,
            _EIGHT,
            version.to_bytes(8, "big"),
            len(name).to_bytes(8, "big"),
            name,
            len(state).to_bytes(8, "big"),
            state,
        )
    )


def event_leaf_hash(originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The event's leaf in the transparency log: the RFC 6962 leaf hash of what its seal covers."""
    return leaf_hash(event_message(originator_id, version, topic, state))


def key_id(public_key: bytes) -> str:
    """The id of a public key: the first 8 bytes of sha256 of its 32 raw bytes, in hex."""
    return hashlib.sha256(public_key).digest()[:8].hex()


@dataclass(frozen=True)
class Seal:
    """A signature by the key ``key_id`` over an event's canonical encoding."""

    key_id: str
    signature: bytes

    def to_text(self) -> str:
        """The form kept beside the event: ``key_id:base64(signature)``."""
        return f"{self.key_id}:{base64.b64encode(self.signature).decode('ascii')}"

    @classmethod
    def from_text(cls, text: str) -> Seal:
        """Read a seal written by :meth:`to_text`; raises InvalidSeal if malformed."""
        kid, _, encoded = text.partition(":")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise InvalidSeal("the seal's signature is not base64") from error
        if not kid or len(signature) != SIGNATURE_BYTES:
            raise InvalidSeal("a seal is a key id and a 64-byte signature")
        return cls(kid, signature)


class SigningKey:
    """The engine's private key: signs seals and checkpoints."""

    def __init__(self, private_key: bytes) -> None:
        if len(private_key) != KEY_BYTES:
            raise InvalidInput.of("sealing_key", f"must be {KEY_BYTES} bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def private_bytes(self) -> bytes:
        """The 32 raw private bytes, for a key file."""
        return self._key.private_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature over ``message``."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r})"


class KeyRing:
    """The current signing key (if this process signs) and every public key by key id.

    Rotation adds a new current key and keeps the old public keys, so old seals still verify.
    """

    def __init__(
        self, current: SigningKey | None = None, public_keys: Iterable[bytes] = ()
    ) -> None:
        self.current = current
        self._public: dict[str, Ed25519PublicKey] = {}
        for raw in public_keys:
            self.add_public_key(raw)
        if current is not None:
            self.add_public_key(current.public_key)

    def add_public_key(self, raw: bytes) -> str:
        """Trust one more public key; returns its key id. Raises InvalidInput if malformed."""
        if len(raw) != KEY_BYTES:
            raise InvalidInput.of("public_key", f"must be {KEY_BYTES} bytes")
        kid = key_id(raw)
        self._public[kid] = Ed25519PublicKey.from_public_bytes(raw)
        return kid

    def public_keys(self) -> dict[str, bytes]:
        """Every trusted public key by key id, for a bundle or a witness."""
        return {kid: key.public_bytes_raw() for kid, key in sorted(self._public.items())}

    def sign(self, message: bytes) -> tuple[str, bytes]:
        """The current key's id and its signature over ``message``; raises InvalidSeal if none."""
        if self.current is None:
            raise InvalidSeal("this key ring holds no signing key")
        return self.current.key_id, self.current.sign(message)

    def verify(self, kid: str, signature: bytes, message: bytes) -> None:
        """Check a signature by the key ``kid``; raises InvalidSeal if it does not hold."""
        key = self._public.get(kid)
        if key is None:
            raise InvalidSeal(f"unknown key id {kid!r}")
        try:
            key.verify(signature, message)
        except InvalidSignature as error:
            raise InvalidSeal(f"the signature by key {kid} does not verify") from error

    def verify_all(self, checks: Sequence[tuple[str, bytes, bytes]]) -> list[bool]:
        """Whether each ``(key id, signature, message)`` holds (False for an unknown key).

        Large sets are split over a thread per core: the Ed25519 check releases the GIL.
        """
        workers = min(os.cpu_count() or 1, len(checks) // _CHECKS_PER_THREAD)
        if workers < 2:
            return self._holds(checks)
        step = -(-len(checks) // workers)
        with ThreadPoolExecutor(workers) as pool:
            parts = pool.map(
                self._holds, [checks[i : i + step] for i in range(0, len(checks), step)]
            )
            return [holds for part in parts for holds in part]

    def _holds(self, checks: Sequence[tuple[str, bytes, bytes]]) -> list[bool]:
        found = []
        public = self._public
        for kid, signature, message in checks:
            key = public.get(kid)
            if key is None:
                found.append(False)
                continue
            try:
                key.verify(signature, message)
            except InvalidSignature:
                found.append(False)
            else:
                found.append(True)
        return found

    def seal_event(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Seal:
        """Seal one stored event with the current key."""
        kid, signature = self.sign(event_message(originator_id, version, topic, state))
        return Seal(kid, signature)

    def verify_event(
        self, seal: Seal, originator_id: UUID, version: int, topic: str, state: bytes
    ) -> None:
        """Check an event's seal; raises InvalidSeal if the event is not what was sealed."""
        self.verify(
            seal.key_id, seal.signature, event_message(originator_id, version, topic, state)
        )


def decode_key(text: str, *, field: str = "sealing_key") -> bytes:
    """32 key bytes from hex or base64 text; raises InvalidInput otherwise."""
    text = text.strip()
    try:
        raw = (
            bytes.fromhex(text)
            if len(text) == 2 * KEY_BYTES
            else base64.b64decode(text, validate=True)
        )
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise InvalidInput.of(field, f"must be {KEY_BYTES} bytes as hex or base64, or a key file")
    return raw


def load_signing_key(value: str) -> SigningKey:
    """The engine's key from settings: hex or base64 of 32 private bytes, or a file holding them.

    Raises InvalidInput when neither reads as a key.
    """
    if len(value) < 4096:
        try:
            path = Path(value.strip()).expanduser()
            text = path.read_text(encoding="ascii", errors="replace") if path.is_file() else None
        except (OSError, RuntimeError):  # RuntimeError: "~someone" with no such user
            text = None
        if text is not None:
            return SigningKey(decode_key(text))
    return SigningKey(decode_key(value))


def ensure_key_file(path: Path) -> SigningKey:
    """The key in ``path``, made (hex, owner-only) if there is none yet, as the demo needs.

    Two processes starting at once get the same key: the file appears whole or not at all.
    Raises OSError when the folder cannot be written, InvalidInput when the file holds no key.
    """
    if path.is_file():
        return load_signing_key(str(path))
    key = SigningKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.private_bytes().hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return load_signing_key(str(path))
    finally:
        temporary.unlink()
    return key


def key_ring(current: str | None, retired: Iterable[str] = ()) -> KeyRing:
    """A key ring from settings: the current private key and retired public keys (hex/base64).

    Raises InvalidInput for any key that does not read.
    """
    signing = load_signing_key(current) if current else None
    return KeyRing(signing, [decode_key(text, field="retired_sealing_keys") for text in retired])
