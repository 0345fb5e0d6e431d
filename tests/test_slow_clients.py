"""Slow clients: a connection trickling headers or a body is cut off, with a JSON 408 for bodies."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from emulator.config import EmulatorConfig
from emulator.errors import ConfigError
from emulator.server.emulator import Emulator
from tests.support import fast_config

TIMEOUT = 0.5
# A trickle that would take this long if the server let it run.
TRICKLE_SECONDS = 10.0


@pytest.fixture
async def strict() -> AsyncIterator[Emulator]:
    async with Emulator(fast_config(header_timeout=TIMEOUT, body_timeout=TIMEOUT)) as emu:
        yield emu
        assert emu.app_errors == []


async def connect(emu: Emulator) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    address = urlsplit(emu.url)
    return await asyncio.open_connection(address.hostname, address.port)


async def trickle(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Send ``data`` one byte at a time, ten bytes a second, until done or cut off."""
    try:
        for index in range(len(data)):
            writer.write(data[index : index + 1])
            await writer.drain()
            await asyncio.sleep(TRICKLE_SECONDS / len(data))
    except ConnectionError:
        return


async def test_headers_trickled_slower_than_the_timeout_are_cut_off(strict: Emulator) -> None:
    reader, writer = await connect(strict)
    started = time.monotonic()
    writer.write(b"POST /v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    sender = asyncio.create_task(trickle(writer, b"X-Slow: " + b"a" * 100))
    try:
        answer = await asyncio.wait_for(reader.read(), TRICKLE_SECONDS)
    finally:
        sender.cancel()
        writer.close()
    assert answer == b"", "the server answered a request whose headers never completed"
    assert time.monotonic() - started < TRICKLE_SECONDS / 2


async def test_a_body_trickled_slower_than_the_timeout_gets_a_json_408(strict: Emulator) -> None:
    reader, writer = await connect(strict)
    body = json.dumps({"writeKey": "wk", "userId": "slow", "pad": "x" * 80}).encode()
    writer.write(
        b"POST /v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    sender = asyncio.create_task(trickle(writer, body))
    try:
        answer = await asyncio.wait_for(reader.read(), TRICKLE_SECONDS)
    finally:
        sender.cancel()
        writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"application/json" in head
    refusal = json.loads(payload)
    assert refusal["code"] == "request_timeout"
    assert "body_timeout" in refusal["message"]
    assert len(strict.runtime.journal) == 0


async def test_a_prompt_client_is_not_affected(strict: Emulator) -> None:
    reader, writer = await connect(strict)
    body = json.dumps({"writeKey": "wk", "userId": "quick", "type": "track", "event": "e"})
    writer.write(
        b"POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
    )
    answer = await asyncio.wait_for(reader.read(), TRICKLE_SECONDS)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b'{"success": true}')


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="header_timeout"):
        EmulatorConfig(header_timeout=0)
    with pytest.raises(ConfigError, match="body_timeout"):
        EmulatorConfig(body_timeout=-1)
