"""Compressed bodies: every encoding aiohttp decodes is accepted, and every bomb refused early."""

from __future__ import annotations

import functools
import gzip
import io
import json
import zlib
from collections.abc import Callable

import aiohttp
import brotli  # type: ignore[import-untyped]
import pytest
from backports import zstd

from emulator.server.emulator import Emulator

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": functools.partial(brotli.compress, quality=1),
    "zstd": zstd.compress,
}


@functools.cache
def bomb(encoding: str) -> bytes:
    """16 MB of JSON whitespace, four times the largest limit, in a few KB."""
    return ENCODERS[encoding](b'{"writeKey": "wk", "batch": [' + b" " * 2**24 + b"]}")


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
async def test_each_encoding_is_decoded(
    emulator: Emulator, http: aiohttp.ClientSession, encoding: str
) -> None:
    payload = {"writeKey": "wk", "batch": [{"type": "track", "userId": "z", "event": encoding}]}
    body = ENCODERS[encoding](json.dumps(payload).encode())
    headers = {"Content-Encoding": encoding, "Content-Type": "application/json"}
    async with http.post(f"{emulator.url}/v1/batch", data=body, headers=headers) as resp:
        assert resp.status == 200
    [trace] = emulator.runtime.journal
    assert trace.message["event"] == encoding


@pytest.mark.parametrize("path", ["/v1/batch", "/_emulator/deliver", "/destination"])
@pytest.mark.parametrize("encoding", sorted(ENCODERS))
async def test_a_bomb_in_any_encoding_is_refused_after_the_limit(
    emulator: Emulator, http: aiohttp.ClientSession, encoding: str, path: str
) -> None:
    data = bomb(encoding)
    assert len(data) < 100 * 1024
    headers = {"Content-Encoding": encoding, "Content-Type": "application/json"}
    async with http.post(emulator.url + path, data=io.BytesIO(data), headers=headers) as resp:
        assert resp.status in (400, 413)
        body = await resp.json()
    assert (body.get("code") or body.get("reason")) == "request_too_large"
    assert "after decompression" in body["message"]
    assert len(emulator.runtime.journal) == 0
