"""The synchronous Python API: an emulator in a background thread, and its waiting helpers."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest

from emulator import BackgroundEmulator, DestinationSettings, Operation
from emulator.destination.mapping import MappingResult, MappingSettings, map_message
from emulator.errors import ControlError
from tests.support import fast_config


def identify(email: str, name: str = "Peter Gibbons", **traits: Any) -> dict[str, Any]:
    user = email.split("@")[0]
    return {
        "type": "identify",
        "userId": user,
        "messageId": f"m-{user}",
        "traits": {"name": name, "email": email, **traits},
    }


def deliver(emu: BackgroundEmulator, *messages: dict[str, Any]) -> Any:
    return emu.control("POST", "/_emulator/deliver", list(messages))


def usa_mapping(message: Any, *, settings: MappingSettings) -> MappingResult:
    """The built-in mapping with a bug: it sends the country as given, not as an ISO code."""
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and result.endpoint == "affiliate/new":
        return dataclasses.replace(result, body={**result.body, "country": "USA"})
    return result


def failing_mapping(message: Any, *, settings: MappingSettings) -> MappingResult:
    raise KeyError("traits")


@pytest.fixture
def emu() -> Any:
    with BackgroundEmulator(fast_config()) as running:
        yield running


def test_it_serves_from_a_thread_until_the_block_ends() -> None:
    with BackgroundEmulator(fast_config()) as emu:
        with urllib.request.urlopen(f"{emu.url}/_emulator/health", timeout=5) as resp:  # noqa: S310
            assert resp.status == 200
        assert emu.segment_host == emu.url
        assert emu.refersion_url == f"{emu.url}/refersion/v2"
        assert emu.api_key == fast_config().credentials.api_key
        url = emu.url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/_emulator/health", timeout=5)  # noqa: S310
    emu.stop()  # a second stop is harmless
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.url


def test_a_start_failure_is_raised_to_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        emu = BackgroundEmulator(fast_config(port=taken.getsockname()[1]))
        with pytest.raises(OSError, match="address already in use"):
            emu.start()


def test_reset_forgets_everything_and_switches_settings(emu: BackgroundEmulator) -> None:
    deliver(emu, identify("peter@example.com"))
    assert emu.assert_affiliate("peter@example.com", status="PENDING")

    emu.reset(destination=DestinationSettings(status="ACTIVE", offer="12"), api_key="pub.sec")
    assert (emu.affiliates(), emu.events()) == ([], [])
    assert emu.api_key == "pub.sec"
    # The fake's own keys did not change, so Refersion now refuses the destination's key.
    deliver(emu, identify("peter@example.com"))
    emu.assert_rejected("refersion_401", email="peter@example.com")


def test_reset_settings_apply_and_a_plain_reset_restores_the_start(
    emu: BackgroundEmulator,
) -> None:
    emu.reset(destination=DestinationSettings(status="ACTIVE", offer="12"))
    deliver(emu, identify("mary@example.com"))
    emu.assert_affiliate("mary@example.com", status="ACTIVE", offer_id="12")
    emu.reset()
    deliver(emu, identify("mary@example.com"))
    emu.assert_affiliate("mary@example.com", status="PENDING")


def test_wait_for_affiliate_explains_what_happened_instead(emu: BackgroundEmulator) -> None:
    deliver(emu, identify("paul@example.com"), identify("peter@example.com", name="Peter"))
    with pytest.raises(AssertionError) as caught:
        emu.wait_for_affiliate("peter@example.com", timeout=0.05)
    message = str(caught.value)
    assert message.startswith("no affiliate with email 'peter@example.com' within 0.05s.")
    assert "has 1 affiliate: paul@example.com (id 37569297)" in message
    assert "rejected (name_incomplete): traits.name 'Peter' is one word" in message


def test_assert_affiliate_lists_each_difference_and_the_mapping_warnings(
    emu: BackgroundEmulator,
) -> None:
    deliver(emu, identify("peter@example.com", address={"city": "Austin", "country": "Narnia"}))
    with pytest.raises(AssertionError) as caught:
        emu.assert_affiliate("peter@example.com", first_name="Pete", country="US", colour="red")
    message = str(caught.value)
    assert "first_name: stored 'Peter', expected 'Pete'" in message
    assert "country: stored None, expected 'US'" in message
    assert "colour: affiliates have no such field" in message
    assert "unknown_country: traits.address.country 'Narnia' names no known country" in message
    assert emu.assert_affiliate("PETER@example.com ", city="Austin")["first_name"] == "Peter"


def test_assert_rejected_finds_the_event_or_lists_the_journal(emu: BackgroundEmulator) -> None:
    deliver(emu, identify("peter@example.com", name="Peter"))
    event = emu.assert_rejected("name_incomplete", email="peter@example.com")
    assert event["outcome"] == "rejected"
    with pytest.raises(AssertionError) as caught:
        emu.assert_rejected("name_incomplet", timeout=0.05)
    message = str(caught.value)
    assert "no event was rejected with reason 'name_incomplet' within 0.05s." in message
    assert "'name_incomplet' is not a reason the built-in mapping or Segment uses" in message
    assert "The journal has 1 event:" in message
    with pytest.raises(AssertionError, match=r"no event email='paul@example\.com' was rejected"):
        emu.assert_rejected("name_incomplete", email="paul@example.com", timeout=0.05)


def test_no_unexpected_calls_passes_on_a_clean_run(emu: BackgroundEmulator) -> None:
    deliver(emu, identify("peter@example.com"), identify("mary@example.com", name="Mary"))
    emu.assert_no_unexpected_calls()  # a rejection is an outcome, not a surprise


def test_no_unexpected_calls_names_contract_violations() -> None:
    with BackgroundEmulator(fast_config(), mapping=usa_mapping) as emu:
        deliver(emu, identify("peter@example.com", address={"country": "US"}))
        with pytest.raises(AssertionError) as caught:
            emu.assert_no_unexpected_calls()
        message = str(caught.value)
        assert "the emulator saw 1 unexpected thing(s):" in message
        assert "broke refersion/affiliate-new.request at /country" in message
        emu.assert_no_unexpected_calls(allowed_violations={"refersion/affiliate-new.request"})


def test_no_unexpected_calls_names_server_errors_and_unfinished_events() -> None:
    with BackgroundEmulator(fast_config(), mapping=failing_mapping) as emu:
        deliver(emu, identify("peter@example.com"))
        with pytest.raises(AssertionError) as caught:
            emu.assert_no_unexpected_calls(timeout=0.05)
    message = str(caught.value)
    assert "unhandled server error: POST /destination: KeyError('traits')" in message
    # The destination answered 500, so Segment is retrying the event.
    assert "identify userId=peter email=peter@example.com is still retrying" in message


def test_flush_times_out_naming_the_unfinished_events() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/destination"
    with BackgroundEmulator(fast_config(destination_url=nowhere)) as emu:
        emu.control("POST", "/_emulator/deliver?wait=false", identify("peter@example.com"))
        with pytest.raises(TimeoutError, match=r"1 event\(s\) still queued or awaiting a retry"):
            emu.flush(timeout=0.05)


def test_fault_rules_go_through_the_control_api(emu: BackgroundEmulator) -> None:
    emu.clear_faults()  # nothing to clear is not an error
    with pytest.raises(ControlError, match=r"POST /_emulator/faults answered 4\d\d") as caught:
        emu.add_fault({"not": "a rule"})
    assert 400 <= caught.value.status < 500


async def test_the_async_waits_leave_the_callers_loop_free(
    emu: BackgroundEmulator, http: aiohttp.ClientSession
) -> None:
    async def post_later() -> None:
        body = {"writeKey": "k", **identify("peter@example.com")}
        async with http.post(f"{emu.url}/v1/identify", json=body) as resp:
            assert resp.status == 200

    # The request is made on this loop while the wait is in progress: a blocking wait would
    # starve it and time out.
    sender = asyncio.ensure_future(post_later())
    affiliate = await emu.wait_for_affiliate_async("peter@example.com")
    await sender
    await emu.flush_async()
    assert affiliate["last_name"] == "Gibbons"
