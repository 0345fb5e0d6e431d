"""The published segment-analytics-python client, unmodified but for its host."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from emulator.server.background import BackgroundEmulator
from emulator.server.emulator import Emulator
from tests.support import doc_event

pytestmark = pytest.mark.client

# The traits of the identify example on Segment's Refersion destination page.
DOC_TRAITS = doc_event("segment-docs/refersion-destination-identify.json")["traits"]


def client_for(emu: Emulator, errors: list[Any], **options: Any) -> Client:
    return Client(
        "test-write-key",
        host=emu.segment_host,
        sync_mode=True,
        max_retries=0,
        on_error=lambda exc, _batch: errors.append(exc),
        **options,
    )


@pytest.mark.parametrize("gzip", [False, True])
async def test_identify_then_delete_with_the_real_client(
    emulator: Emulator, http: aiohttp.ClientSession, gzip: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="segment")
    errors: list[Any] = []
    client = client_for(emulator, errors, gzip=gzip)
    # The client blocks on HTTP; run it off the loop that serves the emulator.
    ok, _ = await asyncio.to_thread(client.identify, "97980cfea0067", DOC_TRAITS)
    assert ok
    await asyncio.to_thread(client.track, "97980cfea0067", "Order Completed", {"total": 3})
    await asyncio.to_thread(client.flush)
    assert errors == []
    assert caplog.records == []  # the client logged no warning or error
    assert await emulator.runtime.pipeline.wait_idle(5)

    [affiliate] = [a.to_public_dict() for a in emulator.runtime.store.all()]
    assert affiliate["first_name"] == "Peter"
    assert affiliate["last_name"] == "Gibbons"
    assert affiliate["zip"] == "94103"
    assert affiliate["country"] == "US"
    assert affiliate["unique_merchant_id"] == "97980cfea0067"
    outcomes = sorted(t.outcome for t in emulator.runtime.journal)
    assert outcomes == ["created", "filtered"]
    identify = next(t for t in emulator.runtime.journal if t.type == "identify")
    assert identify.violations == []
    assert identify.message["context"]["library"]["name"] == "analytics-python"

    delete = {"type": "delete", "userId": "97980cfea0067", "messageId": "delete-x", "context": None}
    async with http.post(f"{emulator.url}/_emulator/deliver", json=delete) as resp:
        body = await resp.json()
    assert body["events"][0]["outcome"] == "deleted"
    assert emulator.runtime.store.count() == 0


def test_the_threaded_client_reports_a_refused_request_as_api_error(
    refersion_emulator: BackgroundEmulator,
) -> None:
    """An unset write key (``""`` from a missing environment variable) is refused with 400.

    The client parses ``{"code", "message"}`` into ``APIError`` and hands it to ``on_error``;
    4xx is fatal to its retry loop, so the request is made once.
    """
    errors: list[Any] = []
    client = Client(
        "",
        host=refersion_emulator.segment_host,
        on_error=lambda exc, _batch: errors.append(exc),
    )
    client.identify("97980cfea0067", DOC_TRAITS)
    client.shutdown()

    [error] = errors
    assert isinstance(error, APIError)
    assert (error.status, error.code) == (400, "unknown_source")
    assert "writeKey" in error.message
    assert refersion_emulator.events() == []  # the whole request was refused
