"""Masking of secrets before anything is journaled, logged or shown."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

__all__ = ["mask_fields", "mask_secret"]


def mask_secret(value: str) -> str:
    """Keep a short prefix so people can tell keys apart; never the whole value.

    >>> mask_secret("sec_abc12300000000000000")
    'sec_…(24 chars)'
    """
    if len(value) <= 6:
        return f"…({len(value)} chars)"
    return f"{value[:4]}…({len(value)} chars)"


def mask_fields(value: Any, names: Collection[str]) -> Any:
    """A copy of the object ``value`` with its string fields ``names`` masked; else ``value``.

    >>> mask_fields({"writeKey": "wk_live_0123456789", "userId": "u1"}, {"writeKey"})
    {'writeKey': 'wk_l…(18 chars)', 'userId': 'u1'}
    """
    if not isinstance(value, dict) or not any(name in value for name in names):
        return value
    return {
        key: mask_secret(item) if key in names and isinstance(item, str) else item
        for key, item in value.items()
    }
