"""Witnesses: copies of signed checkpoints kept outside the database.

The writer appends each checkpoint as one JSON line to ``checkpoints.jsonl`` in a folder the
operator names (another volume, another host's mount), opened ``O_APPEND`` and fsynced before
it returns, and optionally POSTs the same line to a witness URL. Whoever later rewrites the
database, even with the engine's key, cannot rewrite what the witness already holds.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dispute_engine.checkpoints import Checkpoint, InvalidCheckpoint
from dispute_engine.merkle import NodeSource, root_at
from dispute_engine.seals import InvalidSeal, KeyRing

WITNESS_FILE = "checkpoints.jsonl"


class WitnessUnavailable(ConnectionError):
    """Raised when the witness folder cannot be written or the witness URL does not accept."""


class WitnessWriter:
    """Appends checkpoints to a witness folder and, if given, POSTs them to a witness URL.

    Raises ValueError for a URL that is not http or https.
    """

    def __init__(self, directory: Path, *, url: str | None = None, timeout: float = 5.0) -> None:
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"a witness URL is http or https, got {urlsplit(url).scheme!r}")
        self.path = directory / WITNESS_FILE
        self.url = url
        self.timeout = timeout

    def append(self, checkpoint: Checkpoint) -> None:
        """Write one checkpoint durably, then send it; raises WitnessUnavailable on failure."""
        line = (checkpoint.to_json() + "\n").encode("ascii")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # One write of the whole line: with O_APPEND on a local file system it lands
                # after whatever another writer appended, never inside it.
                if os.write(fd, line) != len(line):
                    raise OSError("short write")
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_folder(self.path.parent)
        except OSError as error:
            raise WitnessUnavailable(f"cannot append to {self.path}: {error}") from error
        if self.url is not None:
            self._post(line)

    def _post(self, line: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url or "",
            data=line,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except (urllib.error.URLError, OSError) as error:
            raise WitnessUnavailable(
                f"the witness at {self.url} did not accept: {error}"
            ) from error
        if not 200 <= status < 300:
            raise WitnessUnavailable(f"the witness at {self.url} answered {status}")


def _fsync_folder(folder: Path) -> None:
    """Make a new file's name durable, not only its content."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class WitnessRecord:
    """What a witness file holds: the checkpoints by line number, and lines that do not read."""

    checkpoints: list[tuple[int, Checkpoint]]
    problems: list[tuple[int, str]]


def read_witness(directory: Path) -> WitnessRecord:
    """Every checkpoint in a witness folder, with its line number; unreadable lines are problems.

    Raises WitnessUnavailable when the folder holds no witness file.
    """
    path = directory / WITNESS_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise WitnessUnavailable(f"cannot read {path}: {error}") from error
    checkpoints: list[tuple[int, Checkpoint]] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if not line.endswith("\n"):
            problems.append((number, "incomplete last line (a write was cut short)"))
            continue
        try:
            checkpoints.append((number, Checkpoint.from_json(line)))
        except InvalidCheckpoint as error:
            problems.append((number, str(error)))
    return WitnessRecord(checkpoints, problems)


def witness_problems(
    record: WitnessRecord, log: NodeSource, log_size: int, ring: KeyRing
) -> list[tuple[int, str]]:
    """Each witnessed checkpoint that today's log does not extend, by witness line.

    A checkpoint holds when its signature verifies and the first ``tree_size`` leaves of the
    log have its root (the log extends it); a log shorter than a witnessed checkpoint lost
    events. Lines the reader could not read are problems too.
    """
    problems = list(record.problems)
    for line, checkpoint in record.checkpoints:
        try:
            checkpoint.verify(ring)
        except InvalidSeal as error:
            problems.append((line, str(error)))
            continue
        if checkpoint.tree_size > log_size:
            problems.append(
                (line, f"the log has {log_size} leaves, the witness saw {checkpoint.tree_size}")
            )
        elif root_at(log, checkpoint.tree_size) != checkpoint.root:
            problems.append(
                (line, f"the log's first {checkpoint.tree_size} leaves are not what was witnessed")
            )
    return sorted(problems)
