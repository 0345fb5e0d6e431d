"""Hypothesis against every documented POST endpoint: raw bytes, encodings, content types, headers.

What schemathesis cannot send: bodies that are not JSON at all, mutated and truncated JSON,
lying Content-Encoding headers, and arbitrary headers (auth, origin, fetch metadata, tokens).
Every answer must be a JSON 4xx (or 2xx), never a 5xx, and the server must log no error.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import logging
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.contract_checks.openapi import bundled_document, operations
from emulator.server.background import BackgroundEmulator
from tests.support import FUZZ_NOTES, fast_config

pytestmark = pytest.mark.fuzz

DOCUMENT = bundled_document()
# As in test_fuzz_openapi: "x-emulator-fuzz": false leaves an operation out.
POST_PATHS = sorted(
    path
    for method, path in operations(DOCUMENT)
    if method == "POST" and DOCUMENT["paths"][path]["post"].get("x-emulator-fuzz") is not False
)
# The destination's documented answer to an event type it does not map (Segment's contract).
DOCUMENTED_5XX = {"/destination": {501}}
FUZZ = settings(
    # HYPOTHESIS_PROFILE=thorough raises it.
    max_examples=max(500, settings().max_examples),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

tried: Counter[str] = Counter()


class ErrorLog(logging.Handler):
    """Every ERROR a logger emits while the fuzz runs (aiohttp's, asyncio's, the emulator's)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Iterator[BackgroundEmulator]:
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    started = time.perf_counter()
    try:
        with BackgroundEmulator(fast_config()) as server:
            yield server
            app_errors = server.server_errors()
    finally:
        logging.getLogger().removeHandler(errors)
    elapsed = time.perf_counter() - started
    cases = ", ".join(f"{name} {count}" for name, count in sorted(tried.items()))
    note = f"hypothesis raw fuzz: {sum(tried.values())} cases ({cases}) in {elapsed:.1f} s"
    request.config.stash.setdefault(FUZZ_NOTES, []).append(note)
    assert app_errors == [], "the server hit unhandled exceptions"
    assert errors.records == [], "the server logged errors"


# -- strategies ------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
_VALID = {
    "identify": {"writeKey": "wk", "userId": "u1", "traits": {"email": "a@example.com"}},
    "batch": {"writeKey": "wk", "batch": [{"type": "identify", "userId": "u1"}]},
    "refersion": {"first_name": "A", "last_name": "B", "email": "a@example.com", "id": 1},
}


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    """A valid-looking body with bytes flipped, cut short or spliced."""
    raw = json.dumps(draw(st.sampled_from(list(_VALID.values())))).encode()
    cut = draw(st.integers(min_value=0, max_value=len(raw)))
    junk = draw(st.binary(max_size=8))
    return raw[:cut] + junk + raw[cut + len(junk) :]


bodies = st.one_of(
    st.binary(max_size=512),
    _json_values.map(lambda value: json.dumps(value).encode()),
    mutated_json(),
    st.sampled_from([b"", b"null", b"[]", b"{}", b"\xef\xbb\xbf{}", b"{" * 3000, b'"\\ud800"']),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-16",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
            "",
            ";;;",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
)
encodings = st.sampled_from(["none", "gzip", "deflate", "lying-gzip", "br", "gzip, gzip"])
_TOKEN = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"),
    min_size=1,
    max_size=20,
)
_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
_basic = st.binary(max_size=40).map(lambda raw: "Basic " + base64.b64encode(raw).decode())
header_sets = st.dictionaries(
    st.sampled_from(
        [
            "Authorization",
            "Refersion-Public-Key",
            "Refersion-Secret-Key",
            "Origin",
            "Sec-Fetch-Site",
            "X-Emulator-Token",
            "Cookie",
            "Accept",
            "Accept-Encoding",
            "User-Agent",
        ]
    )
    | _TOKEN,
    _VALUE | _basic,
    max_size=6,
)


def encode(body: bytes, encoding: str) -> tuple[bytes, str | None]:
    if encoding == "gzip":
        return gzip.compress(body), "gzip"
    if encoding == "deflate":
        return zlib.compress(body), "deflate"
    if encoding == "lying-gzip":
        return body, "gzip"
    if encoding in ("br", "gzip, gzip"):
        return body, encoding
    return body, None


# -- the client ------------------------------------------------------------------------------


def post(
    live: BackgroundEmulator, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    """A raw POST with exactly these headers; the status and the parsed JSON answer."""
    address = urlsplit(live.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        content_type = response.getheader("Content-Type", "")
    finally:
        connection.close()
    assert content_type.startswith("application/json"), (path, response.status, payload[:200])
    return response.status, json.loads(payload)


def assert_no_server_error(path: str, status: int, answer: Any) -> None:
    allowed = DOCUMENTED_5XX.get(path, set())
    assert status < 500 or status in allowed, (path, status, answer)
    assert isinstance(answer, dict), answer


# -- the tests -------------------------------------------------------------------------------


@FUZZ
@given(
    path=st.sampled_from(POST_PATHS),
    body=bodies,
    content_type=content_types,
    encoding=encodings,
)
def test_any_bytes_on_any_post_endpoint_get_a_json_answer(
    live: BackgroundEmulator, path: str, body: bytes, content_type: str | None, encoding: str
) -> None:
    tried["bodies"] += 1
    data, content_encoding = encode(body, encoding)
    headers = {} if content_type is None else {"Content-Type": content_type}
    if content_encoding is not None:
        headers["Content-Encoding"] = content_encoding
    status, answer = post(live, path, data, headers)
    assert_no_server_error(path, status, answer)


@FUZZ
@given(path=st.sampled_from(POST_PATHS), body=bodies, headers=header_sets)
def test_any_headers_on_any_post_endpoint_get_a_json_answer(
    live: BackgroundEmulator, path: str, body: bytes, headers: dict[str, str]
) -> None:
    tried["headers"] += 1
    status, answer = post(live, path, body, {"Content-Type": "application/json", **headers})
    assert_no_server_error(path, status, answer)
