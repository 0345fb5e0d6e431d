"""Checks every fake Refersion request passes before its endpoint runs: key headers, then body.

Documented (docs/sources.md#refersion-api-v2): wrong keys are 401 "Invalid API credentials
(error 2).", an empty body is 404 "Bad request, no body". Undocumented, so chosen here: a body
that is not UTF-8 JSON holding an object is a 400 whose ``error`` names the problem.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from emulator.config import RefersionCredentials
from emulator.fake_refersion.reply import Reply, error_reply

__all__ = [
    "INVALID_CREDENTIALS",
    "NO_BODY",
    "PUBLIC_KEY_HEADER",
    "SECRET_KEY_HEADER",
    "credentials_match",
    "parse_body",
]

PUBLIC_KEY_HEADER = "Refersion-Public-Key"
SECRET_KEY_HEADER = "Refersion-Secret-Key"  # noqa: S105 (a header name)
INVALID_CREDENTIALS = "Invalid API credentials (error 2)."
NO_BODY = "Bad request, no body"
_MAX_INT_DIGITS = 4000
# Python's json module lets "\ud800" escapes through; such strings cannot be stored or encoded.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def credentials_match(headers: Mapping[str, str], credentials: RefersionCredentials) -> bool:
    """Whether both key headers (names in any case) carry the account's keys."""
    sent: dict[str, str] = {}
    for name, value in headers.items():
        sent.setdefault(name.lower(), value)
    public_ok = _same(sent.get(PUBLIC_KEY_HEADER.lower()), credentials.public_key)
    secret_ok = _same(sent.get(SECRET_KEY_HEADER.lower()), credentials.secret_key)
    return public_ok and secret_ok


def _same(sent: str | None, expected: str) -> bool:
    if sent is None:
        return False
    # Bytes, because compare_digest refuses non-ASCII str; constant time against key probing.
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def parse_body(body: bytes) -> dict[str, Any] | Reply:
    """The JSON object in ``body``, or the error reply that says why there is none."""
    if not body.strip():
        return error_reply(404, NO_BODY)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return _bad(f"body is not valid UTF-8 (byte {error.start})")
    try:
        parsed = json.loads(text, parse_constant=_reject_constant, parse_int=_json_int)
    except json.JSONDecodeError as error:
        return _bad(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        )
    except RecursionError:
        return _bad("body is nested too deeply")
    except ValueError as error:
        return _bad(f"body is not valid JSON: {error}")
    if not isinstance(parsed, dict):
        return _bad(f"body must be a JSON object, not {_json_type(parsed)}")
    if _has_lone_surrogate(parsed):
        return _bad("body is not valid JSON: a string holds an unpaired surrogate escape")
    return parsed


def _bad(problem: str) -> Reply:
    return error_reply(400, f"Bad request, {problem}")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _json_int(digits: str) -> int:
    # int() refuses very long digit strings with advice about sys.set_int_max_str_digits.
    if len(digits) > _MAX_INT_DIGITS:
        raise ValueError(f"a number has more than {_MAX_INT_DIGITS} digits")
    return int(digits)


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _has_lone_surrogate(value: object) -> bool:
    # Iterative: the parser accepts nesting deeper than a recursive walk could follow.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
