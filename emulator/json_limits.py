"""Limits on parsed JSON bodies: nesting depth, string length, fields per object, strictness.

Pure: the HTTP adapters parse a body, then call :func:`check_json_limits` before anything
else looks at it. Segment documents no depth, width or string limit, only sizes: 32 KB per
message and 500 KB per batch (docs/reason-codes.md). So the width and string limits sit where
no body within 500 KB can reach them (every object member costs at least 4 bytes, every
character at least one), and they still stop pathological bodies on the surfaces that take up
to 4 MB. The depth limit is the one that a body within Segment's sizes can reach: Python's
JSON parser and encoder recurse, so the emulator refuses, with a 400 naming ``max_depth``,
what it could not carry through the journal; 512 levels is far above any real message.

Besides the size limits it refuses what Python's ``json`` module accepts but JSON and Unicode
do not: strings holding a lone UTF-16 surrogate (``"\\udc00"``, or CESU-8 bytes, which
``json.loads`` decodes to the same) and the non-finite numbers ``NaN``, ``Infinity`` and
overflowing ones like ``1e400``. Neither can be stored in SQLite, written as strict JSON or
sent on as UTF-8, so nothing downstream must ever meet one (docs/reliability.md).
:func:`strict_dumps` is how the emulator writes JSON, so nothing it writes holds one either.

Segment's own entrances may read invalid Unicode the other way, as Go's ``encoding/json``
reads quoted strings (the ``invalid-unicode`` assumption, docs/assumptions.md):
:func:`loads_replacing_invalid_unicode` turns each lone surrogate and each byte that is not
UTF-8 into U+FFFD and says which strings it changed, so what it returns is valid Unicode too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emulator.errors import InputError

__all__ = [
    "SEGMENT_BATCH_BYTES",
    "SEGMENT_MESSAGE_BYTES",
    "JsonLimitExceeded",
    "JsonLimits",
    "check_json_limits",
    "loads_replacing_invalid_unicode",
    "strict_dumps",
    "strict_loads",
    "within_limits",
]

_MAX_SHOWN_POINTER = 120
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A \u escape that json.loads may decode to a lone surrogate (or to half of a valid pair).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_REPLACEMENT = "\ufffd"

SEGMENT_MESSAGE_BYTES = 32 * 1024
"""Segment's documented size limit for one Tracking API message."""
SEGMENT_BATCH_BYTES = 500 * 1024
"""Segment's documented size limit for one ``/v1/batch`` request."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonLimits:
    """How deep, how long and how wide a JSON body may be."""

    max_depth: int = 512
    """Objects and arrays inside each other; the body itself is level 1."""
    max_string_length: int = SEGMENT_BATCH_BYTES
    """Characters in any string, object keys included: no string within a batch is longer."""
    max_object_fields: int = SEGMENT_BATCH_BYTES // 4
    """Members of any one object: each costs at least 4 bytes (``"":0``) and a comma."""


# Strictness only: answers from other servers are read up to a byte limit already.
_ANY_SIZE = JsonLimits(max_depth=10**6, max_string_length=10**9, max_object_fields=10**9)


class JsonLimitExceeded(InputError):
    """A body breaks one of :class:`JsonLimits` or is not strict JSON; ``code`` names the rule."""

    def __init__(self, code: str, pointer: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.pointer = pointer


# A path is built backwards as (parent, key) pairs and rendered only when a limit is broken.
_Path = tuple[Any, str | int] | None


def check_json_limits(value: Any, limits: JsonLimits = JsonLimits(), *, what: str = "body") -> None:
    """Raise :class:`JsonLimitExceeded` naming the first limit ``value`` breaks, and where.

    Iterative, so a document nested deeper than Python's recursion limit is measured too.
    A fast pass (:func:`within_limits`) answers for the bodies that break nothing, which is
    nearly all of them; this walk, which keeps each value's path, runs when it cannot.
    """
    if not within_limits(value, limits):
        _name_the_break(value, limits, what)


def _name_the_break(value: Any, limits: JsonLimits, what: str) -> None:
    """The reference walk: raise naming the first limit ``value`` breaks, or return."""
    pending: list[tuple[Any, int, _Path]] = [(value, 1, None)]
    while pending:
        item, depth, path = pending.pop()
        if isinstance(item, str):
            if len(item) > limits.max_string_length:
                raise JsonLimitExceeded(
                    "string_too_long",
                    _pointer(path),
                    f"{what} has a string of {len(item)} characters at {_shown(path)}; "
                    f"the limit is {limits.max_string_length} characters (max_string_length)",
                )
            if not item.isascii() and (found := _LONE_SURROGATE.search(item)) is not None:
                raise JsonLimitExceeded(
                    "invalid_unicode",
                    _pointer(path),
                    f"{what} has a string that is not valid Unicode at {_shown(path)}: it holds "
                    f"a lone surrogate U+{ord(found.group()):04X} (from a \\u escape or "
                    "CESU-8 bytes), which UTF-8 cannot carry (invalid_unicode)",
                )
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise JsonLimitExceeded(
                "non_finite_number",
                _pointer(path),
                f"{what} has the number {item!r} at {_shown(path)}; JSON numbers are finite "
                "(NaN, Infinity and numbers beyond ±1.8e308 are not) (non_finite_number)",
            )
        if not isinstance(item, dict | list):
            continue
        if depth > limits.max_depth:
            raise JsonLimitExceeded(
                "too_deep",
                _pointer(path),
                f"{what} nests deeper than {limits.max_depth} levels at {_shown(path)} (max_depth)",
            )
        if isinstance(item, list):
            pending.extend((child, depth + 1, (path, index)) for index, child in enumerate(item))
            continue
        if len(item) > limits.max_object_fields:
            raise JsonLimitExceeded(
                "too_many_fields",
                _pointer(path),
                f"{what} has an object with {len(item)} fields at {_shown(path)}; the limit is "
                f"{limits.max_object_fields} fields per object (max_object_fields)",
            )
        for key, child in item.items():
            pending.append((key, depth + 1, (path, key)))
            pending.append((child, depth + 1, (path, key)))


# The fast pass recurses; past this depth it leaves the document to the iterative walk.
_FAST_MAX_DEPTH = 200


def within_limits(value: Any, limits: JsonLimits = JsonLimits()) -> bool:
    """``True`` only if :func:`check_json_limits` would find nothing wrong with ``value``.

    The fast pass over parsed JSON, run on every body at every hop: no paths kept, exact
    types only. ``False`` means "not sure" (a break, a type parsed JSON never holds, nesting
    past 200 levels), and the walk that names the break decides;
    tests/test_json_limits.py checks both answer alike.
    """
    max_depth = min(limits.max_depth, _FAST_MAX_DEPTH)
    kind = type(value)
    if kind is dict or kind is list:
        return _fits(value, 1, max_depth, limits.max_string_length, limits.max_object_fields)
    return _leaf_fits(value, kind, limits.max_string_length)


def _fits(item: Any, depth: int, max_depth: int, max_string: int, max_fields: int) -> bool:
    """:func:`within_limits` of a dict or list ``depth`` levels down (limits as arguments:
    this runs for every container of every body, and attribute look-ups would double it)."""
    if depth > max_depth:
        return False
    children: Iterable[Any] = item
    if type(item) is dict:
        if len(item) > max_fields or not _keys_fit(item, max_string):
            return False
        children = item.values()
    # Strings are checked inline and containers recurse: most values are strings.
    for child in children:
        kind = type(child)
        if kind is str:
            if len(child) > max_string or not (child.isascii() or _text_fits(child, max_string)):
                return False
        elif kind is dict or kind is list:
            if not _fits(child, depth + 1, max_depth, max_string, max_fields):
                return False
        elif not _leaf_fits(child, kind, max_string):
            return False
    return True


def _keys_fit(item: dict[Any, Any], max_string: int) -> bool:
    for key in item:
        if type(key) is not str or len(key) > max_string:
            return False
        if not (key.isascii() or _text_fits(key, max_string)):
            return False
    return True


def _text_fits(text: str, max_string: int) -> bool:
    return len(text) <= max_string and (text.isascii() or _LONE_SURROGATE.search(text) is None)


def _leaf_fits(item: Any, kind: type, max_string: int) -> bool:
    if kind is str:
        return _text_fits(item, max_string)
    if kind is float:
        return math.isfinite(item)
    return kind is int or kind is bool or item is None


# What json.dumps(value, allow_nan=False[, separators=(",", ":")]) builds on every call, built
# once: every hop writes JSON several times, and building the encoder costs as much as
# encoding a small answer. An encoder holds no state between calls.
_STRICT = json.JSONEncoder(allow_nan=False)
_STRICT_COMPACT = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def strict_dumps(value: Any, *, compact: bool = False) -> str:
    """``value`` as JSON that any strict parser reads: ``ValueError`` on NaN or Infinity."""
    return (_STRICT_COMPACT if compact else _STRICT).encode(value)


def strict_loads(raw: bytes | str) -> Any:
    """``raw`` parsed as JSON, or ``ValueError`` if it is not strict JSON.

    For answers the emulator reads from other servers (a destination, Refersion): what it
    keeps of them must be as strict as what it takes from clients.
    """
    value = json.loads(raw)
    try:
        check_json_limits(value, _ANY_SIZE, what="the answer")
    except JsonLimitExceeded as exc:
        raise ValueError(str(exc)) from None
    return value


def loads_replacing_invalid_unicode(raw: bytes) -> tuple[Any, tuple[str, ...]]:
    """``raw`` parsed as JSON, with invalid Unicode in strings and keys replaced by U+FFFD.

    As Go's ``encoding/json`` reads quoted strings (docs/sources.md#go-json-decoding): each
    lone UTF-16 surrogate escape (``"\\udc00"``) becomes one U+FFFD, a valid pair stays the
    character it encodes, and each byte that is not part of valid UTF-8 becomes one U+FFFD
    (so CESU-8's ``ED A0 80`` becomes three). Returns the value and the JSON pointers of the
    strings and keys it changed, sorted; ``()`` when it changed nothing. Raises
    ``ValueError`` (or ``RecursionError``) as :func:`json.loads` does for what is not JSON.
    """
    encoding = json.detect_encoding(raw)
    if not encoding.startswith("utf-8"):
        # UTF-16 or UTF-32 text: json decodes it (a lone surrogate survives, replaced below).
        return _replace_invalid_unicode(json.loads(raw))
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        # One lone surrogate (U+DC80..U+DCFF) per byte that is not UTF-8, replaced below.
        text = raw.decode(encoding, "surrogateescape")
    else:
        if _SURROGATE_ESCAPE.search(text) is None:
            return json.loads(text), ()
    return _replace_invalid_unicode(json.loads(text))


def _replace_invalid_unicode(value: Any) -> tuple[Any, tuple[str, ...]]:
    """``value`` with every lone surrogate in its strings and keys replaced by U+FFFD.

    Changes the containers of ``value`` in place (it is meant for a value just parsed) and
    returns it with the JSON pointers of what it replaced. Iterative, like
    :func:`check_json_limits`. Two keys that become the same keep the later value, as a Go
    map does.
    """
    if isinstance(value, str):
        return (_replaced(value), ("",)) if _is_invalid(value) else (value, ())
    if not isinstance(value, dict | list):
        return value, ()
    replaced: list[str] = []
    pending: list[tuple[Any, _Path]] = [(value, None)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, dict) and any(_is_invalid(key) for key in item):
            members = list(item.items())
            item.clear()
            for key, child in members:
                if _is_invalid(key):
                    key = _replaced(key)
                    replaced.append(_pointer((path, key)))
                item[key] = child
        # Only values are assigned below, so changing them while iterating is safe.
        for key, child in item.items() if isinstance(item, dict) else enumerate(item):
            if isinstance(child, str):
                if _is_invalid(child):
                    item[key] = _replaced(child)
                    replaced.append(_pointer((path, key)))
            elif isinstance(child, dict | list):
                pending.append((child, (path, key)))
    return value, tuple(sorted(set(replaced)))


def _is_invalid(text: str) -> bool:
    return not text.isascii() and _LONE_SURROGATE.search(text) is not None


def _replaced(text: str) -> str:
    return _LONE_SURROGATE.sub(_REPLACEMENT, text)


def _pointer(path: _Path) -> str:
    tokens: list[str] = []
    while path is not None:
        path, token = path
        # A key may itself hold a lone surrogate: name it as a \u escape, never echo it.
        shown = str(token).encode("utf-8", "backslashreplace").decode("utf-8")
        tokens.append(shown.replace("~", "~0").replace("/", "~1"))
    return "".join(f"/{token}" for token in reversed(tokens))


def _shown(path: _Path) -> str:
    pointer = _pointer(path) or "/"
    if len(pointer) <= _MAX_SHOWN_POINTER:
        return pointer
    return f"{pointer[: _MAX_SHOWN_POINTER - 1]}…"
