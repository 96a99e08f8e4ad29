"""Checks a claimant's wallet signature over a :class:`WalletChallenge`.

A plain wallet signs with ``personal_sign`` (EIP-191): the signer is recovered offline with
``eth-account`` and must be the claimed sender. A contract wallet (a multisig, a smart account)
has no key of its own: the chain is asked whether the signature is valid for it
(EIP-1271 ``isValidSignature``) on the dispute's chain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Container
from datetime import datetime
from enum import StrEnum

from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError
from web3.exceptions import ContractLogicError

from chain.client import ChainClient
from chain.clients import ChainClients
from dispute_engine.domain.errors import (
    ChainMismatch,
    ChainNotConfigured,
    MalformedSignature,
    SignatureRefused,
)
from dispute_engine.domain.wallet_challenge import WalletChallenge

EIP1271_SELECTOR = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)
EIP1271_MAGIC = EIP1271_SELECTOR  # what a valid answer returns, by the standard's design
_ECDSA_LENGTH = 65
_MAX_SIGNATURE = 4096  # contract wallets may aggregate several owners' signatures


class WalletProof(StrEnum):
    """How the wallet proved control."""

    PERSONAL_SIGN = "personal_sign"
    EIP1271 = "eip1271"


def signature_bytes(signature: str) -> bytes:
    """The signature's bytes from ``0x``-prefixed (or bare) hex. Raises MalformedSignature."""
    text = signature.strip().removeprefix("0x").removeprefix("0X")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise MalformedSignature.of("signature", "must be hex") from None
    if not raw or len(raw) > _MAX_SIGNATURE:
        raise MalformedSignature.of("signature", f"must be 1 to {_MAX_SIGNATURE} bytes")
    return raw


def recover_signer(message: str, signature: bytes) -> str | None:
    """The address that ``personal_sign``-ed ``message``, or None if no key could have.

    Accepts ``v`` as 27/28 or as 0/1 (hardware wallets give either).
    """
    if len(signature) != _ECDSA_LENGTH:
        return None
    if signature[-1] in (0, 1):
        signature = signature[:-1] + bytes([signature[-1] + 27])
    try:
        return str(Account.recover_message(encode_defunct(text=message), signature=signature))
    except (ValueError, TypeError, BadSignature, ValidationError):
        return None  # r or s off the curve, s too high, v unknown: no key signed this


def eip1271_valid(client: ChainClient, address: str, message: str, signature: bytes) -> bool:
    """Whether the contract at ``address`` says the signature of ``message`` is its own.

    An account without code, a reverting check or any answer but the magic value is False.
    Raises ChainUnavailable when the node cannot be asked.
    """
    digest = bytes(defunct_hash_message(text=message))
    data = EIP1271_SELECTOR + encode(["bytes32", "bytes"], [digest, signature])
    web3 = client.web3

    def ask() -> bytes:
        try:
            answer = web3.eth.call({"to": web3.to_checksum_address(address), "data": data})
        except ContractLogicError:
            return b""  # the wallet refused the signature by reverting
        return bytes(answer)

    answer = client.call(ask)
    return answer[:4] == EIP1271_MAGIC and len(answer) == 32 and not any(answer[4:])


def verify_wallet_signature(
    message: str,
    signature: str,
    *,
    address: str,
    now: datetime,
    issued: Container[str],
    used: Container[str],
    client: ChainClient | None,
) -> WalletProof:
    """Accept a signature only if it proves control of ``address`` over a live challenge.

    ``message`` is the challenge text as signed; ``address`` the dispute's claimed sender;
    ``issued`` and ``used`` the dispute's nonces; ``client`` the dispute's chain, asked only
    when the signer is not the address itself (a contract wallet), or None to accept plain
    wallets only. Raises MalformedSignature, ChallengeReused, ChallengeExpired,
    SignatureRefused (the signer is not the claimed sender), ChainUnavailable.
    """
    challenge = WalletChallenge.parse(message)
    if challenge.address.lower() != address.lower():
        raise SignatureRefused(
            f"the challenge names wallet {challenge.address}, not the claimed sender {address}",
            actor=address,
            dispute_id=challenge.dispute_id,
        )
    challenge.require_unused(issued=issued, used=used)
    challenge.require_unexpired(now)
    raw = signature_bytes(signature)
    signer = recover_signer(message, raw)
    if signer is not None and signer.lower() == address.lower():
        return WalletProof.PERSONAL_SIGN
    if client is not None:
        if client.network.chain_id != challenge.chain_id:
            raise ChainMismatch(
                f"the challenge is for chain {challenge.chain_id}, "
                f"the node given is for chain {client.network.chain_id}",
                chain_id=challenge.chain_id,
            )
        if eip1271_valid(client, address, message, raw):
            return WalletProof.EIP1271
    if signer is None and len(raw) != _ECDSA_LENGTH and client is None:
        raise MalformedSignature.of("signature", "must be 65 bytes (r, s, v)")
    raise SignatureRefused(
        f"the signature is not by the claimed sender {address}"
        + (f" (signed by {signer})" if signer else ""),
        actor=address,
        dispute_id=challenge.dispute_id,
    )


class WalletSignatureChecker:
    """The engine's WalletSignatures port: plain wallets offline, contract wallets on the
    dispute's chain when a node for it is configured."""

    def __init__(self, clients: ChainClients | None) -> None:
        self.clients = clients

    def verify(
        self,
        message: str,
        signature: str,
        *,
        address: str,
        chain_id: int,
        now: datetime,
        issued: Container[str],
        used: Container[str],
    ) -> str:
        """How the wallet proved control (``personal_sign`` or ``eip1271``).

        Raises what :func:`verify_wallet_signature` raises.
        """
        client = None
        if self.clients is not None:
            with contextlib.suppress(ChainNotConfigured):
                client = self.clients.client(chain_id)
        return verify_wallet_signature(
            message,
            signature,
            address=address,
            now=now,
            issued=issued,
            used=used,
            client=client,
        ).value
