"""The Tracking API as browser and mobile libraries use it, over real HTTP.

One-letter paths, text/plain and beacon-style bodies, CORS preflights and headers on ``/v1/*``
only, the project settings document and the library's metrics endpoint. The published library
itself runs in Chromium in tests/test_browser_library.py.
"""

from __future__ import annotations

import argparse
import base64
import json
from typing import Any

import aiohttp
import pytest

from emulator.commands.options import add_emulator_options, config_from_args
from emulator.errors import ConfigError
from emulator.segment.cors import ALLOWED_HEADERS, answers_browsers, preflight, response_headers
from emulator.segment.ingest import SHORT_PATHS
from emulator.segment.project_settings import project_settings, write_key_problem
from emulator.server.emulator import Emulator
from tests.support import ROOT, fast_config
from tests.web_frontend_doc import DOC, doc_page, doc_snippet_lines

ORIGIN = "http://localhost:3000"
WRITE_KEY = "browser-key"


def message(kind: str, n: int) -> dict[str, Any]:
    """A valid message of ``kind``, numbered so each test can find its own."""
    extras: dict[str, dict[str, Any]] = {
        "identify": {"traits": {"name": f"Iris Ident{n}", "email": f"iris{n}@example.com"}},
        "track": {"event": "Order Completed"},
        "page": {"name": "Pricing"},
        "screen": {"name": "Home"},
        "group": {"groupId": "g-1"},
        "alias": {"previousId": "anon-1"},
    }
    return {"userId": f"user-{n}", "messageId": f"{kind}-{n}", **extras[kind]}


async def settled(http: aiohttp.ClientSession, emu: Emulator) -> list[dict[str, Any]]:
    async with http.post(f"{emu.url}/_emulator/flush") as response:
        assert response.status == 200, await response.text()
    async with http.get(f"{emu.url}/_emulator/events?full=1") as response:
        events: list[dict[str, Any]] = (await response.json())["events"]
    return events


# -- one-letter paths ------------------------------------------------------------------------


@pytest.mark.parametrize("letter", sorted(set(SHORT_PATHS) - {"b"}))
async def test_a_short_path_is_its_long_endpoint(
    letter: str, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """The same body to /v1/<letter> and /v1/<type> ends the same way, typed by the path."""
    kind = SHORT_PATHS[letter]
    paths = {f"{kind}-0": f"/v1/{letter}", f"{kind}-1": f"/v1/{kind}"}
    for n, path in enumerate(paths.values()):
        # The body's own type is ignored, as on the long path: the path says what it is.
        body = {"writeKey": WRITE_KEY, **message(kind, n), "type": "nonsense"}
        async with http.post(emulator.url + path, json=body) as response:
            assert response.status == 200, await response.text()
            assert await response.json() == {"success": True}
    events = {e["messageId"]: e for e in await settled(http, emulator)}
    assert {m: e["hops"][0]["summary"] for m, e in events.items()} == {
        m: f"accepted by POST {path}" for m, path in paths.items()
    }
    ends = {(e["type"], e["outcome"], e["reason"]) for e in events.values()}
    assert ends == {
        (kind, "created", None)
        if kind == "identify"
        else (kind, "filtered", "UNSUPPORTED_EVENT_TYPE")
    }


async def test_the_short_batch_path_takes_a_mobile_batch(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """What analytics-react-native sends: JSON with a charset, the write key in the body."""
    batch = [
        {"type": "identify", **message("identify", 7)},
        {"type": "track", **message("track", 7)},
    ]
    body = json.dumps({"batch": batch, "sentAt": "2026-12-06T04:00:00.000Z", "writeKey": WRITE_KEY})
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Retry-Count": "1"}
    async with http.post(f"{emulator.url}/v1/b", data=body, headers=headers) as response:
        assert response.status == 200, await response.text()
        assert len(response.headers["X-Emulator-Trace-Ids"].split(",")) == 2
    outcomes = sorted((e["type"], e["outcome"]) for e in await settled(http, emulator))
    assert outcomes == [("identify", "created"), ("track", "filtered")]


@pytest.mark.parametrize("path", ["/v1/x", "/v1/ident", "/v1/I", "/v1/m/extra"])
async def test_other_paths_are_not_endpoints(
    path: str, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(emulator.url + path, json={"writeKey": WRITE_KEY}) as response:
        assert response.status in (404, 405)
        assert (await response.json())["code"] in ("not_found", "method_not_allowed")
    assert await settled(http, emulator) == []


# -- text/plain and beacons ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "text/plain; charset=utf-8"],
)
async def test_a_text_plain_body_with_the_key_inside_is_taken(
    content_type: str, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """What ``navigator.sendBeacon(url, JSON.stringify(event))`` sends: no auth header."""
    body = json.dumps({"writeKey": WRITE_KEY, **message("identify", 3)})
    headers = {"Content-Type": content_type, "Origin": ORIGIN}
    async with http.post(f"{emulator.url}/v1/i", data=body, headers=headers) as response:
        assert response.status == 200, await response.text()
    (event,) = await settled(http, emulator)
    assert (event["type"], event["outcome"]) == ("identify", "created")


async def test_the_browser_librarys_request_is_taken(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """analytics-next: text/plain, the key in the body and as Basic auth, X-Retry-Count."""
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    headers = {
        "Content-Type": "text/plain",
        "Authorization": f"Basic {basic}",
        "X-Retry-Count": "2",
        "Origin": ORIGIN,
    }
    body = json.dumps({"writeKey": WRITE_KEY, "type": "track", **message("track", 4)})
    async with http.post(f"{emulator.url}/v1/t", data=body, headers=headers) as response:
        assert response.status == 200, await response.text()
    (event,) = await settled(http, emulator)
    assert (event["type"], event["outcome"], event["reason"]) == (
        "track",
        "filtered",
        "UNSUPPORTED_EVENT_TYPE",
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"writeKey": "k", "userId": "\\udc00", "traits": {}}',
        b'{"writeKey": "\\ud800", "userId": "u"}',
        b'{"writeKey": "k", "userId": "u", "traits": {"n": NaN}}',
        b'{"writeKey": "k", "userId": "u", "traits": {"n": Infinity}}',
        b'{"writeKey": "k", "userId": "u", "traits": {"n": 1e400}}',
        b"not json",
        b"\xff\xfe",
        b"",
    ],
    ids=["lone-surrogate", "surrogate-key", "nan", "infinity", "1e400", "text", "bytes", "empty"],
)
async def test_hostile_text_plain_bodies_get_a_clear_answer(
    raw: bytes, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Content-Type": "text/plain", "Origin": ORIGIN}
    async with http.post(f"{emulator.url}/v1/i", data=raw, headers=headers) as response:
        assert response.status in (200, 400), await response.text()
        body = await response.json()
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    if response.status == 400:
        assert set(body) == {"code", "message"}
        assert body["message"]
    # Whatever was taken goes through delivery without an unhandled error (checked on teardown).
    await settled(http, emulator)


# -- CORS ------------------------------------------------------------------------------------


async def test_a_preflight_from_any_origin_is_granted_the_librarys_headers(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    headers = {
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-retry-count",
    }
    async with http.options(f"{emulator.url}/v1/i", headers=headers) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = {
            h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
        }
        assert allowed == {"authorization", "content-type", "x-retry-count"}
        assert response.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        ({"Access-Control-Request-Headers": "content-type, X-Custom"}, "'X-Custom'"),
        ({"Access-Control-Request-Method": "PUT"}, "'PUT'"),
    ],
)
async def test_a_preflight_for_anything_else_is_refused_naming_it(
    asked: dict[str, str], named: str, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST", **asked}
    async with http.options(f"{emulator.url}/v1/t", headers=headers) as response:
        assert response.status == 403
        body = await response.json()
    assert body["code"] == "preflight_refused"
    assert named in body["message"]


async def test_more_preflight_headers_can_be_allowed_by_name(http: aiohttp.ClientSession) -> None:
    """The switch for the assumption: headers your page adds, allowed by ``--cors-allow-header``."""
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-tenant",
    }
    async with Emulator(fast_config(cors_extra_headers=("X-Tenant",))) as emu:
        async with http.options(f"{emu.url}/v1/i", headers=headers) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Headers"].endswith(", X-Tenant")
        other = {**headers, "Access-Control-Request-Headers": "x-other"}
        async with http.options(f"{emu.url}/v1/i", headers=other) as response:
            assert response.status == 403
            assert "--cors-allow-header" in (await response.json())["message"]


@pytest.mark.parametrize("name", ["", "X Tenant", "X-Tenant\r\nSet-Cookie: a=b", "\udc00"])
def test_an_extra_header_must_be_a_header_name(name: str) -> None:
    with pytest.raises(ConfigError, match="not an HTTP header name"):
        fast_config(cors_extra_headers=(name,))


def test_serve_takes_the_extra_headers_from_the_command_line() -> None:
    parser = argparse.ArgumentParser()
    add_emulator_options(parser)
    args = parser.parse_args(["--cors-allow-header", "X-Tenant", "--cors-allow-header", "X-B"])
    assert config_from_args(args).cors_extra_headers == ("X-Tenant", "X-B")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/i", {"writeKey": WRITE_KEY, "userId": "u", "traits": {}}),
        ("POST", "/v1/identify", {"writeKey": WRITE_KEY, "userId": "u", "traits": {}}),
        ("POST", "/v1/b", {"writeKey": WRITE_KEY, "batch": []}),
        ("POST", "/v1/i", ["not", "an", "object"]),  # a 400 is readable too
        ("POST", "/v1/nope", {}),  # and a 404
        ("GET", f"/v1/projects/{WRITE_KEY}/settings", None),
        ("POST", "/v1/m", {"series": []}),
    ],
)
async def test_every_tracking_api_answer_names_the_origin(
    method: str, path: str, body: Any, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.request(
        method, emulator.url + path, json=body, headers={"Origin": ORIGIN}
    ) as response:
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert response.headers["Access-Control-Expose-Headers"] == "Retry-After"
    async with http.request(method, emulator.url + path, json=body) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_the_loopback_host_rule_still_holds_on_the_tracking_api(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """A page rebinding its own name to 127.0.0.1 gets neither a preflight nor settings."""
    headers = {"Host": "shop.example", "Origin": "http://shop.example"}
    async with http.options(
        f"{emulator.url}/v1/i", headers={**headers, "Access-Control-Request-Method": "POST"}
    ) as response:
        assert response.status == 403
        assert (await response.json())["code"] == "host_not_allowed"
    async with http.get(f"{emulator.url}/v1/projects/k/settings", headers=headers) as response:
        assert response.status == 403
        assert (await response.json())["code"] == "host_not_allowed"


async def test_a_cross_site_reset_is_still_refused(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-site", "Content-Type": "text/plain"}
    async with http.post(f"{emulator.url}/_emulator/reset", headers=headers) as response:
        assert response.status == 403
        assert (await response.json())["code"] == "cross_site_request"
        assert "Access-Control-Allow-Origin" not in response.headers


def test_only_tracking_paths_answer_browsers() -> None:
    assert answers_browsers("/v1/i")
    assert answers_browsers("/v1/projects/k/settings")
    for path in (
        "/v1",
        "/_emulator/v1/i",
        "/destination",
        "/refersion/v2/affiliate/new",
        "/regulations",
        "/",
    ):
        assert not answers_browsers(path), path


def test_a_request_without_a_browser_origin_gets_no_grant() -> None:
    for origin in (None, "", "evil", "http://a b", "http://é.example", "http://\udc00"):
        assert response_headers(origin) == {"Vary": "Origin"}, origin
    assert response_headers("null")["Access-Control-Allow-Origin"] == "null"
    assert (
        response_headers("http://[::1]:3000")["Access-Control-Allow-Origin"] == "http://[::1]:3000"
    )
    assert preflight(None, None, None).refusal is None
    header_names = ", ".join(ALLOWED_HEADERS).upper()
    assert preflight(ORIGIN, "post", header_names).refusal is None


# -- project settings and metrics ------------------------------------------------------------


async def test_the_settings_point_the_library_at_the_host_it_asked(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    port = emulator.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        async with http.get(
            f"{emulator.url}/v1/projects/{WRITE_KEY}/settings", headers={"Host": host}
        ) as response:
            assert response.status == 200
            settings = await response.json()
        segment = settings["integrations"]["Segment.io"]
        assert segment["apiKey"] == WRITE_KEY
        assert segment["apiHost"] == f"{host}/v1"
        assert segment["protocol"] == "http"
        assert list(settings["integrations"]) == ["Segment.io"]
        assert settings["metrics"]["sampleRate"] == 0


async def test_settings_for_another_write_key_are_refused_when_one_is_configured(
    http: aiohttp.ClientSession,
) -> None:
    async with Emulator(fast_config(write_key="the-key")) as emu:
        async with http.get(f"{emu.url}/v1/projects/the-key/settings") as response:
            assert response.status == 200
        async with http.get(f"{emu.url}/v1/projects/other-key/settings") as response:
            assert response.status == 404
            body = await response.json()
        assert body["code"] == "unknown_write_key"
        assert "the-key" not in body["message"]


@pytest.mark.parametrize(
    ("write_key", "rule"),
    [
        ("%20", "empty"),
        ("k" * 257, "at most 256"),
        ("a%00b", "unprintable"),
        ("a%09b", "unprintable"),
    ],
)
async def test_hostile_write_keys_in_the_settings_path_get_a_400(
    write_key: str, rule: str, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{emulator.url}/v1/projects/{write_key}/settings"
    async with http.get(url) as response:
        assert response.status == 400, await response.text()
        body = await response.json()
    assert body["code"] == "invalid_write_key"
    assert rule in body["message"]


def test_write_key_rules() -> None:
    assert write_key_problem("wk_123") is None
    assert write_key_problem("\udc00") is not None
    settings = project_settings("wk", host="localhost:8765", protocol="http")
    assert settings["integrations"]["Segment.io"]["apiHost"] == "localhost:8765/v1"


async def test_library_metrics_are_answered_and_not_journaled(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    series = {
        "series": [
            {
                "type": "Counter",
                "metric": "analytics_js.invoke.error",
                "value": 1,
                "tags": {"library": "analytics.js"},
            }
        ]
    }
    headers = {"Content-Type": "text/plain", "Origin": ORIGIN}
    async with http.post(f"{emulator.url}/v1/m", data=json.dumps(series), headers=headers) as r:
        assert r.status == 200
        assert await r.json() == {"success": True}
    async with http.post(f"{emulator.url}/v1/m", data=b"[1]", headers=headers) as r:
        assert r.status == 400
    assert await settled(http, emulator) == []


# -- the doc ---------------------------------------------------------------------------------


def test_the_doc_page_and_snippet_lines_are_what_the_browser_tests_load() -> None:
    """Runs without a browser too: the doc cannot drift from the page the browser tests load."""
    for inline in (False, True):
        page = doc_page("http://127.0.0.1:1", inline=inline)
        assert 'const EMULATOR = "http://127.0.0.1:1";' in page
        assert "localhost:8765" not in page
        assert ("cdnSettings" in page) is inline
        assert ("cdnURL: EMULATOR" in page) is not inline
        assert '<script src="node_modules/@segment/analytics-next/dist/umd/index.js">' in page
    lines = doc_snippet_lines("http://127.0.0.1:1")
    assert 'analytics._cdn = "http://127.0.0.1:1";' in lines
    assert "analytics.load(" in lines


def test_the_browser_packages_are_the_pinned_releases_the_doc_cites() -> None:
    client = ROOT / "clients" / "browser"
    pinned = json.loads((client / "package.json").read_text())["dependencies"]
    assert pinned == {"@segment/analytics-next": "1.84.3", "@segment/snippet": "5.2.1"}
    locked = json.loads((client / "package-lock.json").read_text())["packages"]
    for name, version in pinned.items():
        assert locked[f"node_modules/{name}"]["version"] == version
        assert f"`{name}` {version}" in DOC.read_text(encoding="utf-8")
