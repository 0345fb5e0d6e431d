"""The destination API key: parsing ``publickey.secretkey`` and Segment's Basic-auth header."""

from __future__ import annotations

import base64

import pytest

from emulator.config import RefersionCredentials
from emulator.destination.mapping import ApiKey, parse_api_key, parse_basic_auth
from emulator.errors import EmulatorError, InvalidApiKey

SECRET = "sec_TOPSECRET0123456789"


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode("ascii")


@pytest.mark.parametrize(
    ("value", "public_key", "secret_key"),
    [
        ("pub.sec", "pub", "sec"),
        # Split at the first dot: the secret key keeps any further dots.
        ("pub_1.sec.with.dots", "pub_1", "sec.with.dots"),
        (f"pub_abc.{SECRET}", "pub_abc", SECRET),
    ],
)
def test_parse_api_key_splits_at_first_dot(value: str, public_key: str, secret_key: str) -> None:
    assert parse_api_key(value) == ApiKey(public_key, secret_key)


def test_parse_api_key_reads_the_fake_accounts_own_setting() -> None:
    credentials = RefersionCredentials()
    key = parse_api_key(credentials.api_key)
    assert key.headers() == {
        "Refersion-Public-Key": credentials.public_key,
        "Refersion-Secret-Key": credentials.secret_key,
    }


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (SECRET, "no '.'"),
        ("", "no '.'"),
        (f".{SECRET}", "empty public key"),
        (f"   .{SECRET}", "empty public key"),
        ("pub_abc.", "empty secret key"),
        ("pub_abc.  ", "empty secret key"),
    ],
)
def test_parse_api_key_rejects_bad_format_without_echoing_secret(value: str, what: str) -> None:
    with pytest.raises(InvalidApiKey) as caught:
        parse_api_key(value)
    message = str(caught.value)
    assert "publickey.secretkey" in message
    assert what in message
    assert SECRET not in message


def test_invalid_api_key_is_an_emulator_error() -> None:
    assert issubclass(InvalidApiKey, EmulatorError)


def test_repr_and_masked_never_show_the_secret() -> None:
    key = ApiKey("pub_abc", SECRET)
    for text in (repr(key), str(key), key.masked, f"{key}", repr([key])):
        assert SECRET not in text
        assert "pub_abc" in text
    assert key.masked == f"pub_abc.{SECRET[:4]}…({len(SECRET)} chars)"


@pytest.mark.parametrize(
    "header",
    [
        basic(f"pub_abc.{SECRET}:".encode()),
        "basic " + base64.b64encode(f"pub_abc.{SECRET}:".encode()).decode(),
        f"  {basic(f'pub_abc.{SECRET}:'.encode())}  ",
        # Segment leaves the password empty; anything there is ignored.
        basic(f"pub_abc.{SECRET}:ignored-password".encode()),
    ],
)
def test_parse_basic_auth_reads_the_username(header: str) -> None:
    assert parse_basic_auth(header) == ApiKey("pub_abc", SECRET)


@pytest.mark.parametrize(
    ("header", "what"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        (f"Bearer pub_abc.{SECRET}", "not Basic"),
        ("Basic !!!not-base64!!!", "not base64"),
        ("Basic " + base64.b64encode(b"\xff\xfe:").decode(), "not base64 of UTF-8"),
        (basic(f"pub_abc.{SECRET}".encode()), "no ':'"),
        (basic(f"{SECRET}:".encode()), "no '.'"),
        (basic(b"pub_abc.:"), "empty secret key"),
    ],
)
def test_parse_basic_auth_errors_say_what_is_wrong(header: str | None, what: str) -> None:
    with pytest.raises(InvalidApiKey) as caught:
        parse_basic_auth(header)
    message = str(caught.value)
    assert what in message
    assert "publickey.secretkey" in message
    assert SECRET not in message
