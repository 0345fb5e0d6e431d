"""Exposure: loopback by default, a control token off loopback, no CORS, no cross-site writes."""

from __future__ import annotations

import hmac
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulator.access import AccessPolicy, check_access, is_loopback_host, token_matches
from emulator.commands.serve import control_token, exposure_note
from emulator.config import EmulatorConfig
from emulator.errors import ConfigError, InputError
from emulator.server.emulator import Emulator
from tests.support import ROOT, fast_config

TOKEN = "tok_" + "a1b2c3d4" * 4


@pytest.fixture
async def guarded() -> AsyncIterator[Emulator]:
    async with Emulator(fast_config(control_token=TOKEN)) as emu:
        yield emu
        assert emu.app_errors == []


async def seed(emu: Emulator, http: aiohttp.ClientSession) -> None:
    payload = {"writeKey": "wk", "userId": "u1", "traits": {"name": "Ann Lee", "email": "a@x.io"}}
    async with http.post(f"{emu.url}/v1/identify", json=payload) as resp:
        assert resp.status == 200
    assert await emu.runtime.pipeline.wait_idle(5)


# -- binding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("app.localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - checks that it is recognised as exposed
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_the_default_binding_is_loopback_without_a_token() -> None:
    config = EmulatorConfig()
    assert is_loopback_host(config.host)
    assert config.control_token is None


def test_another_address_needs_a_control_token() -> None:
    with pytest.raises(ConfigError, match="control_token"):
        EmulatorConfig(host="0.0.0.0")  # noqa: S104 - refused: that is the point
    assert EmulatorConfig(host="0.0.0.0", control_token=TOKEN).control_token == TOKEN  # noqa: S104


def test_a_short_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="16 characters"):
        EmulatorConfig(control_token="short")


def test_the_token_never_shows_in_the_config_repr() -> None:
    assert TOKEN not in repr(EmulatorConfig(control_token=TOKEN))


def test_serve_generates_a_token_only_when_exposed() -> None:
    assert control_token(None, required=False) == (None, False)
    token, generated = control_token(None, required=True)
    assert generated
    assert token is not None
    assert len(token) >= 32
    assert control_token(TOKEN, required=True) == (TOKEN, False)
    with pytest.raises(InputError, match="at least 16"):
        control_token("tiny", required=True)


def test_the_exposure_note_masks_the_token(tmp_path: Any) -> None:
    config = EmulatorConfig(host="0.0.0.0", control_token=TOKEN)  # noqa: S104 - never bound
    note = exposure_note(config, tmp_path / "token.txt")
    assert TOKEN not in note
    assert TOKEN[:4] in note
    assert str(tmp_path / "token.txt") in note
    assert "reachable from the network" in note


# -- the control token -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0000000000"},
        {"Authorization": f"Basic {TOKEN}"},
        {"X-Emulator-Token": TOKEN[:-1]},
        {"Cookie": "emulator_token=nope"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_emulator/health"),
        ("GET", "/_emulator/events"),
        ("GET", "/_emulator/affiliates"),
        ("GET", "/_emulator/openapi.json"),
        ("POST", "/_emulator/reset"),
        ("POST", "/_emulator/deliver"),
        ("GET", "/_emulator/nowhere"),
    ],
)
async def test_without_the_token_the_control_api_answers_401(
    guarded: Emulator,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    await seed(guarded, http)
    async with http.request(method, guarded.url + path, headers=headers, json=[{}]) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        body = await resp.json()
    assert body["code"] in {"token_required", "token_invalid"}
    assert TOKEN not in str(body)
    assert guarded.runtime.store.count() == 1, "a refused request changed state"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {TOKEN}"},
        {"authorization": f"bearer  {TOKEN}"},
        {"X-Emulator-Token": TOKEN},
        {"Cookie": f"emulator_token={TOKEN}"},
    ],
)
async def test_with_the_token_the_control_api_works(
    guarded: Emulator, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    await seed(guarded, http)
    async with http.get(f"{guarded.url}/_emulator/affiliates", headers=headers) as resp:
        assert resp.status == 200
        assert (await resp.json())["count"] == 1
    async with http.post(f"{guarded.url}/_emulator/reset", headers=headers) as resp:
        assert resp.status == 200
    assert guarded.runtime.store.count() == 0


async def test_a_token_in_the_query_sets_a_strict_cookie_for_the_page(
    guarded: Emulator,
) -> None:
    # unsafe=True: aiohttp's jar otherwise ignores cookies from IP-address hosts.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{guarded.url}/_emulator/health?token={TOKEN}") as resp:
            assert resp.status == 200
            cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Path=/_emulator" in cookie
        async with browser.get(f"{guarded.url}/_emulator/events") as resp:
            assert resp.status == 200


async def test_the_other_surfaces_keep_their_own_credentials(
    guarded: Emulator, http: aiohttp.ClientSession
) -> None:
    await seed(guarded, http)
    assert guarded.runtime.store.count() == 1
    async with http.post(f"{guarded.url}/refersion/v2/affiliate/list", json={}) as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "Invalid API credentials (error 2)."}


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("x" * 40, TOKEN)
    assert not token_matches(None, TOKEN)
    assert len(calls) == 2
    policy = AccessPolicy(loopback_only=True, control_token=TOKEN)
    refusal = check_access(
        policy,
        method="GET",
        path="/_emulator/health",
        own_origin="http://127.0.0.1:1",
        host="127.0.0.1:1",
        origin=None,
        sec_fetch_site=None,
        tokens=("wrong-but-long-enough", None, TOKEN, None),
    )
    assert refusal is None
    assert len(calls) == 4, "every candidate token is compared"


# -- CORS and cross-site requests ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("OPTIONS", "/_emulator/reset"),
        ("GET", "/_emulator/events"),
        ("GET", "/_emulator/affiliates"),
        ("OPTIONS", "/destination"),
        ("POST", "/destination"),
        ("OPTIONS", "/refersion/v2/affiliate/new"),
        ("POST", "/refersion/v2/affiliate/list"),
        ("OPTIONS", "/regulations"),
        ("GET", "/regulations"),
    ],
)
async def test_cors_is_off_beyond_the_tracking_api(
    emulator: Emulator, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    headers = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with http.request(
        method, emulator.url + path, headers=headers, json={"writeKey": "wk", "userId": "u"}
    ) as resp:
        leaked = [name for name in resp.headers if name.lower().startswith("access-control-")]
        assert leaked == []


CROSS_SITE: list[dict[str, str]] = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost:3000"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:1"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize("path", ["/_emulator/reset", "/_emulator/deliver", "/_emulator/flush"])
async def test_cross_site_requests_cannot_change_state(
    emulator: Emulator, http: aiohttp.ClientSession, path: str, headers: dict[str, str]
) -> None:
    await seed(emulator, http)
    delete = {"type": "delete", "userId": "u1", "messageId": "cross-site-delete"}
    async with http.post(emulator.url + path, json=delete, headers=headers) as resp:
        assert resp.status == 403
        body = await resp.json()
    assert body["code"] == "cross_site_request"
    assert emulator.runtime.store.count() == 1
    assert len(emulator.runtime.journal) == 1


async def test_same_origin_and_non_browser_clients_may_change_state(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    for headers in (
        {},
        {"Origin": emulator.url},
        {"Sec-Fetch-Site": "same-origin", "Origin": emulator.url},
        {"Sec-Fetch-Site": "none"},
    ):
        await seed(emulator, http)
        async with http.post(f"{emulator.url}/_emulator/reset", headers=headers) as resp:
            assert resp.status == 200, headers
        assert emulator.runtime.store.count() == 0


async def test_cross_site_reads_and_tracking_calls_are_not_blocked(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # analytics.js posts cross-origin to the Tracking API; reading needs CORS, which is off.
    headers = {"Origin": "https://shop.example", "Sec-Fetch-Site": "cross-site"}
    payload = {"writeKey": "wk", "userId": "u2", "event": "Viewed"}
    async with http.post(f"{emulator.url}/v1/track", json=payload, headers=headers) as resp:
        assert resp.status == 200
    async with http.get(f"{emulator.url}/_emulator/health", headers=headers) as resp:
        assert resp.status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "192.168.0.10:80"])
@pytest.mark.parametrize("path", ["/_emulator/events", "/refersion/v2/affiliate/list", "/v1/track"])
async def test_a_rebound_domain_name_is_refused_on_loopback(
    emulator: Emulator, http: aiohttp.ClientSession, path: str, host: str
) -> None:
    method = "GET" if path.startswith("/_emulator") else "POST"
    async with http.request(method, emulator.url + path, headers={"Host": host}, json={}) as resp:
        assert resp.status == 403
        body = await resp.json()
    assert "loopback" in (body.get("message") or body.get("error"))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]:9", "localhost:8765"])
async def test_loopback_host_names_are_accepted(
    emulator: Emulator, http: aiohttp.ClientSession, host: str
) -> None:
    async with http.get(f"{emulator.url}/_emulator/health", headers={"Host": host}) as resp:
        assert resp.status == 200


# -- serve, end to end -----------------------------------------------------------------------


def status_of(url: str, headers: dict[str, str]) -> int:
    """The HTTP status of GET ``url``, waiting for the server to accept connections."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - an http URL we built
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:  # noqa: S310 - as above
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            assert time.monotonic() < deadline, "the server never accepted a connection"
            time.sleep(0.05)


def test_serve_with_a_control_token_enforces_it_and_prints_no_secret() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "REFERSION_EMULATOR_TOKEN": TOKEN}
    secret, write_key = "sec_SERVE_SECRET_0123456789", "wk_SERVE_WRITE_KEY_0123456"
    argv = ["serve", "--port", "0", "--secret-key", secret, "--write-key", write_key]
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        banner = ""
        while "Bearer" not in banner:
            line = proc.stdout.readline()
            assert line, "serve stopped before printing its banner"
            banner += line
        assert TOKEN not in banner
        assert "control API token tok_…" in banner
        health = f"{url}/_emulator/health"
        assert status_of(health, {}) == 401
        assert status_of(health, {"Authorization": f"Bearer {TOKEN}"}) == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    for shown in (banner, out, err):
        assert TOKEN not in shown
        assert secret not in shown
        assert write_key not in shown
