"""JSON that can always be read back: one definition of what Wayline takes in and keeps.

Python's `json` is lenient both ways: it reads `NaN`, `Infinity` and `1e999` (as inf), lone
UTF-16 surrogates ("\\ud800") and, given bytes, UTF-16 and UTF-32; and it writes non-finite
numbers as the non-JSON tokens `NaN` and `Infinity`. A value like that can be written to the
database and then fail every response that holds it. This module refuses such values on the
way in (`loads`, for request bodies) and on the way to the database (`dumps`, the store's
serialiser), and says where the bad value is.

The rules for request bodies are those of I-JSON (RFC 7493): UTF-8 text, strings of Unicode
scalar values (no lone surrogates), numbers within the range of an IEEE 754 double, and no
name twice in one object. The store's rule is the part of it that a read depends on: finite
numbers and valid Unicode.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from typing import Any

Path = tuple[str | int, ...]

NOT_UNICODE = "is not valid text: it holds a lone surrogate or bytes that are not UTF-8"
NOT_FINITE = "must be a finite number (not NaN or Infinity)"
TOO_LARGE = "is too large a number"
NAMED_TWICE = "is given more than once"
BAD_NAME = "has a name that is not valid text: a lone surrogate or bytes that are not UTF-8"
# A double's largest finite value has 309 digits before the point: any integer literal longer
# than that (sign aside) is out of range, and refusing it by length never builds the int.
MAX_INTEGER_DIGITS = 309
# Built once: `json.dumps` with options builds a new encoder on every call, and the store
# serialises several values a step.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


class UnsafeJson(ValueError):
    """A value that JSON cannot carry safely, with where it is (keys and list indexes)."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{where(path)} {reason}")
        self.path = path
        self.reason = reason

    @property
    def where(self) -> str:
        return where(self.path)


def where(path: Path) -> str:
    """A path as dotted text, as the API names fields: answers.NAME, items.0."""
    return ".".join(str(part) for part in path) or "body"


# --- reading request bodies ------------------------------------------------------------------


class _Refused:
    """Stands in for a value the decoder met but refuses, until the walk finds its path."""

    def __init__(self, reason: str):
        self.reason = reason


class _Object(dict[str, Any]):
    """A decoded object; `twice` names a key given more than once in it."""

    twice: str | None = None


def _constant(_name: str) -> _Refused:
    return _Refused(NOT_FINITE)  # NaN, Infinity, -Infinity


def _float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _Refused(TOO_LARGE)  # 1e999 reads as inf


def _int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        return _Refused(TOO_LARGE)
    value = int(text)
    return value if abs(value) <= sys.float_info.max else _Refused(TOO_LARGE)


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                found.twice = key
                break
            seen.add(key)
    return found


def loads(body: bytes | str) -> Any:
    """Decode a request body by the rules above. Raises json.JSONDecodeError when the body is
    not JSON text at all (also when it is not UTF-8 outside strings), and UnsafeJson when it is
    JSON with a value Wayline does not take."""
    # Bytes that are not UTF-8 become lone surrogates, so that a bad byte inside a string is
    # reported at its field like any other invalid text, and one outside strings fails parsing.
    text = body.decode("utf-8", errors="surrogateescape") if isinstance(body, bytes) else body
    value = json.loads(
        text,
        parse_constant=_constant,
        parse_float=_float,
        parse_int=_int,
        object_pairs_hook=_object,
    )
    problem = next(_problems(value, ()), None)
    if problem is not None:
        raise problem
    return value


def _problems(value: Any, path: Path) -> Iterator[UnsafeJson]:
    """Every refused value under `value`, depth first (the caller takes the first)."""
    if isinstance(value, _Refused):
        yield UnsafeJson(path, value.reason)
    elif isinstance(value, str):
        if not _is_unicode(value):
            yield UnsafeJson(path, NOT_UNICODE)
    elif isinstance(value, _Object):
        if value.twice is not None:
            yield UnsafeJson((*path, _shown(value.twice)), NAMED_TWICE)
        for key, item in value.items():
            if not _is_unicode(key):
                yield UnsafeJson(path, BAD_NAME)
            yield from _problems(item, (*path, _shown(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, (*path, index))


def _shown(key: str) -> str:
    """A key fit to be named in an error (an invalid one is named by what it is)."""
    return key if _is_unicode(key) else "(a name that is not valid text)"


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- writing to the database -----------------------------------------------------------------


def dumps(value: Any) -> str:
    """The store's JSON serialiser: standard JSON that reads back as the same value. Raises
    UnsafeJson (a ValueError) for a non-finite number or a string that is not valid Unicode,
    so the write fails inside its transaction instead of every later read failing."""
    try:
        text = _ENCODER.encode(value)
        text.encode("utf-8")  # lone surrogates cannot be encoded: refuse them here
    except ValueError as error:  # UnicodeEncodeError is a ValueError too
        raise _first_unstorable(value, ()) or UnsafeJson((), str(error)) from error
    return text


def check(value: Any) -> None:
    """Raise UnsafeJson if `value` could not be stored or sent as JSON (see `dumps`)."""
    dumps(value)


def _first_unstorable(value: Any, path: Path) -> UnsafeJson | None:
    if isinstance(value, float) and not math.isfinite(value):
        return UnsafeJson(path, NOT_FINITE)
    if isinstance(value, str):
        return None if _is_unicode(value) else UnsafeJson(path, NOT_UNICODE)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and not _is_unicode(key):
                return UnsafeJson(path, BAD_NAME)
            found = _first_unstorable(item, (*path, _shown(key) if isinstance(key, str) else key))
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_unstorable(item, (*path, index))
            if found:
                return found
    return None
