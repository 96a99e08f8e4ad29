"""Replaying stored events into a dispute's state without a recorder, as an offline auditor does.

The stored state bytes are decoded with the library's mapper and the transcodings the event
store registers (UUID, Decimal, datetime), decrypted first when the store encrypts its events
and the key is given, then applied to the domain's ``Dispute`` one by one: no database, no
recorder, no engine.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import InvalidInput
from dispute_engine.views import DisputeView


class ReplayFailed(ValueError):
    """Raised when stored events do not replay into a dispute (unreadable, not a dispute's)."""


def event_mapper(cipher_key: str | None = None) -> Mapper[UUID]:
    """A mapper decoding stored events as the event store encodes them; with ``cipher_key``
    (the store's ``event_cipher_key``, base64), as it encrypts them.

    Raises InvalidInput for a cipher key that is not 16, 24 or 32 bytes in base64.
    """
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    if not cipher_key:
        return Mapper(transcoder=transcoder)
    try:
        cipher = AESCipher(Environment(env={AESCipher.CIPHER_KEY: cipher_key}))
    except (ValueError, binascii.Error):
        raise InvalidInput.of("cipher_key", "must be 16, 24 or 32 bytes in base64") from None
    return Mapper(transcoder=transcoder, cipher=cipher)


def is_dispute_topic(topic: str) -> bool:
    """True when ``topic`` names an event of the ``Dispute`` aggregate."""
    module, _, name = topic.partition(":")
    return module == Dispute.__module__ and name.startswith(f"{Dispute.__qualname__}.")


def state_json(view: DisputeView) -> str:
    """A dispute's state as canonical JSON text (sorted keys), as a bundle carries it."""
    return json.dumps(view.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def replayed_state(
    originator_id: UUID, events: Iterable[tuple[int, str, bytes]], mapper: Mapper[UUID]
) -> dict[str, Any]:
    """The state (a :class:`DisputeView` as JSON data) that ``(version, topic, state)`` give.

    Raises ReplayFailed when an event does not decode or apply, or is not a dispute's.
    """
    domain_events = []
    for version, topic, state in events:
        if not is_dispute_topic(topic):
            raise ReplayFailed(f"version {version} is not an event of a dispute ({topic})")
        try:
            domain_events.append(
                mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
            )
        except Exception as error:  # any decoding failure means the bytes do not replay
            hint = (
                "with the cipher key given"
                if mapper.cipher
                else "(a store that encrypts its events needs its cipher key)"
            )
            raise ReplayFailed(
                f"version {version} does not decode {hint}: {type(error).__name__}"
            ) from None
    try:
        dispute = project_aggregate(None, domain_events)
    except Exception as error:  # an event that does not apply to the state before it
        raise ReplayFailed(f"the events do not replay: {type(error).__name__}: {error}") from None
    if not isinstance(dispute, Dispute):
        raise ReplayFailed("the events do not replay into a dispute")
    return dict(json.loads(state_json(DisputeView.of(dispute))))
