"""The offline auditor's bundle: a folder that proves its events are in the log, unchanged.

Files, each JSON Lines (one JSON object a line) so every problem is named by file and line:

- ``manifest.json``: ``{"format": "dispute-engine/audit-bundle/v1", "events": N, "disputes": M}``
- ``keys.jsonl``: ``{"key_id", "public_key"}`` (hex), every key that sealed or signed anything
- ``checkpoints.jsonl``: signed checkpoints, oldest first, as the witness keeps them
- ``consistency.jsonl``: ``{"old_size", "new_size", "proof"}`` between consecutive checkpoints
- ``events.jsonl``: ``{"leaf_index", "originator_id", "version", "topic", "state", "seal",
  "tree_size", "inclusion_proof"}``; ``state`` is the stored state bytes in base64 (what a replay
  decodes), ``seal`` is ``key_id:signature``, and the proof leads to the checkpoint of
  ``tree_size``
- ``disputes.jsonl``: ``{"dispute_id", "version", "state"}`` for each dispute whose events in
  the bundle start at version 1: its state (a ``DisputeView`` as canonical JSON text) as the
  engine read it after ``version``, its last event in the bundle

:func:`verify_bundle` needs no database and none of the storage code: only the Merkle
verifiers, the seals, the checkpoints, and the domain's events to replay each dispute
(:mod:`dispute_engine.replay`). Hashes and proofs are hex.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from dispute_engine.checkpoints import Checkpoint, InvalidCheckpoint
from dispute_engine.json_lines import json_line
from dispute_engine.merkle import InvalidProof, MerkleTree, verify_consistency, verify_inclusion
from dispute_engine.replay import ReplayFailed, event_mapper, is_dispute_topic, replayed_state
from dispute_engine.seals import InvalidSeal, KeyRing, Seal, event_leaf_hash, key_id
from dispute_engine.witness import WITNESS_FILE, WitnessUnavailable, read_witness

T = TypeVar("T")
BUNDLE_FORMAT = "dispute-engine/audit-bundle/v1"
MANIFEST, KEYS, CHECKPOINTS, CONSISTENCY, EVENTS, DISPUTES = (
    "manifest.json",
    "keys.jsonl",
    "checkpoints.jsonl",
    "consistency.jsonl",
    "events.jsonl",
    "disputes.jsonl",
)
FILES = (MANIFEST, KEYS, CHECKPOINTS, CONSISTENCY, EVENTS, DISPUTES)
_STATE_DEPTH = 32  # a dispute's state nests its claim, decision, chain facts, transfers


@dataclass(frozen=True)
class BundleEvent:
    """One stored event as the bundle carries it, with its seal and its leaf index in the log."""

    leaf_index: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes
    seal: Seal

    @property
    def leaf(self) -> bytes:
        """The event's leaf hash in the log."""
        return event_leaf_hash(self.originator_id, self.version, self.topic, self.state)


@dataclass(frozen=True)
class DisputeState:
    """A dispute's state after ``version`` as canonical JSON text (see ``replay.state_json``)."""

    dispute_id: UUID
    version: int
    state: str


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold, at a line of a file of the bundle (line 0: the file)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class BundleReport:
    """What verification checked and every problem it found; ``ok`` when there are none."""

    events: int = 0
    checkpoints: int = 0
    disputes: int = 0
    witnessed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every event is proven, every checkpoint holds, every state replays."""
        return not self.problems


def _dump(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":")) + "\n"


def build_bundle(
    out: Path,
    *,
    events: Sequence[BundleEvent],
    leaves: Sequence[bytes],
    checkpoints: Sequence[Checkpoint],
    public_keys: Iterable[bytes],
    states: Sequence[DisputeState] = (),
) -> None:
    """Write a bundle for ``events`` of the log whose leaf hashes are ``leaves``.

    Each event is proven against the last checkpoint; ``states`` are the disputes' states
    for a replay to match. Raises FileExistsError if ``out`` already holds any bundle file
    (then nothing is written), ValueError when there is no checkpoint or an event is not
    under the last one, and MerkleError when a checkpoint is larger than ``leaves``.
    """
    if not checkpoints:
        raise ValueError("a bundle needs at least one checkpoint")
    last = checkpoints[-1]
    tree = MerkleTree(leaves[: last.tree_size])
    lines = {
        MANIFEST: [
            _dump({"format": BUNDLE_FORMAT, "events": len(events), "disputes": len(states)})
        ],
        KEYS: [_dump({"key_id": key_id(raw), "public_key": raw.hex()}) for raw in public_keys],
        CHECKPOINTS: [c.to_json() + "\n" for c in checkpoints],
        CONSISTENCY: [
            _dump(
                {
                    "old_size": a.tree_size,
                    "new_size": b.tree_size,
                    "proof": [h.hex() for h in tree.consistency_proof(a.tree_size, b.tree_size)],
                }
            )
            for a, b in itertools.pairwise(checkpoints)
        ],
        EVENTS: [],
        DISPUTES: [
            _dump({"dispute_id": str(s.dispute_id), "version": s.version, "state": s.state})
            for s in states
        ],
    }
    for event in events:
        if not 0 <= event.leaf_index < last.tree_size:
            raise ValueError(f"leaf {event.leaf_index} is not under the last checkpoint")
        lines[EVENTS].append(
            _dump(
                {
                    "leaf_index": event.leaf_index,
                    "originator_id": str(event.originator_id),
                    "version": event.version,
                    "topic": event.topic,
                    "state": base64.b64encode(event.state).decode("ascii"),
                    "seal": event.seal.to_text(),
                    "tree_size": last.tree_size,
                    "inclusion_proof": [
                        h.hex() for h in tree.inclusion_proof(event.leaf_index, last.tree_size)
                    ],
                }
            )
        )
    taken = [name for name in lines if (out / name).exists()]
    if taken:
        raise FileExistsError(f"{out} already holds {', '.join(taken)}")
    out.mkdir(parents=True, exist_ok=True)
    for name, content in lines.items():
        with (out / name).open("x", encoding="ascii") as file:
            file.writelines(content)


class _Bad(Exception):
    """A line that does not hold; the message names why."""


def _int(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    if type(value) is not int or value < 0:
        raise _Bad(f"{name} must be a whole number >= 0")
    return value


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise _Bad(f"{name} must be text")
    return value


def _hex(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise _Bad(f"{name} must be hex text")
    try:
        return bytes.fromhex(value)
    except ValueError as error:
        raise _Bad(f"{name} must be hex") from error


def _hashes(item: dict[str, Any], name: str) -> list[bytes]:
    value = item.get(name)
    if not isinstance(value, list):
        raise _Bad(f"{name} must be a list of hex hashes")
    return [_hex(h, name) for h in value]


def _fields(item: dict[str, Any], names: Iterable[str]) -> None:
    if sorted(item) != sorted(names):
        raise _Bad(f"the fields must be exactly {', '.join(sorted(names))}")


class _Verifier:
    """One verification run over one bundle folder."""

    def __init__(
        self,
        folder: Path,
        trusted_keys: Iterable[bytes] | None,
        cipher_key: str | None,
        witness: Path | None,
    ) -> None:
        self.folder = folder
        self.witness = witness
        self.trusted = None if trusted_keys is None else {key_id(k) for k in trusted_keys}
        self.report = BundleReport()
        self.ring = KeyRing()
        self.roots: dict[int, bytes] = {}
        self.expected: dict[str, int | None] = {"events": None, "disputes": None}
        self.last_leaf = -1
        self.versions: dict[UUID, int] = {}
        self.proven: dict[UUID, list[tuple[int, str, bytes]]] = {}
        self.stated: set[UUID] = set()
        self.mapper = event_mapper(cipher_key)

    def problem(self, file: str, line: int, message: str) -> None:
        self.report.problems.append(Problem(file, line, message))

    def lines(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        try:
            text = (self.folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.problem(name, 0, f"cannot be read: {error}")
            return []
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                item = json_line(line)
            except ValueError as error:
                self.problem(name, number, f"not JSON: {error}")
                continue
            if isinstance(item, dict):
                found.append((number, item))
            else:
                self.problem(name, number, "not a JSON object")
        return found

    def run(self) -> BundleReport:
        self.manifest()
        for number, item in self.lines(KEYS):
            self.guard(KEYS, number, self.key, item)
        checkpoints = [
            self.guard(CHECKPOINTS, number, self.checkpoint, item)
            for number, item in self.lines(CHECKPOINTS)
        ]
        self.report.checkpoints = len(checkpoints)
        self.consistency(checkpoints)
        if self.witness is not None:
            self.witnessed(self.witness)
        self.events()
        self.disputes()
        return self.report

    def guard(
        self, file: str, number: int, check: Callable[[dict[str, Any]], T], item: dict[str, Any]
    ) -> T | None:
        try:
            return check(item)
        except (_Bad, InvalidSeal, InvalidProof, InvalidCheckpoint, ReplayFailed) as error:
            self.problem(file, number, str(error))
            return None

    def manifest(self) -> None:
        found = self.lines(MANIFEST)
        for number, _ in found[1:]:
            self.problem(MANIFEST, number, "the manifest is one JSON object")
        if not found:
            if not any(p.file == MANIFEST for p in self.report.problems):
                self.problem(MANIFEST, 0, "holds no JSON object")
            return
        number, item = found[0]
        if item.get("format") != BUNDLE_FORMAT:
            self.problem(MANIFEST, number, f"format is not {BUNDLE_FORMAT}")
        for name in self.expected:
            self.expected[name] = self.guard(
                MANIFEST, number, functools.partial(_int, name=name), item
            )
        if sorted(item) != ["disputes", "events", "format"]:
            self.problem(MANIFEST, number, "the fields must be exactly disputes, events, format")

    def count(self, name: str, file: str, found: int) -> None:
        expected = self.expected[name]
        if expected is not None and found != expected:
            self.problem(MANIFEST, 1, f"says {expected} {name}; {file} holds {found}")

    def key(self, item: dict[str, Any]) -> None:
        _fields(item, ("key_id", "public_key"))
        raw = _hex(item["public_key"], "public_key")
        if len(raw) != 32 or key_id(raw) != item["key_id"]:
            raise _Bad("key_id is not the id of public_key")
        if self.trusted is not None and item["key_id"] not in self.trusted:
            raise _Bad(f"key {item['key_id']} is not one of the keys the auditor trusts")
        self.ring.add_public_key(raw)

    def checkpoint(self, item: dict[str, Any]) -> Checkpoint:
        checkpoint = Checkpoint.from_json(item)
        checkpoint.verify(self.ring)
        if checkpoint.tree_size == 0:
            raise _Bad("a checkpoint of an empty log proves nothing")
        if self.roots and checkpoint.tree_size <= max(self.roots):
            raise _Bad("checkpoints must grow: this one is not larger than the one before")
        self.roots[checkpoint.tree_size] = checkpoint.root
        return checkpoint

    def consistency(self, checkpoints: Sequence[Checkpoint | None]) -> None:
        found = self.lines(CONSISTENCY)
        pairs = list(itertools.pairwise(checkpoints))
        if len(found) < len(pairs):
            self.problem(CONSISTENCY, 0, f"{len(found)} lines for {len(pairs)} checkpoint pairs")
        for number, _ in found[len(pairs) :]:
            self.problem(CONSISTENCY, number, "no pair of consecutive checkpoints for this line")
        for (number, item), (old, new) in zip(found, pairs, strict=False):
            if old is not None and new is not None:
                link = functools.partial(self.link, old=old, new=new)
                self.guard(CONSISTENCY, number, link, item)

    def link(self, item: dict[str, Any], old: Checkpoint, new: Checkpoint) -> None:
        _fields(item, ("new_size", "old_size", "proof"))
        if (_int(item, "old_size"), _int(item, "new_size")) != (old.tree_size, new.tree_size):
            raise _Bad(f"must link the checkpoints of size {old.tree_size} and {new.tree_size}")
        verify_consistency(old.tree_size, new.tree_size, _hashes(item, "proof"), old.root, new.root)

    def witnessed(self, folder: Path) -> None:
        """Each witnessed checkpoint up to the bundle's newest must be one of the bundle's."""
        name = str(folder / WITNESS_FILE)
        try:
            record = read_witness(folder)
        except WitnessUnavailable as error:
            self.problem(name, 0, str(error))
            return
        for line, message in record.problems:
            self.problem(name, line, message)
        newest = max(self.roots, default=0)
        for line, checkpoint in record.checkpoints:
            try:
                checkpoint.verify(self.ring)
            except InvalidSeal as error:
                self.problem(name, line, str(error))
                continue
            if checkpoint.tree_size > newest:
                continue  # witnessed after the bundle was made
            root = self.roots.get(checkpoint.tree_size)
            if root is None:
                self.problem(name, line, f"the bundle has no checkpoint of {checkpoint.tree_size}")
            elif root != checkpoint.root:
                self.problem(
                    name,
                    line,
                    f"the bundle's checkpoint of {checkpoint.tree_size} events has another root "
                    "than the witness saw: the history before it was rewritten",
                )
            else:
                self.report.witnessed += 1

    def events(self) -> None:
        found = self.lines(EVENTS)
        self.report.events = len(found)
        self.count("events", EVENTS, len(found))
        for number, item in found:
            self.guard(EVENTS, number, self.event, item)

    def event(self, item: dict[str, Any]) -> None:
        _fields(
            item,
            (
                "inclusion_proof",
                "leaf_index",
                "originator_id",
                "seal",
                "state",
                "topic",
                "tree_size",
                "version",
            ),
        )
        try:
            originator = UUID(_text(item, "originator_id"))
            state = base64.b64decode(_text(item, "state"), validate=True)
        except (ValueError, binascii.Error) as error:
            raise _Bad(f"unreadable originator_id or state: {error}") from error
        event = BundleEvent(
            _int(item, "leaf_index"),
            originator,
            _int(item, "version"),
            _text(item, "topic"),
            state,
            Seal.from_text(_text(item, "seal")),
        )
        if event.leaf_index <= self.last_leaf:
            raise _Bad("events must be in log order, each leaf once")
        self.last_leaf = event.leaf_index
        previous = self.versions.get(originator)
        self.versions[originator] = event.version
        if previous is not None and event.version != previous + 1:
            raise _Bad(f"version {event.version} follows {previous}: an event is missing")
        self.ring.verify_event(event.seal, originator, event.version, event.topic, state)
        size = _int(item, "tree_size")
        if size not in self.roots:
            raise _Bad(f"no valid checkpoint of size {size} to prove against")
        verify_inclusion(
            event.leaf_index, size, event.leaf, _hashes(item, "inclusion_proof"), self.roots[size]
        )
        self.proven.setdefault(originator, []).append((event.version, event.topic, state))

    def disputes(self) -> None:
        found = self.lines(DISPUTES)
        self.report.disputes = len(found)
        self.count("disputes", DISPUTES, len(found))
        for number, item in found:
            self.guard(DISPUTES, number, self.dispute, item)
        for originator, events in self.proven.items():
            replayable = events[0][0] == 1 and is_dispute_topic(events[0][1])
            if replayable and originator not in self.stated:
                self.problem(DISPUTES, 0, f"no state for dispute {originator}")

    def dispute(self, item: dict[str, Any]) -> None:
        _fields(item, ("dispute_id", "state", "version"))
        try:
            dispute_id = UUID(_text(item, "dispute_id"))
            state = json_line(_text(item, "state"), max_depth=_STATE_DEPTH)
        except ValueError as error:
            raise _Bad(f"unreadable dispute_id or state: {error}") from error
        if dispute_id in self.stated:
            raise _Bad(f"a second state for dispute {dispute_id}")
        self.stated.add(dispute_id)
        version = _int(item, "version")
        events = self.proven.get(dispute_id, [])
        if [v for v, _, _ in events] != list(range(1, version + 1)):
            raise _Bad(
                f"the proven events of dispute {dispute_id} are not exactly versions 1 to "
                f"{version}: its state cannot be replayed"
            )
        replayed = replayed_state(dispute_id, events, self.mapper)
        if state != replayed:
            differ = (
                sorted(k for k in state.keys() | replayed.keys() if state.get(k) != replayed.get(k))
                if isinstance(state, dict)
                else ["the whole state"]
            )
            raise _Bad(f"replaying the events gives another state: {', '.join(differ)} differ")


def verify_bundle(
    path: Path,
    *,
    trusted_keys: Iterable[bytes] | None = None,
    cipher_key: str | None = None,
    witness: Path | None = None,
) -> BundleReport:
    """Check a bundle folder offline: every seal, checkpoint, consistency and inclusion proof,
    and that replaying each dispute's events gives the state the bundle carries.

    With ``trusted_keys`` (raw public keys the auditor got from the operator out of band), a
    key in the bundle that is not among them is a problem. ``cipher_key`` is the store's
    event cipher key (base64), needed to replay the events of a store that encrypts them.
    With ``witness`` (a witness folder), every checkpoint it holds up to the bundle's newest
    must be one of the bundle's, root for root: a history rewritten with the engine's key
    before a witnessed checkpoint is caught.
    Never raises for a bad bundle: each problem is in the report, named by file and line.
    Raises InvalidInput for a cipher key that is not one.
    """
    return _Verifier(path, trusted_keys, cipher_key, witness).run()
