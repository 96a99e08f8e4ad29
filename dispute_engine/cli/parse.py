"""Command-line text into values: ids, times, bounded numbers, files read safely.

Each raises InvalidInput naming the flag or argument at fault.
"""

from __future__ import annotations

import math
import os
import stat
from datetime import datetime
from pathlib import Path
from uuid import UUID

from dispute_engine.domain.errors import InvalidInput


def dispute_id(text: str) -> UUID:
    """A dispute's id (a UUID)."""
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput.of("ID", f"not a dispute id (a UUID): {text!r}") from None


def moment(text: str, flag: str) -> datetime:
    """An ISO 8601 time with a zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.of(flag, f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise InvalidInput.of(flag, "needs a zone, e.g. 2026-11-20T08:15:00Z")
    return value


def within(value: float, flag: str, low: float, high: float, unit: str = "") -> float:
    """``value`` when ``low <= value <= high`` (and finite)."""
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidInput.of(flag, f"must be between {_number(low)} and {_number(high)}{unit}")
    return value


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def file_bytes(path: Path, flag: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else is refused unread.

    The size is checked before reading, and reading stops after ``limit + 1`` bytes in case
    the file grows meanwhile.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # before opening: a FIFO would block
            raise InvalidInput.of(flag, f"{path} is not a regular file")
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())  # the file opened, which may have been swapped
            if not stat.S_ISREG(info.st_mode):
                raise InvalidInput.of(flag, f"{path} is not a regular file")
            if info.st_size > limit:
                raise InvalidInput.of(
                    flag, f"{path} has {info.st_size} bytes; the limit is {limit}"
                )
            content = handle.read(limit + 1)
    except InvalidInput:
        raise
    except OSError as exc:
        raise InvalidInput.of(flag, f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL in the path
        raise InvalidInput.of(flag, f"not a usable path: {exc}") from None
    if len(content) > limit:
        raise InvalidInput.of(flag, f"{path} grew past the limit of {limit} bytes")
    if not content:
        raise InvalidInput.of(flag, f"{path} is empty")
    return content


def output_path(path: Path, flag: str) -> Path:
    """A file that can be written: its folder exists and it is not itself a folder."""
    if path.is_dir():
        raise InvalidInput.of(flag, f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InvalidInput.of(flag, f"the folder {path.parent} does not exist")
    return path
