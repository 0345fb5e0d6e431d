"""Engage's trait key for an audience or computed-trait name, as a snake_cased word list.

``Order Completed Last 30 Days`` → ``order_completed_last_30days``. No public source states
Engage's algorithm; Segment's docs show only resulting keys (``order_completed_last_30days``,
``high_value_users``, ``first_time_shopper``). The rule here reproduces them
(docs/sources.md#engage; README "Engage audience syncs"):

1. accents are folded to ASCII and every other non-alphanumeric character separates words;
2. inside a run of letters and digits, camelCase and acronym boundaries separate words
   (``sampleText`` → ``sample``, ``text``; ``VIPCustomers`` → ``vip``, ``customers``), and
   digits stay with the letters before them (``Base64Encode`` → ``base64``, ``encode``);
3. a word made only of digits is joined to the word after it, when one follows and starts
   with a letter (``30 Days`` → ``30days``);
4. words are lower-cased and joined with ``_``.
"""

from __future__ import annotations

import re
import unicodedata

from emulator.errors import InputError

__all__ = ["engage_key"]

_RUNS = re.compile(r"[A-Za-z0-9]+")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")


def engage_key(name: str) -> str:
    """The snake_cased key Engage gives a computation called ``name``.

    Raises :class:`~emulator.errors.InputError` when ``name`` has no letter or digit.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = [word.lower() for run in _RUNS.findall(folded) for word in _WORDS.findall(run)]
    if not words:
        raise InputError(f"name {name!r} has no letter or digit to build an Engage key from")
    joined: list[str] = []
    for word in words:
        if joined and joined[-1].isdigit() and word[0].isalpha():
            joined[-1] += word
        else:
            joined.append(word)
    return "_".join(joined)
