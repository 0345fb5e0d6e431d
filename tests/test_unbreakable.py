"""Single requests that used to break the emulator: each is refused or survived, nothing is lost.

One test (or a few) per failure the hostile-input review found: invalid Unicode, non-finite
numbers, odd digits in query strings, cross-site regulations, a journal file of another shape,
a journal writer that meets an unexpected error, disk full, exposed mode, the journal file's
privacy and size. The property test over every surface is in test_hostile_json.py.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.access import AccessPolicy, check_access
from emulator.commands.serve import exposure_note
from emulator.config import EmulatorConfig, RefersionCredentials
from emulator.server.emulator import Emulator
from emulator.web import quiet_log
from tests.support import ROOT, fast_config, until

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
    """The next ordinary identify is acknowledged and creates its affiliate at once.

    "At once" is bounded at 3 s rather than 1 s so a loaded CI machine does not fail it; a
    stalled emulator never answers at all.
    """
    body = {"writeKey": "wk", "userId": user_id, "traits": {**PETER, "email": f"{user_id}@x.io"}}
    async with http.post(f"{emu.url}/v1/identify", json=body, timeout=_SECOND) as resp:
        assert resp.status == 200, await resp.text()
    async with http.post(
        f"{emu.url}/_emulator/flush", params={"timeout": "3"}, timeout=_SECOND
    ) as resp:
        assert (await resp.json())["idle"] is True
    status, answer = await get_json(http, f"{emu.url}/_emulator/events?userId={user_id}&limit=1")
    assert status == 200
    assert answer["events"][0]["outcome"] == "created"


_SECOND = aiohttp.ClientTimeout(total=4)


@pytest.fixture(params=[False, True], ids=["memory", "journal"])
async def emu(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Emulator]:
    path = str(tmp_path / "journal.db") if request.param else None
    async with Emulator(fast_config(journal_path=path)) as running:
        yield running
        assert running.app_errors == [], "the server hit unhandled exceptions"
    if path is not None:
        # The same journal file starts again.
        async with Emulator(fast_config(journal_path=path)) as again:
            # Nothing hostile stopped the file loading, or left a row to quarantine.
            assert again.runtime.incidents.status == "ok"


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
#
# Segment's entrances (/v1/*, /_emulator/deliver) follow the invalid-unicode assumption:
# replaced by U+FFFD by default, refused under "refuse". /destination always refuses.

SEGMENT_ENTRANCES = frozenset({"/v1/identify", "/v1/batch", "/_emulator/deliver"})


async def assume_invalid_unicode(http: aiohttp.ClientSession, emu: Emulator, variant: str) -> None:
    """Switch the variant while running, as a user does (PUT /_emulator/assumptions)."""
    body = {"assumptions": {"invalid-unicode": variant}}
    async with http.put(f"{emu.url}/_emulator/assumptions", json=body) as resp:
        assert resp.status == 200, await resp.text()


async def stored_trace(
    http: aiohttp.ClientSession, emu: Emulator, path: str, answer: Any, trace_ids: str
) -> Any:
    """The journaled trace of the one event a request to ``path`` entered."""
    trace_id = answer["events"][0]["id"] if path == "/_emulator/deliver" else trace_ids
    status, trace = await get_json(http, f"{emu.url}/_emulator/events/{trace_id}")
    assert status == 200, trace
    return trace


def replaced_value(message: dict[str, Any], field: str) -> Any:
    if field == "traits key":
        return next(key for key in message["traits"] if key != "email" and key != "name")
    if field.startswith("traits."):
        return message["traits"][field.removeprefix("traits.")]
    return message[field]


@pytest.mark.parametrize("field", SURROGATE_FIELDS)
@pytest.mark.parametrize("path", list(bodies("userId", "x")))
async def test_a_lone_surrogate_is_refused_naming_the_field_under_refuse(
    emu: Emulator, http: aiohttp.ClientSession, field: str, path: str
) -> None:
    await assume_invalid_unicode(http, emu, "refuse")
    body, pointer = bodies(field, LONE)[path]
    raw = json.dumps(body).encode()  # ASCII, with the \udc00 escape
    status, answer = await post_raw(http, emu, path, raw)
    assert 400 <= status < 500, answer
    text = json.dumps(answer)
    assert "invalid_unicode" in text
    assert pointer in text, f"the error does not name {pointer}: {answer}"
    await ordinary_event_is_delivered(http, emu, "after-surrogate")


@pytest.mark.parametrize("field", SURROGATE_FIELDS)
@pytest.mark.parametrize("path", list(bodies("userId", "x")))
async def test_a_lone_surrogate_becomes_u_fffd_at_segments_entrances_by_default(
    emu: Emulator, http: aiohttp.ClientSession, field: str, path: str
) -> None:
    body, pointer = bodies(field, LONE)[path]
    raw = json.dumps(body).encode()
    async with http.post(f"{emu.url}{path}", data=raw, headers=entrance_headers(emu, path)) as r:
        status, answer = r.status, strict_json(await r.text())
        trace_ids = r.headers.get("X-Emulator-Trace-Ids", "")
    if path not in SEGMENT_ENTRANCES:
        # Not Segment's ingest: refused whatever the variant.
        assert status == 400, answer
        assert "invalid_unicode" in json.dumps(answer)
        return
    assert status == 200, answer
    trace = await stored_trace(http, emu, path, answer, trace_ids)
    assert replaced_value(trace["message"], field) == "\ufffd"
    [note] = [a for a in trace["assumptions"] if a["id"] == "invalid-unicode"]
    assert note["variant"] == "replace"
    assert note["warning"] is True
    assert pointer in note["note"], note
    await ordinary_event_is_delivered(http, emu, "after-surrogate")


@pytest.mark.parametrize("variant", ["replace", "refuse"])
@pytest.mark.parametrize("path", list(bodies("userId", "x")))
async def test_cesu8_bytes_are_replaced_or_refused(
    emu: Emulator, http: aiohttp.ClientSession, path: str, variant: str
) -> None:
    await assume_invalid_unicode(http, emu, variant)
    body, _ = bodies("userId", "PLACEHOLDER")[path]
    raw = json.dumps(body).encode().replace(b"PLACEHOLDER", CESU8)
    async with http.post(f"{emu.url}{path}", data=raw, headers=entrance_headers(emu, path)) as r:
        status, answer = r.status, strict_json(await r.text())
        trace_ids = r.headers.get("X-Emulator-Trace-Ids", "")
    if variant == "refuse" or path not in SEGMENT_ENTRANCES:
        assert 400 <= status < 500, answer
    else:
        assert status == 200, answer
        trace = await stored_trace(http, emu, path, answer, trace_ids)
        # One U+FFFD per byte that is not UTF-8, as Go's decoder reads them.
        assert trace["message"]["userId"] == "\ufffd" * 3
    await ordinary_event_is_delivered(http, emu, "after-cesu8")


async def test_surrogates_are_refused_by_the_fake_refersion_regulations_and_faults(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    """Under the default invalid-unicode=replace: these are not Segment's Tracking API."""
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
    from tests.support import cli

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


# What to build, 2: the journal writer and the workers never die silently -----------------


def poisoned_record_for(how: str) -> Any:
    """``record_for`` as if a bug let through a trace that cannot be stored."""
    from emulator.journal.store import record_for as real

    def record_for(trace: Any) -> Any:
        record = real(trace)
        if trace.user_id != "poison":
            return record
        if how == "record":
            raise RuntimeError("boom: a trace no row can be made of")
        # A text SQLite cannot bind (a lone surrogate cannot be encoded as UTF-8).
        return (*record[:-1], record[-1].replace("poison", "poison" + LONE))

    return record_for


@pytest.mark.parametrize("how", ["record", "row"])
async def test_a_trace_the_journal_cannot_store_is_noted_and_the_writer_carries_on(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from emulator.journal import durability

    path = str(tmp_path / "journal.db")
    monkeypatch.setattr(durability, "record_for", poisoned_record_for(how))
    async with Emulator(fast_config(journal_path=path)) as emu:
        body = {"writeKey": "wk", "userId": "poison", "traits": PETER}
        async with http.post(f"{emu.url}/v1/identify", json=body, timeout=_SECOND) as resp:
            # The truth: this event was not kept, so the client may retry it.
            assert resp.status == 503, await resp.text()
            assert (await resp.json())["code"] == "journal_unavailable"
        await ordinary_event_is_delivered(http, emu, "after-poison")
        _status, health = await get_json(http, f"{emu.url}/_emulator/health")
        assert health["status"] == "degraded"
        assert any(i["part"] == "journal writer" for i in health["incidents"]), health
        poison = [t for t in emu.runtime.journal if t.user_id == "poison"]
        assert [t.outcome for t in poison] == ["ingest_rejected"]
        assert any(h.name == "journal" and not h.ok for h in poison[0].hops)
        # Not delivered: the answer said it was not kept.
        assert emu.runtime.store.find_by_email(PETER["email"]) is None
        assert emu.app_errors == []
    monkeypatch.undo()
    async with Emulator(fast_config(journal_path=path)) as again:
        users = {t.user_id for t in again.runtime.journal}
        assert "after-poison" in users
        assert "poison" not in users
        await ordinary_event_is_delivered(http, again, "after-restart")


async def test_a_delivery_worker_survives_a_bug_in_its_own_error_path(
    emulator: Emulator, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = emulator.runtime.pipeline
    real_attempt = pipeline._attempt
    real_retry = pipeline._schedule_retry

    async def attempt(trace: Any) -> None:
        if trace.user_id == "bug":
            raise RuntimeError("a bug in the attempt")
        await real_attempt(trace)

    def schedule_retry(trace: Any, *args: Any) -> None:
        if trace.user_id == "bug":
            raise RuntimeError("and another in the retry")
        real_retry(trace, *args)

    monkeypatch.setattr(pipeline, "_attempt", attempt)
    monkeypatch.setattr(pipeline, "_schedule_retry", schedule_retry)
    # One worker: the bug and the next event share it.
    body = {"writeKey": "wk", "userId": "bug", "traits": PETER}
    async with http.post(f"{emulator.url}/v1/identify", json=body) as resp:
        assert resp.status == 200
    await ordinary_event_is_delivered(http, emulator, "after-bug")
    _status, health = await get_json(http, f"{emulator.url}/_emulator/health")
    assert health["status"] == "degraded"
    assert [i["part"] for i in health["incidents"]] == ["delivery worker"]
    (bug,) = [t for t in emulator.runtime.journal if t.user_id == "bug"]
    assert bug.outcome == "discarded"
    assert bug.reason == "emulator_bug"


async def test_unreadable_journal_rows_are_quarantined_with_a_warning(
    tmp_path: Path, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "journal.db")
    async with Emulator(fast_config(journal_path=path)) as emu:
        await ordinary_event_is_delivered(http, emu, "kept")
    with sqlite3.connect(path) as conn:
        good = conn.execute("SELECT * FROM traces").fetchone()
        rows = [
            (9001, "t009001", "{not json"),
            (9002, "t009002", good[-1].replace('"kept"', "NaN")),
            (9003, "t009003", good[-1].replace('"kept"', '"\\udc00"')),
            (9004, "t009004", '{"id": 5}'),
        ]
        for seq, trace_id, data in rows:
            conn.execute(
                "INSERT INTO traces VALUES (?, ?, 'tracking-api', NULL, 'pending', NULL, 0, 0, ?)",
                (seq, trace_id, data),
            )
    async with Emulator(fast_config(journal_path=path)) as emu:
        assert [t.user_id for t in emu.runtime.journal] == ["kept"]
        _status, health = await get_json(http, f"{emu.url}/_emulator/health")
        assert health["status"] == "degraded"
        await ordinary_event_is_delivered(http, emu, "after-quarantine")
    warnings = [r.getMessage() for r in caplog.records if "traces_quarantine" in r.getMessage()]
    assert len(warnings) == 4
    assert all(r.exc_info is None for r in caplog.records)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM traces_quarantine").fetchone() == (4,)
    # And the next start is quiet and clean.
    caplog.clear()
    async with Emulator(fast_config(journal_path=path)) as emu:
        assert emu.runtime.incidents.status == "ok"


# 6. Disk full and store failures ---------------------------------------------------------


async def test_a_full_disk_answers_503_and_keeps_nothing_of_that_request(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = str(tmp_path / "journal.db")
    batch = [
        {
            "type": "identify",
            "userId": f"full-{i}",
            "messageId": f"m-full-{i}",
            "traits": {**PETER, "email": f"full-{i}@x.io", "bio": "b" * 1000},
        }
        for i in range(40)
    ]
    async with Emulator(fast_config(journal_path=path)) as emu:
        await ordinary_event_is_delivered(http, emu, "before")
        store = emu.runtime.durable.store if emu.runtime.durable else None
        assert store is not None
        conn = store._conn
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk.
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        body = {"writeKey": "wk", "batch": batch}
        async with http.post(f"{emu.url}/v1/batch", json=body, timeout=_SECOND) as resp:
            assert resp.status == 503, await resp.text()
            answer = await resp.json()
        assert answer["code"] == "journal_unavailable"
        assert "full" in answer["message"]
        assert await emu.runtime.pipeline.wait_idle(2)
        # Not kept means not delivered: no affiliate was created for any of them.
        assert emu.runtime.store.count() == 1
        conn.execute("PRAGMA max_page_count = 1073741823")
        # The client's retry is taken as new, not as a duplicate of what was never kept.
        async with http.post(f"{emu.url}/v1/batch", json=body, timeout=_SECOND) as resp:
            assert resp.status == 200, await resp.text()
        assert await emu.runtime.pipeline.wait_idle(5)
        assert emu.runtime.store.count() == 41
        assert emu.app_errors == []


class FullDisk:
    """A connection that refuses every write as a full disk does (injected at the store)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def test_the_fake_refersion_answers_a_json_503_when_its_store_fails(
    emulator: Emulator, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    store = emulator.runtime.store
    real = store._conn
    store._conn = FullDisk(real)  # type: ignore[assignment]
    body = {
        "first_name": "Peter",
        "last_name": "Gibbons",
        "email": "peter@example.com",
        "password": "Tps-reports-1!",
        "status": "ACTIVE",
    }
    path = "/refersion/v2/affiliate/new"
    status, answer = await post_raw(http, emulator, path, json.dumps(body).encode())
    assert status == 503, answer
    assert "disk is full" in answer["error"]
    # Through the pipeline: Segment's delivery sees a retryable answer, not a crash.
    identify = {"writeKey": "wk", "userId": "u-full", "traits": PETER}
    async with http.post(f"{emulator.url}/v1/identify", json=identify) as resp:
        assert resp.status == 200
    status, _health = await get_json(http, f"{emulator.url}/_emulator/health")
    assert status == 200
    store._conn = real
    assert await emulator.runtime.pipeline.wait_idle(5)
    assert emulator.runtime.store.find_by_email(PETER["email"]) is not None
    assert all(r.exc_info is None for r in caplog.records)
    assert not any("emulator bug" in r.getMessage() for r in caplog.records)


# 5. One line each for a client hanging up, malformed HTTP, running out of descriptors ----


async def raw_exchange(emu: Emulator, data: bytes) -> None:
    """Send ``data``; read the answer, if the server sends one before the body is complete."""
    port = int(emu.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if not data.endswith(b"{"):
        await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            b"POST /v1/identify HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{",
            "hung up",
        ),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n", "not valid HTTP"),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n", "not valid HTTP"),
    ],
    ids=["hang-up-mid-body", "header-line", "content-length"],
)
async def test_outside_trouble_logs_one_line_not_a_traceback(
    emulator: Emulator,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    words: str,
) -> None:
    caplog.set_level(logging.WARNING)
    quiet_log._last.clear()
    for _ in range(5):
        await raw_exchange(emulator, data)
    await until(lambda: any(words in r.getMessage() for r in caplog.records), timeout=5.0)
    await ordinary_event_is_delivered(http, emulator, "after-trouble")
    lines = [r for r in caplog.records if words in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records)
    assert not any("emulator bug" in r.getMessage() for r in caplog.records)
    assert emulator.app_errors == []


@pytest.mark.slow  # floods a child server until it runs out of descriptors
def test_running_out_of_descriptors_logs_one_line_a_while(tmp_path: Path) -> None:
    """A real server under a low descriptor limit, flooded with connections."""
    script = tmp_path / "flood.py"
    script.write_text(FLOOD)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if "file descriptors" in line]
    assert 1 <= len(lines) <= 2, done.stderr[-3000:]
    assert "delivered" in done.stdout


FLOOD = """
import asyncio, logging, resource, socket
from emulator.access import AccessPolicy, check_access
from emulator.commands.serve import exposure_note
from emulator.config import EmulatorConfig, RefersionCredentials
from emulator.server.emulator import Emulator
from emulator.web import quiet_log
from tests.support import ROOT, fast_config

logging.basicConfig(level=logging.WARNING)


async def main():
    async with Emulator(fast_config()) as emu:
        port = int(emu.url.rsplit(":", 1)[1])
        used = len(__import__("os").listdir("/proc/self/fd"))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (used + 20, hard))
        socks = []
        try:
            for _ in range(60):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", port), timeout=1))
                except OSError:
                    break
            await asyncio.sleep(1.5)
        finally:
            for s in socks:
                s.close()
        await asyncio.sleep(1.2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        import aiohttp
        async with aiohttp.ClientSession() as http:
            body = {"writeKey": "wk", "userId": "u", "traits": {"name": "A B", "email": "a@x.io"}}
            async with http.post(emu.url + "/v1/identify", json=body) as resp:
                assert resp.status == 200
        assert await emu.runtime.pipeline.wait_idle(5)
        print("delivered")


asyncio.run(main())
"""


# 8. Exposed mode: the Host check stays on; the fake's public default keys stay home ------

EXPOSED = AccessPolicy(
    loopback_only=False,
    control_token="t" * 20,
    allowed_hosts=frozenset({"emulator.internal"}),
    default_keys=True,
)


def refusal(policy: AccessPolicy, **facts: Any) -> str | None:
    request: dict[str, Any] = {
        "method": "GET",
        "path": "/v1/identify",
        "own_origin": "http://emulator.internal:8765",
        "host": "emulator.internal:8765",
        "origin": None,
        "sec_fetch_site": None,
        "peer": "127.0.0.1",
    }
    found = check_access(policy, **(request | facts))
    return None if found is None else found.code


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("emulator.internal:8765", True),
        ("EMULATOR.internal.:8765", True),
        ("localhost:8765", True),
        ("192.168.1.5:8765", True),
        ("[fe80::1]:8765", True),
        ("attacker.example:8765", False),
        ("emulator.internal.attacker.example", False),
    ],
)
def test_exposed_the_host_check_stays_on_for_names_not_given(host: str, allowed: bool) -> None:
    code = refusal(EXPOSED, host=host)
    assert code == (None if allowed else "host_not_allowed")


@pytest.mark.parametrize(
    "path", ["/refersion/v2/affiliate/list", "/refersion/v2/affiliate/new", "/destination"]
)
def test_exposed_the_default_keys_are_refused_to_other_machines(path: str) -> None:
    facts = {"method": "POST", "path": path}
    assert refusal(EXPOSED, peer="192.168.1.9", **facts) == "default_keys_refused"
    # This machine (the emulator's own delivery) and own keys still get through.
    assert refusal(EXPOSED, peer="127.0.0.1", **facts) is None
    own_keys = dataclasses.replace(EXPOSED, default_keys=False)
    assert refusal(own_keys, peer="192.168.1.9", **facts) is None
    # The Tracking API is not opened by the fake's keys.
    assert refusal(EXPOSED, peer="192.168.1.9", method="POST") is None


def test_the_config_knows_when_the_public_default_keys_are_in_use() -> None:
    assert EmulatorConfig().default_keys
    own = RefersionCredentials(public_key="pub_mine", secret_key="sec_mine")
    assert not EmulatorConfig(credentials=own).default_keys
    # The destination's API key defaults to the fake's keys: its default is public too.
    assert EmulatorConfig(credentials=own, api_key=RefersionCredentials().api_key).default_keys


def test_the_start_up_note_warns_when_exposed(tmp_path: Path) -> None:
    config = EmulatorConfig(
        host="0.0.0.0",  # noqa: S104 - never bound
        control_token="t" * 20,
        allowed_hosts=("emulator.internal",),
    )
    note = exposure_note(config, tmp_path / "token.txt")
    assert "WARNING" in note
    assert "emulator.internal" in note
    assert "default keys" in note
    own = dataclasses.replace(
        config, credentials=RefersionCredentials(public_key="pub_m", secret_key="sec_m")
    )
    assert "refuse other machines" not in exposure_note(own, None)


def test_serve_takes_allow_host(tmp_path: Path) -> None:
    from emulator.cli import build_parser
    from emulator.commands.options import config_from_args

    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--allow-remote", "--allow-host", "emulator.internal"]  # noqa: S104
    )
    assert args.allow_host == ["emulator.internal"]
    config = config_from_args(args, control_token="t" * 20, allowed_hosts=tuple(args.allow_host))
    assert config.allowed_hosts == ("emulator.internal",)


def test_a_seeded_store_reopened_on_its_file_goes_on_drawing_new_codes(tmp_path: Path) -> None:
    from emulator.fake_refersion import AffiliateStore

    path = str(tmp_path / "journal.db")

    def new(store: AffiliateStore, i: int) -> str:
        values = {
            "status": "ACTIVE",
            "first_name": "P",
            "last_name": "G",
            "email": f"p{i}@x.io",
            "offer_id": "1",
            "password": "Tps-reports-1!",
        }
        return store.create(values).code

    first = AffiliateStore(path)
    first.reseed(7)
    codes = {new(first, i) for i in range(150)}
    first.close()
    # A restart with the same seed (serve --seed 7 --journal FILE).
    again = AffiliateStore(path)
    again.reseed(7)
    code = new(again, 150)
    assert code not in codes
    again.close()
