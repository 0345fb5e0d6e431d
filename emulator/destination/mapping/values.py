"""Reading hostile JSON values: absence, number-to-string coercion, short quotes for messages."""

from __future__ import annotations

import math

__all__ = ["is_absent", "json_type", "number_to_string", "quote", "stripped_text"]

# Messages quote customer values; a 1 MB name must not become a 1 MB rejection message.
_QUOTE_LIMIT = 60


def is_absent(value: object) -> bool:
    """A missing key, ``null`` and a blank string all mean "not sent"."""
    return value is None or (isinstance(value, str) and not value.strip())


def stripped_text(value: object) -> str | None:
    """The stripped string, or ``None`` when ``value`` is not a non-blank string."""
    if isinstance(value, str):
        return value.strip() or None
    return None


def number_to_string(value: object) -> str | None:
    """The decimal text of a JSON number, or ``None`` for anything else.

    ``bool`` is excluded because JSON ``true`` is not the number 1. Integral floats lose
    their ``.0`` (a zip sent as ``94103.0`` is still ``"94103"``); NaN and infinities,
    which Python's json module accepts, have no meaningful text.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # beyond sys.get_int_max_str_digits()
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def quote(text: str) -> str:
    """A short ``repr`` of a customer string for human messages."""
    return repr(text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "…")


def json_type(value: object) -> str:
    """The JSON name of ``value``'s type, with its article, for "must be a string, not …"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return "a non-finite number"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
