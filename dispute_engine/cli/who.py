"""Who a command line acts as: the private key file of one local identity."""

from __future__ import annotations

import os

from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.identity import IDENTITY_ENV, Identity, local_identities


def local_identity(actor_id: str | None) -> Identity:
    """The identity to act as: ``$DISPUTE_ENGINE_IDENTITY``'s key file, else the local one
    ``--actor`` names, else the only local one.

    ``--actor`` only picks among the key files this user holds; it never makes anyone else.
    Raises InvalidInput (no identity, several without ``--actor``, ``--actor`` naming one
    that is not here), IdentityFileRefused and KeyFileTooOpen (the key file).
    """
    wanted = None if not actor_id else canonical_id(actor_id, field="--actor")
    override = os.environ.get(IDENTITY_ENV)
    if override:
        identity = Identity.load(override)
        if wanted is not None and wanted != identity.staff_id:
            raise InvalidInput.of(
                "--actor", f"{IDENTITY_ENV} holds the key of {identity.staff_id}, not {wanted}"
            )
        return identity
    local = local_identities()
    if wanted is None:
        if not local:
            raise InvalidInput.of(
                "--actor",
                "no local identity: run `dispute-engine staff keygen --id ID` "
                f"or set {IDENTITY_ENV}",
            )
        if len(local) > 1:
            raise InvalidInput.of(
                "--actor", f"several local identities ({', '.join(local)}): pick one with --actor"
            )
        wanted = next(iter(local))
    if wanted not in local:
        raise InvalidInput.of(
            "--actor",
            f"no local identity {wanted}: run `dispute-engine staff keygen --id {wanted}`",
        )
    identity = Identity.load(local[wanted])
    if identity.staff_id != wanted:  # a key file renamed by hand
        raise InvalidInput.of("--actor", f"{local[wanted]} holds the key of {identity.staff_id}")
    return identity
