"""The one email rule every part applies: email-validator's syntax check, without DNS.

The mapping, the contracts and the fake Refersion each judge the same address while an event
passes through them, and the check costs as much as the rest of the mapping. Recent verdicts
are remembered, so it runs once per address instead of three times; each part still asks
for every address it sees, and the answer is email-validator's either way.
"""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email

__all__ = ["email_problem"]

# Enough for the events in flight many times over; an entry is a short string or None.
_REMEMBERED = 4096


@functools.lru_cache(maxsize=_REMEMBERED)
def email_problem(email: str) -> str | None:
    """Why ``email`` is not a syntactically valid address (email-validator's words), or None."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None
