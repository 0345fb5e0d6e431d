"""Replace personal data in Segment messages with consistent fakes that keep the rule outcome.

What is personal: ``userId``, ``anonymousId``, ``previousId`` and a top-level ``email``; in
``traits`` and ``context.traits`` the email, names, username, phone, id, avatar, birthday,
website, the address (except ``state`` and ``country``) and the company name;
``context.device.id``/``advertisingId``; every ``ip``; and any email-like text anywhere.

How it is replaced, so the mapping and the fake Refersion decide exactly as before:

- text is replaced word by word (a word is a run of non-whitespace), and whitespace is kept, so a
  one-word name stays one word and blank stays blank; every character keeps its class (ASCII
  lower/upper letter, digit, other letter, other digit) and punctuation is kept, so lengths,
  shapes (a UUID stays UUID-shaped) and limits hold;
- the same word gets the same fake everywhere, case-insensitively (``Jane@X.com`` and
  ``jane@x.com`` stay equal under lower-casing), and different words get different fakes, so a
  delete still finds its identify's affiliate and duplicates stay duplicates;
- an email keeps its top-level domain and stays valid or invalid as it was (checked, not hoped);
- numbers stay numbers with the same digit count (a numeric zip still needs coercing);
- ``state`` and ``country`` are kept: the country decides the outcome, and both are too coarse
  to identify anyone; IPs become documentation addresses (RFC 5737 / RFC 3849).

Fakes come from a seeded RNG: with a fresh random seed (what ``send`` uses) they cannot be
mapped back. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import math
import random
import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

from emulator.destination.mapping.contact import email_syntax_error

__all__ = ["Redactor"]

_TOP_LEVEL_PERSONAL = frozenset({"userId", "anonymousId", "previousId", "email"})
_PERSONAL_TRAITS = frozenset(
    {
        "email",
        "name",
        "firstName",
        "lastName",
        "first_name",
        "last_name",
        "username",
        "phone",
        "phone_number",
        "phoneNumber",
        "mobile",
        "id",
        "userId",
        "user_id",
        "avatar",
        "birthday",
        "website",
    }
)
_KEPT_ADDRESS_FIELDS = frozenset({"state", "country"})
_DEVICE_IDS = frozenset({"id", "advertisingId"})
_EMAIL_LIKE = re.compile(r"[^\s@<>()\[\],;:\"'/?&=]+@[^\s@<>()\[\],;:\"'/?&=]+")
_LOWER_POOL = "àáâãäåæçèéêëìíîïñòóôõöøùúûüýþÿ"
_UPPER_POOL = _LOWER_POOL.upper()
_CJK_FIRST, _CJK_COUNT = 0x4E00, 0x5000
_ATTEMPTS = 200
_IPV4_BLOCKS = ("203.0.113", "198.51.100", "192.0.2")


class Redactor:
    """One redaction run: fakes stay consistent across every message it is given."""

    def __init__(self, *, seed: int) -> None:
        self._rng = random.Random(seed)
        self._fakes: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self._fractions: dict[str, float] = {}
        self._ips: dict[str, str] = {}

    @property
    def replaced(self) -> int:
        """How many distinct values (words, numbers, IPs) have been replaced so far."""
        return len(self._fakes) + len(self._fractions) + len(self._ips)

    def message(self, message: Any) -> Any:
        """A copy of ``message`` (any JSON value) with its personal data replaced."""
        return self._walk(message, ())

    def batch_fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Batch-level ``context``/``integrations``/``sentAt``, redacted like a message's."""
        return {key: self._walk(value, (key,)) for key, value in fields.items()}

    def _walk(self, value: Any, path: tuple[str, ...]) -> Any:
        category = _category(path)
        if category is not None:
            return self._redact(value, category, path)
        if isinstance(value, dict):
            return {key: self._walk(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item, path) for item in value]
        if isinstance(value, str):
            return _EMAIL_LIKE.sub(lambda match: self._word(match[0]), value)
        return value

    def _redact(self, value: Any, category: str, path: tuple[str, ...]) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return self._number(value)
        if isinstance(value, list):
            return [self._redact(item, category, path) for item in value]
        if isinstance(value, dict):
            if category == "address":
                return {
                    key: item if key in _KEPT_ADDRESS_FIELDS else self._redact(item, "text", path)
                    for key, item in value.items()
                }
            if category == "company":
                return {
                    key: self._redact(item, "text", path)
                    if key == "name"
                    else self._walk(item, (*path, key))
                    for key, item in value.items()
                }
            return {key: self._redact(item, category, path) for key, item in value.items()}
        if isinstance(value, str):
            return self._ip(value) if category == "ip" else self._text(value)
        return value

    def _text(self, text: str) -> str:
        out: list[str] = []
        word: list[str] = []
        for char in text:
            if char.isspace():
                if word:
                    out.append(self._word("".join(word)))
                    word = []
                out.append(char)
            else:
                word.append(char)
        if word:
            out.append(self._word("".join(word)))
        return "".join(out)

    def _word(self, word: str) -> str:
        # Lower-case keys keep case-insensitive equality; a few characters change length when
        # lower-cased (İ), and such words are keyed as they are.
        lowered = word.lower()
        folded = len(lowered) == len(word)
        key = lowered if folded else word
        fake = self._fakes.get(key)
        if fake is None:
            fake = self._new_fake(key)
            self._fakes[key] = fake
            self._owners[fake] = key
        if not folded or len(fake) != len(word):
            # A fallback fake (user7@example.com) has its own length: no case to mirror.
            return fake
        return "".join(f.upper() if c.isupper() else f for f, c in zip(fake, word, strict=True))

    def _new_fake(self, key: str) -> str:
        is_email = "@" in key
        valid = is_email and email_syntax_error(key) is None
        # A number written as text must not gain a leading zero: 94103 and "94103" share a fake.
        keep_leading = key.isascii() and key.isdigit() and key[0] != "0"
        candidate = key
        for _ in range(_ATTEMPTS):
            candidate = self._substitute(key, keep_tld=is_email)
            if candidate == key and any(c.isalnum() for c in key):
                continue
            if self._owners.get(candidate, key) != key:
                continue
            if keep_leading and candidate[0] == "0":
                continue
            if is_email and (email_syntax_error(candidate) is None) != valid:
                continue
            return candidate
        if is_email:
            number = len(self._owners) + 1
            return f"user{number}@example.com" if valid else f"not-an-email-{number}"
        return candidate

    def _substitute(self, key: str, *, keep_tld: bool) -> str:
        kept = 0
        if keep_tld and "." in key.rpartition("@")[2]:
            kept = len(key) - key.rindex(".")
        chars = [self._char(c) for c in key[: len(key) - kept]]
        return "".join(chars) + key[len(key) - kept :]

    def _char(self, char: str) -> str:
        rng = self._rng
        if char in string.ascii_lowercase:
            return rng.choice(string.ascii_lowercase)
        if char in string.ascii_uppercase:
            return rng.choice(string.ascii_uppercase)
        if char in string.digits:
            return rng.choice(string.digits)
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            return chr(ord(char) - digit + rng.randrange(10))
        if not char.isalpha():
            return char
        if char.islower():
            return rng.choice(_LOWER_POOL)
        if char.isupper():
            return rng.choice(_UPPER_POOL)
        return chr(_CJK_FIRST + rng.randrange(_CJK_COUNT))

    def _number(self, value: int | float) -> int | float:
        """The same fake as the number's decimal text gets, so 94103 and "94103" stay equal."""
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            return self._fraction(value)
        whole = int(value)
        try:
            digits = str(abs(whole))
        except ValueError:  # beyond sys.get_int_max_str_digits(): no JSON parser yields it
            return value
        fake = int(self._word(digits)) * (-1 if whole < 0 else 1)
        if isinstance(value, int):
            return fake
        try:
            return float(fake)
        except OverflowError:
            return value

    def _fraction(self, value: float) -> float:
        key = repr(value)
        if key not in self._fractions:
            fake = value
            if math.isfinite(value):
                mantissa, e, exponent = key.partition("e")
                for _ in range(_ATTEMPTS):
                    fake = float(self._substitute(mantissa, keep_tld=False) + e + exponent)
                    if math.isfinite(fake) and fake != value:
                        break
                else:
                    fake = value
            self._fractions[key] = fake
        return self._fractions[key]

    def _ip(self, text: str) -> str:
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return self._text(text)
        if text not in self._ips:
            taken = set(self._ips.values())
            number = len(self._ips)
            # An address already in a documentation range must still come out changed, and
            # no two addresses may share a fake: draw the next free one.
            while True:
                fake = _documentation_address(address.version, number)
                if fake != str(address) and fake not in taken:
                    break
                number += 1
            self._ips[text] = fake
        return self._ips[text]


def _documentation_address(version: int, number: int) -> str:
    """The ``number``-th address of the ranges kept for documentation (RFC 5737, RFC 3849)."""
    if version == 6:
        return f"2001:db8::{number + 1:x}"
    block = _IPV4_BLOCKS[(number // 254) % len(_IPV4_BLOCKS)]
    return f"{block}.{number % 254 + 1}"


def _category(path: tuple[str, ...]) -> str | None:
    """How the value at ``path`` (object keys from the message root) is redacted, if at all."""
    if not path:
        return None
    if path[-1] == "ip":
        return "ip"
    if len(path) == 1:
        return "text" if path[0] in _TOP_LEVEL_PERSONAL else None
    if path[:2] == ("context", "device") and len(path) == 3 and path[2] in _DEVICE_IDS:
        return "text"
    if path[0] == "traits":
        relative = path[1:]
    elif path[:2] == ("context", "traits") and len(path) > 2:
        relative = path[2:]
    else:
        return None
    if len(relative) != 1:
        return None
    if relative[0] == "address":
        return "address"
    if relative[0] == "company":
        return "company"
    return "text" if relative[0] in _PERSONAL_TRAITS else None
