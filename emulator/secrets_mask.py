"""Masking of secrets before anything is journaled, logged or shown."""

from __future__ import annotations

__all__ = ["mask_secret"]


def mask_secret(value: str) -> str:
    """Keep a short prefix so people can tell keys apart; never the whole value.

    >>> mask_secret("sec_abc12300000000000000")
    'sec_…(24 chars)'
    """
    if len(value) <= 6:
        return f"…({len(value)} chars)"
    return f"{value[:4]}…({len(value)} chars)"
