"""What an auditor takes away from the transparency log: query rows and offline bundles.

Both only read: the log's indexed leaves, its checkpoints, the stored events and their seals.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from dispute_engine.bundle import BundleEvent, DisputeState, build_bundle
from dispute_engine.domain.canonical import canonical_id
from dispute_engine.domain.dispute import Dispute
from dispute_engine.domain.errors import CorruptHistory, InvalidInput
from dispute_engine.domain.staff import Founding, Staff
from dispute_engine.engine_core import EngineCore
from dispute_engine.log_store import LeafFilter, LogLeaf, LogStore
from dispute_engine.replay import is_dispute_topic, state_json
from dispute_engine.seals import InvalidSeal, Seal
from dispute_engine.views import DisputeView


def event_names() -> frozenset[str]:
    """The names of every event the store can hold (what ``--event`` accepts)."""
    return frozenset(
        name
        for aggregate in (Dispute, Staff, Founding)
        for name, value in inspect.getmembers(aggregate)
        if isinstance(value, type) and issubclass(value, aggregate.Event) and name != "Event"
    )


def leaf_filter(
    *,
    dispute_id: UUID | None,
    actor: str | None,
    event: str | None,
    since: datetime | None,
    until: datetime | None,
) -> LeafFilter:
    """The log's filter for an auditor's question; the actor compared by canonical id.

    Raises InvalidInput for an unknown event name, a naive time, ``since`` after ``until``
    or an actor id that cannot be anyone's.
    """
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput.of(name, "must be timezone-aware")
    if since is not None and until is not None and since > until:
        raise InvalidInput.of("until", "must not be before since")
    if event is not None and event not in event_names():
        raise InvalidInput.of("event", f"no event is named {event!r}")
    who = None if actor is None else canonical_id(actor, field="actor")
    return LeafFilter(dispute_id, who, event, since, until)


@dataclass(frozen=True)
class BundleWritten:
    """What ``export_bundle`` wrote: counts, the tree size proven against, events left out."""

    path: Path
    events: int
    disputes: int
    checkpoints: int
    tree_size: int
    not_yet_checkpointed: int


class BundleExport:
    """Writes an offline bundle of the log's events matching a filter."""

    def __init__(self, core: EngineCore) -> None:
        self._core = core
        self._log = LogStore(core.db)

    def write(self, out: Path, where: LeafFilter) -> BundleWritten:
        """Write the bundle of every matching event under the newest checkpoint to ``out``.

        Raises InvalidInput when no matching event is under a checkpoint yet, a key that
        sealed or signed them is not known, or ``out`` holds a bundle or cannot be written,
        CorruptHistory when a logged event is missing from the store or has no readable seal.
        """
        if out.exists() and not out.is_dir():
            raise InvalidInput.of("out", f"{out} is a file: name a folder")
        checkpoints = self._log.checkpoints()
        size = checkpoints[-1].tree_size if checkpoints else 0
        matching = self._log.leaves(where)
        chosen = [leaf for leaf in matching if leaf.leaf_index < size]
        later = len(matching) - len(chosen)
        if not chosen:
            raise InvalidInput.of(
                "dispute" if where.dispute_id else "since" if where.since else "until",
                "no logged event matches under a signed checkpoint yet"
                + (f" ({later} wait for the next checkpoint)" if later else ""),
            )
        events = self._events(chosen)
        keys = self._core.events.ring.public_keys()
        used = {e.seal.key_id for e in events} | {c.key_id for c in checkpoints}
        missing = sorted(used - set(keys))
        if missing:
            raise InvalidInput.of(
                "DISPUTE_ENGINE_RETIRED_SEALING_KEYS",
                f"the public keys {', '.join(missing)} signed this history: give them here "
                "so the bundle carries them",
            )
        states = self._states(events)
        try:
            build_bundle(
                out,
                events=events,
                leaves=[leaf.leaf for leaf in self._log.leaves(limit=size)],
                checkpoints=checkpoints,
                public_keys=keys.values(),
                states=states,
            )
        except FileExistsError:
            raise InvalidInput.of("out", f"{out} already holds a bundle") from None
        except OSError as error:
            raise InvalidInput.of("out", f"cannot write there: {error.strerror}") from None
        return BundleWritten(out, len(events), len(states), len(checkpoints), size, later)

    def _events(self, leaves: Sequence[LogLeaf]) -> list[BundleEvent]:
        stored: dict[tuple[UUID, int], tuple[str, bytes, str | None]] = {}
        for dispute_id in dict.fromkeys(leaf.dispute_id for leaf in leaves):
            stored.update(
                ((dispute_id, version), (topic, state, seal))
                for version, topic, state, seal in self._core.sealed_events(dispute_id)
            )
        events = []
        for leaf in leaves:
            topic, state, seal = stored.get((leaf.dispute_id, leaf.version), ("", b"", None))
            if seal is None:
                raise CorruptHistory(
                    f"logged event {leaf.dispute_id} version {leaf.version} is missing from "
                    "the store or not sealed",
                    dispute_id=leaf.dispute_id,
                    version=leaf.version,
                )
            try:
                sealed = Seal.from_text(seal)
            except InvalidSeal as error:
                raise CorruptHistory(
                    f"event {leaf.dispute_id} version {leaf.version}: {error}",
                    dispute_id=leaf.dispute_id,
                    version=leaf.version,
                ) from None
            events.append(
                BundleEvent(leaf.leaf_index, leaf.dispute_id, leaf.version, topic, state, sealed)
            )
        return events

    def _states(self, events: Sequence[BundleEvent]) -> list[DisputeState]:
        """The state after the last bundled event of each dispute bundled from version 1."""
        versions: dict[UUID, list[BundleEvent]] = {}
        for event in events:
            versions.setdefault(event.originator_id, []).append(event)
        return [
            DisputeState(
                dispute_id,
                mine[-1].version,
                state_json(DisputeView.of(self._core.load(dispute_id, version=mine[-1].version))),
            )
            for dispute_id, mine in versions.items()
            if mine[0].version == 1 and is_dispute_topic(mine[0].topic)
        ]
