"""The destination API key ``publickey.secretkey`` and the Basic-auth header that carries it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from emulator.errors import InvalidApiKey
from emulator.secrets_mask import mask_secret

__all__ = ["ApiKey", "parse_api_key", "parse_basic_auth"]

_FORMAT = 'expected "publickey.secretkey"'


@dataclass(frozen=True, slots=True)
class ApiKey:
    """Refersion's key pair; ``repr`` and :attr:`masked` never show the secret in full."""

    public_key: str
    secret_key: str

    @property
    def masked(self) -> str:
        return f"{self.public_key}.{mask_secret(self.secret_key)}"

    def headers(self) -> dict[str, str]:
        """The headers Refersion's REST API v2 authenticates with."""
        return {"Refersion-Public-Key": self.public_key, "Refersion-Secret-Key": self.secret_key}

    def __repr__(self) -> str:
        return (
            f"ApiKey(public_key={self.public_key!r}, secret_key={mask_secret(self.secret_key)!r})"
        )


def parse_api_key(value: str) -> ApiKey:
    """Split the destination setting at its first ``.`` (secret keys may contain dots)."""
    public_key, dot, secret_key = value.partition(".")
    if not dot:
        raise InvalidApiKey(
            f"API key has no '.' separating the public and secret keys ({_FORMAT}, "
            f"got {len(value)} characters without a '.')"
        )
    if not public_key.strip():
        raise InvalidApiKey(f"API key has an empty public key before the '.' ({_FORMAT})")
    if not secret_key.strip():
        raise InvalidApiKey(
            f"API key {mask_secret(public_key)}.… has an empty secret key after the '.' ({_FORMAT})"
        )
    return ApiKey(public_key, secret_key)


def parse_basic_auth(header: str | None) -> ApiKey:
    """The API key Segment sends as ``Authorization: Basic base64("<apiKey>:")``.

    The password part after ``:`` is ignored, as Segment always leaves it empty.
    """
    if header is None or not header.strip():
        raise InvalidApiKey(
            'Authorization header is missing; expected Basic base64("publickey.secretkey:")'
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidApiKey(
            f"Authorization scheme {scheme[:20]!r} is not Basic; "
            'expected Basic base64("publickey.secretkey:")'
        )
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise InvalidApiKey(
            'Authorization Basic credentials are not base64 of UTF-8 "publickey.secretkey:"'
        ) from error
    username, colon, _ = decoded.partition(":")
    if not colon:
        raise InvalidApiKey(
            "Authorization Basic credentials have no ':'; expected base64(\"publickey.secretkey:\")"
        )
    return parse_api_key(username)
