"""A staff member's signing identity: their staff id and Ed25519 private key, kept in a 0600 file.

Approvals, send-backs and executions are signed over
:func:`dispute_engine.domain.canonical.decision_statement`; the engine checks each signature
against the directory's key for that member at that time (:meth:`Staff.key_valid_at`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote

import platformdirs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import PrivateAttr

from dispute_engine.domain.actor import Actor, Role
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import IdentityFileRefused, InvalidInput, KeyFileTooOpen

IDENTITY_ENV = "DISPUTE_ENGINE_IDENTITY"
FILE_FORMAT = "dispute-engine-identity/v1"
SUFFIX = ".key"
_TOO_OPEN = stat.S_IRWXG | stat.S_IRWXO
_MAX_FILE = 4096  # a key file is ~150 bytes; anything larger is not one


class Signer(Protocol):
    """Anything that signs statements for one staff member."""

    @property
    def staff_id(self) -> str:
        """The member's canonical staff id."""
        ...

    @property
    def public_key_hex(self) -> str:
        """The public half of the member's key, as the directory stores it."""
        ...

    def sign(self, statement: bytes) -> str:
        """The Ed25519 signature of ``statement`` as hex."""
        ...


class SigningActor(Actor):
    """An :class:`Actor` that can also sign: accepted wherever an ``Actor`` is.

    The engine records ``id`` and checks ``roles`` as for any actor; where a statement must be
    signed (approve, send back, execute) it calls :meth:`sign`.
    """

    _signer: Signer = PrivateAttr()

    def sign(self, statement: bytes) -> str:
        """The signature of ``statement`` by this actor's key, as hex."""
        return self._signer.sign(statement)

    @property
    def public_key_hex(self) -> str:
        """The public key the signature verifies against."""
        return self._signer.public_key_hex


class Identity:
    """A staff id with its Ed25519 private key; the key never appears in ``repr``."""

    __slots__ = ("_key", "_staff_id")

    def __init__(self, staff_id: str, private_key: Ed25519PrivateKey) -> None:
        self._staff_id = canonical_id(staff_id, field="staff_id")
        self._key = private_key

    def __repr__(self) -> str:
        return f"Identity(staff_id={self._staff_id!r}, public_key={self.public_key_hex!r})"

    @classmethod
    def generate(cls, staff_id: str) -> Identity:
        """A new identity with a fresh key. Raises InvalidInput for a bad staff id."""
        return cls(staff_id, Ed25519PrivateKey.generate())

    @property
    def staff_id(self) -> str:
        """The member's canonical staff id."""
        return self._staff_id

    @property
    def public_key_hex(self) -> str:
        """The public key as 64 hex digits, the form the staff directory registers."""
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, statement: bytes) -> str:
        """The Ed25519 signature of ``statement`` as 128 hex digits."""
        return self._key.sign(statement).hex()

    def actor(self, roles: Iterable[Role | str]) -> SigningActor:
        """This member as an actor holding ``roles`` (in directory mode, the directory's roles).

        Raises InvalidInput for an unknown role.
        """
        actor = SigningActor.model_validate({"id": self._staff_id, "roles": frozenset(roles)})
        actor._signer = self
        return actor

    # -- the key file ----------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Identity:
        """Read an identity from its key file.

        Raises KeyFileTooOpen when the group or others may read or write it, and
        IdentityFileRefused when it is missing, not the user's, or not a key file.
        """
        where = os.fspath(path)
        # No following symlinks, and no blocking on a FIFO put where the key should be.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(where, flags)
        except OSError as exc:
            raise IdentityFileRefused(f"cannot open {where}: {exc.strerror}", path=where) from None
        try:
            # Checked on the open file, so it cannot be swapped between the check and the read.
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise IdentityFileRefused(f"{where} is not a regular file", path=where)
            if info.st_mode & _TOO_OPEN:
                raise KeyFileTooOpen(
                    f"{where} is readable or writable by others (mode "
                    f"{stat.S_IMODE(info.st_mode):04o}); run chmod 600 {where}",
                    path=where,
                )
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                raise IdentityFileRefused(f"{where} belongs to another user", path=where)
            raw = os.read(fd, _MAX_FILE + 1)
        finally:
            os.close(fd)
        return cls._parse(raw, where)

    @classmethod
    def _parse(cls, raw: bytes, where: str) -> Identity:
        refused = IdentityFileRefused(f"{where} is not a dispute-engine key file", path=where)
        if len(raw) > _MAX_FILE:
            raise refused
        try:
            data = json.loads(raw)
            if data["format"] != FILE_FORMAT or not isinstance(data["staff_id"], str):
                raise refused
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data["private_key"]))
            return cls(data["staff_id"], key)
        except (ValueError, KeyError, TypeError, InvalidInput):
            raise refused from None

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the key file with mode 0600, atomically: a crash leaves the old file or the new.

        Its folder is created with mode 0700. Raises IdentityFileRefused when the file exists
        (unless ``overwrite``) or cannot be written.
        """
        target = Path(path)
        body = json.dumps(
            {
                "format": FILE_FORMAT,
                "staff_id": self._staff_id,
                "private_key": self._key.private_bytes_raw().hex(),
            }
        ).encode()
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.fchmod(fd, 0o600)  # the umask can only narrow the mode; this makes it exact
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            if overwrite:
                os.replace(temporary, target)
            else:
                os.link(temporary, target)  # fails if the file appeared meanwhile: never clobbers
        except FileExistsError:
            raise IdentityFileRefused(
                f"{target} already exists; refusing to replace a private key", path=str(target)
            ) from None
        except OSError as exc:
            raise IdentityFileRefused(
                f"cannot write {target}: {exc.strerror}", path=str(target)
            ) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        _sync_folder(target.parent)
        return target


def verify_signature(public_key_hex: str, statement: bytes, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is the Ed25519 signature of ``statement`` by that key.

    Malformed keys or signatures (not hex, wrong length, not a curve point) are False.
    """
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), statement)
    except (ValueError, InvalidSignature):
        return False
    return True


def identities_folder() -> Path:
    """Where local identities live: ``<user config>/dispute-engine/identities``."""
    return platformdirs.user_config_path("dispute-engine") / "identities"


def identity_path(staff_id: str) -> Path:
    """The key file for a staff id: ``$DISPUTE_ENGINE_IDENTITY`` if set, else in the folder.

    The file name is the canonical id, percent-encoded so that no id can name a path outside
    the folder or a hidden file. Raises InvalidInput for a bad staff id.
    """
    override = os.environ.get(IDENTITY_ENV)
    if override:
        return Path(override)
    member = canonical_id(staff_id, field="staff_id")
    return identities_folder() / f"{quote(member, safe='').replace('.', '%2E')}{SUFFIX}"


def local_identities(folder: Path | None = None) -> dict[str, Path]:
    """The staff ids that have a key file in the folder, and their files, by staff id."""
    where = folder or identities_folder()
    if not where.is_dir():
        return {}
    found = {unquote(p.name.removesuffix(SUFFIX)): p for p in where.glob(f"*{SUFFIX}")}
    return dict(sorted(found.items()))


def _sync_folder(folder: Path) -> None:
    """Make the new file's name durable, where the platform allows opening a folder."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
