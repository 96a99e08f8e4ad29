"""The one error handler: every failure becomes one line on stderr and a documented exit code.

0 done, 1 refused (the engine said no), 2 invalid input (flags, arguments, files, settings),
3 storage or chain unavailable. 130 when interrupted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from typer._click.exceptions import NoArgsIsHelpError

from dispute_engine.domain.errors import (
    ChainNotConfigured,
    ChainUnavailable,
    CorruptHistory,
    DisputeEngineError,
    EvidenceAltered,
    FeedUnavailable,
    InvalidInput,
    StorageUnavailable,
)
from dispute_engine.error_mapping import STORAGE_FAULTS, first_line

DONE, REFUSED, INVALID, UNAVAILABLE, INTERRUPTED = 0, 1, 2, 3, 130

# Patterns of the input models, in words (a person should not have to read a regex).
_PATTERNS = {
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$": "must not contain control characters",
    r"^[^\x00-\x1f\x7f]+$": "must not contain control characters",
    r"^[\x21-\x7e]+$": "must be printable ASCII without spaces",
    r"^[A-Za-z0-9.]{1,16}$": "must be 1 to 16 letters, digits or dots",
    r"^[^/\\\x00-\x1f\x7f]+$": "must be a file name without slashes or control characters",
}
_PATTERN_MESSAGE = re.compile(r"^String should match pattern '(.*)'$", re.S)
_SETTINGS_FIELD = re.compile(r'field "(\w+)"')
_PLAIN = (
    (re.compile(r"^String should have at least 1 character$"), "must not be empty"),
    (
        re.compile(r"^String should have at most (\d+) characters?$"),
        r"must be at most \1 characters",
    ),
    (re.compile(r"^Input should be "), "must be "),
)


def exit_code(exc: DisputeEngineError) -> int:
    """The exit code of an engine error: 2 invalid input, 3 unavailable (or a damaged
    store), 1 refused."""
    if isinstance(exc, InvalidInput):
        return INVALID
    unavailable = (
        StorageUnavailable,
        CorruptHistory,
        EvidenceAltered,
        ChainUnavailable,
        ChainNotConfigured,
        FeedUnavailable,
    )
    if isinstance(exc, unavailable):
        return UNAVAILABLE
    return REFUSED


def plain(message: str) -> str:
    """A validation message in words: patterns described, pydantic's phrasing shortened."""
    pattern = _PATTERN_MESSAGE.match(message)
    if pattern:
        return _PATTERNS.get(pattern.group(1), "is not in the accepted form")
    for regex, words in _PLAIN:
        message = regex.sub(words, message)
    return message


@contextmanager
def flags_named(flags: Mapping[str, str]) -> Iterator[None]:
    """Name the command's flags, not the input model's fields, in InvalidInput raised inside.

    An item of a list (``roles.1``) is named by the list's flag: a repeated flag's values.
    """
    try:
        yield
    except InvalidInput as exc:
        errors = [{**e, "field": _flag(flags, str(e["field"]))} for e in exc.errors]
        raise type(exc)(errors, dispute_id=exc.dispute_id) from None


def _flag(flags: Mapping[str, str], field: str) -> str:
    head, _, item = field.partition(".")
    if field not in flags and item.isdigit() and head in flags:
        return flags[head]
    return flags.get(field, field)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _invalid_line(exc: InvalidInput) -> str:
    problems = "; ".join(f"{e['field']}: {plain(str(e['message']))}" for e in exc.errors)
    return f"invalid input: {problems}"


def _settings_line(exc: ValidationError) -> str:
    problems = "; ".join(
        f"DISPUTE_ENGINE_{'_'.join(str(p) for p in e['loc'][:1]).upper()}: {plain(e['msg'])}"
        for e in exc.errors(include_url=False)
    )
    return f"invalid setting: {problems}"


def _fail(line: str, code: int) -> int:
    typer.echo(f"error: {_one_line(line)}", err=True)
    return code


def reported(run: Callable[[], Any]) -> int:
    """Run the command line; returns its exit code, having printed any error as one line."""
    try:
        result = run()
    except typer.Exit as exc:
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        if exc.format_message().strip():  # rich has printed the help already
            exc.show()
        return INVALID
    except typer.TyperException as exc:  # the flags' own parsing: unknown, missing, malformed
        return _fail(f"usage: {exc.format_message()}", INVALID)
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", INTERRUPTED)
    except InvalidInput as exc:
        return _fail(_invalid_line(exc), INVALID)
    except DisputeEngineError as exc:
        code = exit_code(exc)
        return _fail(f"unavailable: {exc.message}" if code == UNAVAILABLE else exc.message, code)
    except ValidationError as exc:  # only the settings are validated outside the engine
        return _fail(_settings_line(exc), INVALID)
    except SettingsError as exc:  # a value that is not even JSON where JSON is expected
        field = _SETTINGS_FIELD.search(str(exc))
        name = f"DISPUTE_ENGINE_{field.group(1).upper()}" if field else "a DISPUTE_ENGINE_ value"
        return _fail(f"invalid setting: {name}: cannot be parsed (JSON expected)", INVALID)
    except STORAGE_FAULTS as exc:
        # The engine maps storage errors itself; this is the last line of defence.
        return _fail(f"unavailable: cannot use the database: {first_line(exc)}", UNAVAILABLE)
    return result if isinstance(result, int) else DONE
