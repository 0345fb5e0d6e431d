"""analytics-python 1.4.0, the last release that sends the write key only as Basic auth.

Installed beside segment-analytics-python (it imports as ``analytics``), unmodified but for
its host. Its requests carry no body ``writeKey``: an emulator that ignored Basic auth would
answer 400 ``unknown_source``, which this client raises.
"""

from __future__ import annotations

import logging
from typing import Any

import analytics
import pytest
from analytics import Client
from analytics.request import APIError

from emulator.server.background import BackgroundEmulator
from tests.support import fast_config

pytestmark = pytest.mark.client

TRAITS = {
    "firstName": "Joanna",
    "lastName": "Lumbergh",
    "email": "joanna@example.com",
    "address": {"city": "Austin", "state": "TX", "postal_code": 78701, "country": "United States"},
}


def test_this_is_the_basic_auth_release() -> None:
    assert analytics.VERSION == "1.4.0"


@pytest.mark.parametrize("gzip", [False, True])
def test_identify_becomes_an_affiliate_and_track_is_filtered(
    refersion_emulator: BackgroundEmulator, gzip: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="segment")
    errors: list[Any] = []
    client = Client(
        "legacy-write-key",
        host=refersion_emulator.segment_host,
        gzip=gzip,
        on_error=lambda exc, _batch: errors.append(exc),
    )
    client.identify("u-legacy-1", TRAITS)
    client.track("u-legacy-1", "Signed Up", {"plan": "basic"})
    client.shutdown()

    assert errors == []
    assert caplog.records == []
    refersion_emulator.assert_affiliate(
        "joanna@example.com",
        first_name="Joanna",
        last_name="Lumbergh",
        zip="78701",
        country="US",
        unique_merchant_id="u-legacy-1",
    )
    refersion_emulator.flush()
    outcomes = {e["type"]: (e["outcome"], e["reason"]) for e in refersion_emulator.events()}
    assert outcomes == {
        "identify": ("created", None),
        "track": ("filtered", "UNSUPPORTED_EVENT_TYPE"),
    }
    library = refersion_emulator.events()[0]["message"]["context"]["library"]
    assert library == {"name": "analytics-python", "version": "1.4.0"}
    refersion_emulator.assert_no_unexpected_calls()


def test_the_write_key_is_read_from_basic_auth() -> None:
    with BackgroundEmulator(fast_config(write_key="the-right-key")) as emu:
        for key, user in (("the-right-key", "u-right"), ("a-wrong-key", "u-wrong")):
            client = Client(key, host=emu.segment_host, sync_mode=True)
            client.identify(user, {**TRAITS, "email": f"{user}@example.com"})
        emu.flush()
        outcomes = {e["userId"]: (e["outcome"], e["reason"]) for e in emu.events()}
    assert outcomes == {
        "u-right": ("created", None),
        "u-wrong": ("ingest_rejected", "project_not_found"),
    }


def test_an_oversize_message_is_refused_with_the_shape_the_client_parses(
    refersion_emulator: BackgroundEmulator,
) -> None:
    # 1.4.0 checks sizes only in its background consumer; sync mode sends what it is given.
    client = Client("legacy-write-key", host=refersion_emulator.segment_host, sync_mode=True)
    with pytest.raises(APIError) as caught:
        client.identify("u-big", {**TRAITS, "notes": "x" * 40_000})
    assert (caught.value.status, caught.value.code) == (400, "message_too_large")
    assert "32768 bytes" in caught.value.message
    assert refersion_emulator.events() == []


def test_an_empty_write_key_is_refused_with_the_shape_the_client_parses(
    refersion_emulator: BackgroundEmulator,
) -> None:
    errors: list[Any] = []
    client = Client(
        "", host=refersion_emulator.segment_host, on_error=lambda exc, _b: errors.append(exc)
    )
    client.identify("u-nokey", TRAITS)
    client.shutdown()
    [error] = errors
    assert isinstance(error, APIError)
    assert (error.status, error.code) == (400, "unknown_source")
