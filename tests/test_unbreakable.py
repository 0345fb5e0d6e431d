"""Single requests that used to break the emulator: each is refused or survived, nothing is lost.

One test (or a few) per failure the hostile-input review found: invalid Unicode, non-finite
numbers, odd digits in query strings, cross-site regulations, a journal file of another shape,
a journal writer that meets an unexpected error, disk full, exposed mode, the journal file's
privacy and size. The property test over every surface is in test_hostile_json.py.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.server.emulator import Emulator
from tests.conftest import fast_config

PETER = {"name": "Peter Gibbons", "email": "peter@example.com"}
LONE = "\udc00"
# CESU-8: a surrogate encoded as if it were a scalar value; not UTF-8.
CESU8 = b"\xed\xa0\x80"


def strict_json(text: str) -> Any:
    """``text`` parsed as strict JSON: NaN and Infinity tokens are refused."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def entrance_headers(emu: Emulator, path: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if path.startswith("/refersion"):
        creds = emu.runtime.config.credentials
        headers["Refersion-Public-Key"] = creds.public_key
        headers["Refersion-Secret-Key"] = creds.secret_key
    if path == "/destination":
        headers["Authorization"] = basic(emu.runtime.config.effective_api_key)
    return headers


async def post_raw(
    http: aiohttp.ClientSession, emu: Emulator, path: str, raw: bytes
) -> tuple[int, Any]:
    async with http.post(f"{emu.url}{path}", data=raw, headers=entrance_headers(emu, path)) as r:
        text = await r.text()
        assert r.content_type == "application/json", f"{path} answered {r.content_type}: {text}"
        return r.status, strict_json(text)


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, strict_json(await resp.text())


async def ordinary_event_is_delivered(
    http: aiohttp.ClientSession, emu: Emulator, user_id: str
) -> None:
    """The next ordinary identify is acknowledged and creates its affiliate within a second."""
    body = {"writeKey": "wk", "userId": user_id, "traits": {**PETER, "email": f"{user_id}@x.io"}}
    async with http.post(f"{emu.url}/v1/identify", json=body, timeout=_SECOND) as resp:
        assert resp.status == 200, await resp.text()
    async with http.post(
        f"{emu.url}/_emulator/flush", params={"timeout": "1"}, timeout=_SECOND
    ) as resp:
        assert (await resp.json())["idle"] is True
    status, answer = await get_json(http, f"{emu.url}/_emulator/events?userId={user_id}&limit=1")
    assert status == 200
    assert answer["events"][0]["outcome"] == "created"


_SECOND = aiohttp.ClientTimeout(total=2)


@pytest.fixture(params=[False, True], ids=["memory", "journal"])
async def emu(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Emulator]:
    path = str(tmp_path / "journal.db") if request.param else None
    async with Emulator(fast_config(journal_path=path)) as running:
        yield running
        assert running.app_errors == [], "the server hit unhandled exceptions"
    if path is not None:
        # The same journal file starts again.
        async with Emulator(fast_config(journal_path=path)) as again:
            assert again.runtime.journal is not None


def identify_with(field: str, value: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "identify",
        "userId": "u1",
        "messageId": "m1",
        "traits": dict(PETER),
    }
    if field.startswith("traits."):
        message["traits"][field.removeprefix("traits.")] = value
    elif field == "traits key":
        message["traits"][value] = "x"
    else:
        message[field] = value
    return message


# Where each entrance's body names the field, as a JSON pointer.
def bodies(field: str, value: Any) -> dict[str, tuple[dict[str, Any], str]]:
    message = identify_with(field, value)
    pointer = {
        "traits key": "/traits",
        "traits.email": "/traits/email",
        "traits.nested": "/traits/nested",
    }.get(field, f"/{field}")
    return {
        "/v1/identify": ({**message, "writeKey": "wk"}, pointer),
        "/v1/batch": ({"writeKey": "wk", "batch": [message]}, f"/batch/0{pointer}"),
        "/destination": (message, pointer),
        "/_emulator/deliver": (message, pointer),
    }


SURROGATE_FIELDS = ["messageId", "userId", "anonymousId", "traits.email", "traits key"]


# 1. Lone surrogates and CESU-8 ---------------------------------------------------------


@pytest.mark.parametrize("field", SURROGATE_FIELDS)
@pytest.mark.parametrize("path", list(bodies("userId", "x")))
async def test_a_lone_surrogate_is_refused_naming_the_field(
    emu: Emulator, http: aiohttp.ClientSession, field: str, path: str
) -> None:
    body, pointer = bodies(field, LONE)[path]
    raw = json.dumps(body).encode()  # ASCII, with the \udc00 escape
    status, answer = await post_raw(http, emu, path, raw)
    assert 400 <= status < 500, answer
    text = json.dumps(answer)
    assert "invalid_unicode" in text
    assert pointer in text, f"the error does not name {pointer}: {answer}"
    await ordinary_event_is_delivered(http, emu, "after-surrogate")


@pytest.mark.parametrize("path", list(bodies("userId", "x")))
async def test_cesu8_bytes_are_refused(
    emu: Emulator, http: aiohttp.ClientSession, path: str
) -> None:
    body, _ = bodies("userId", "PLACEHOLDER")[path]
    raw = json.dumps(body).encode().replace(b"PLACEHOLDER", CESU8)
    status, answer = await post_raw(http, emu, path, raw)
    assert 400 <= status < 500, answer
    await ordinary_event_is_delivered(http, emu, "after-cesu8")


async def test_surrogates_are_refused_by_the_fake_refersion_regulations_and_faults(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    cases = {
        "/refersion/v2/affiliate/new": {"first_name": "A", "last_name": LONE, "email": "a@x.io"},
        "/regulations": {
            "regulationType": "DELETE_ONLY",
            "subjectType": "USER_ID",
            "subjectIds": [LONE],
        },
        "/_emulator/faults": {"hop": "refersion", "status": 503, "body": {"m": LONE}},
        "/_emulator/engage/audiences": {"key": LONE, "members": []},
    }
    for path, body in cases.items():
        status, answer = await post_raw(http, emu, path, json.dumps(body).encode())
        assert 400 <= status < 500, (path, answer)
        assert "invalid_unicode" in json.dumps(answer), (path, answer)
    await ordinary_event_is_delivered(http, emu, "after-all")


# 3. Non-finite numbers -----------------------------------------------------------------

NON_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"]


@pytest.mark.parametrize("token", NON_FINITE, ids=[t.decode() for t in NON_FINITE])
@pytest.mark.parametrize("path", list(bodies("userId", "x")))
async def test_non_finite_numbers_are_refused_naming_the_field(
    emu: Emulator, http: aiohttp.ClientSession, path: str, token: bytes
) -> None:
    body, pointer = bodies("traits.nested", "PLACEHOLDER")[path]
    raw = json.dumps(body).encode().replace(b'"PLACEHOLDER"', token)
    status, answer = await post_raw(http, emu, path, raw)
    assert 400 <= status < 500, answer
    text = json.dumps(answer)
    assert "non_finite_number" in text
    assert pointer in text, answer
    status, events = await get_json(http, f"{emu.url}/_emulator/events?full=1")
    assert status == 200
    for event in events["events"]:
        assert (await get_json(http, f"{emu.url}/_emulator/events/{event['id']}"))[0] == 200
    await ordinary_event_is_delivered(http, emu, "after-nan")


async def test_a_fault_rule_body_cannot_carry_a_non_finite_number(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    raw = b'{"hop": "refersion", "status": 503, "body": {"n": NaN}}'
    status, answer = await post_raw(http, emu, "/_emulator/faults", raw)
    assert status == 400, answer
    assert "non_finite_number" in json.dumps(answer)


# 4. Odd digits in query strings --------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "①", "٣", "9" * 5000, "-1", "1e3", " 5"])
async def test_odd_digits_in_query_strings_get_a_400(
    emulator: Emulator, http: aiohttp.ClientSession, value: str
) -> None:
    async with http.get(f"{emulator.url}/_emulator/events", params={"limit": value}) as resp:
        assert resp.status == 400, await resp.text()
        assert "limit" in (await resp.json())["message"]
    async with http.post(f"{emulator.url}/_emulator/flush", params={"timeout": value}) as resp:
        assert resp.status == 400, await resp.text()


# 2. Cross-site regulations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "headers"),
    [
        ("text/plain", {"Origin": "https://evil.example"}),
        ("application/x-www-form-urlencoded", {"Sec-Fetch-Site": "cross-site"}),
        ("multipart/form-data; boundary=x", {"Origin": "null"}),
        ("text/plain", {"Sec-Fetch-Site": "same-site"}),
    ],
)
async def test_a_web_page_cannot_file_a_regulation(
    emulator: Emulator, http: aiohttp.ClientSession, content_type: str, headers: dict[str, str]
) -> None:
    identify = {"writeKey": "wk", "userId": "victim", "traits": PETER}
    async with http.post(f"{emulator.url}/v1/identify", json=identify) as resp:
        assert resp.status == 200
    assert await emulator.runtime.pipeline.wait_idle(5)
    body = {"regulationType": "SUPPRESS_WITH_DELETE", "subjectType": "USER_ID"}
    raw = json.dumps({**body, "subjectIds": ["victim"]}).encode()
    async with http.post(
        f"{emulator.url}/regulations",
        data=raw,
        headers={"Content-Type": content_type, **headers},
    ) as resp:
        assert resp.status == 403, await resp.text()
        assert "cross_site_request" in await resp.text()
    assert emulator.runtime.store.count() == 1
    assert not emulator.runtime.suppressions.blocking({"userId": "victim"})


async def test_regulations_from_scripts_are_still_taken(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    body = {"regulationType": "DELETE_ONLY", "subjectType": "USER_ID", "subjectIds": ["u"]}
    async with http.post(f"{emulator.url}/regulations", json=body) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    "path", ["/refersion/v2/affiliate/new", "/destination", "/_emulator/deliver"]
)
async def test_other_state_changing_surfaces_refuse_browsers_from_other_sites(
    emulator: Emulator, http: aiohttp.ClientSession, path: str
) -> None:
    headers = {**entrance_headers(emulator, path), "Origin": "https://evil.example"}
    raw = json.dumps(identify_with("userId", "u")).encode()
    async with http.post(f"{emulator.url}{path}", data=raw, headers=headers) as resp:
        assert resp.status == 403, await resp.text()


# 7. A journal file whose affiliates table has another shape ----------------------------


def test_a_journal_file_with_another_affiliates_table_fails_in_one_line(tmp_path: Path) -> None:
    from tests.test_cli import cli

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE affiliates (name TEXT)")
        conn.execute("INSERT INTO affiliates VALUES ('x')")
    code, _out, err = cli("serve", "--port", "0", "--journal", str(path))
    assert code != 0
    assert "Traceback" not in err, err
    assert str(path) in err
    assert "affiliates" in err


# 9. The journal file: private, compacted on reset, served beyond the in-memory cap -----


def on_disk(path: Path) -> int:
    """Bytes of the database file and its write-ahead log."""
    wal = Path(f"{path}-wal")
    return os.path.getsize(path) + (os.path.getsize(wal) if wal.exists() else 0)


async def test_the_journal_file_is_private_and_shrinks_on_reset(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = tmp_path / "journal.db"
    async with Emulator(fast_config(journal_path=str(path))) as emu:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, oct(mode)
        for part in range(3):
            batch = [
                {"type": "track", "userId": f"u{i}", "event": "x", "properties": {"p": "y" * 2000}}
                for i in range(part * 100, part * 100 + 100)
            ]
            body = {"writeKey": "wk", "batch": batch}
            async with http.post(f"{emu.url}/v1/batch", json=body) as resp:
                assert resp.status == 200
        assert await emu.runtime.pipeline.wait_idle(10)
        grown = on_disk(path)
        assert grown > 600_000
        async with http.post(f"{emu.url}/_emulator/reset") as resp:
            assert resp.status == 200
        assert on_disk(path) < grown / 10, (on_disk(path), grown)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                assert stat.S_IMODE(os.stat(side).st_mode) == 0o600


async def test_events_beyond_the_in_memory_cap_are_served_from_the_journal_file(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = str(tmp_path / "journal.db")
    async with Emulator(fast_config(journal_path=path, journal_cap=5)) as emu:
        ids: list[str] = []
        for i in range(12):
            body = {"writeKey": "wk", "type": "track", "userId": f"u{i}", "event": "x"}
            async with http.post(f"{emu.url}/v1/track", json=body) as resp:
                assert resp.status == 200
                ids.append(resp.headers["X-Emulator-Trace-Ids"])
        assert await emu.runtime.pipeline.wait_idle(5)
        status, first = await get_json(http, f"{emu.url}/_emulator/events/{ids[0]}")
        assert status == 200, first
        assert first["id"] == ids[0]
        assert first["message"]["userId"] == "u0"
