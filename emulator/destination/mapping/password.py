"""The affiliate password: Refersion requires one, Segment never carries one, so it is derived."""

from __future__ import annotations

import hmac
import json
import string
from itertools import cycle

__all__ = ["PASSWORD_LENGTH", "derive_password"]

PASSWORD_LENGTH = 16

# Cycling through the four classes puts every class in the password and never puts the same
# character twice in a row, so Refersion's class and repeat rules hold by construction.
# "@" is left out of the symbols: every valid email has one, so the password never equals it.
_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#$%&*+-=?_")


def derive_password(*, salt: str, unique_merchant_id: str, email: str) -> str:
    """A 16-character password from hmac-sha256(salt, [unique_merchant_id, email]).

    The same message maps to the same request (replays and dedupe compare equal), while the
    salt keeps the password from being computed out of the traits.
    """
    # JSON keeps ("ab", "c") apart from ("a", "bc") and turns lone surrogates into ASCII.
    subject = json.dumps([unique_merchant_id, email]).encode("ascii")
    key = salt.encode("utf-8", "surrogatepass")
    digest = hmac.digest(key, subject, "sha256")
    # A byte modulo a class size is slightly biased; irrelevant for a credential nobody types.
    return "".join(
        alphabet[byte % len(alphabet)]
        for byte, alphabet in zip(digest[:PASSWORD_LENGTH], cycle(_CLASSES), strict=False)
    )
