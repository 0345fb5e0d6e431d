"""The ``invalid-unicode`` assumption: Segment's entrances read invalid Unicode as Go does
(U+FFFD, by default) or refuse it; what they keep is valid Unicode either way.

First the pure reader against Go's documented and coded behaviour
(docs/sources.md#go-json-decoding), then both variants end to end over loopback HTTP: the
Tracking API (long, short and batch paths), ``/_emulator/deliver``, the ``send`` command, and
a restart on a journal file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.assumptions import AssumptionChoices
from emulator.config import EmulatorConfig
from emulator.json_limits import loads_replacing_invalid_unicode
from emulator.segment.ingest import parse_tracking_request
from emulator.server.emulator import Emulator
from tests.support import cli, fast_config, write

LONE = "\udc00"
# CESU-8: the surrogate U+D800 encoded as if it were a character; not UTF-8.
CESU8 = b"\xed\xa0\x80"
TRAITS = {"first_name": "Peter", "last_name": "Gibbons", "email": "peter@example.com"}


# -- the reader, against Go's encoding/json ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A lone surrogate escape, high or low: one U+FFFD.
        (b'"Pe\\udc00ter"', "Pe\ufffdter"),
        (b'"\\ud800"', "\ufffd"),
        # A valid pair is the character it encodes; two highs are two replacements; a high
        # before an escape that is no low surrogate is replaced and the escape read alone.
        (b'"\\ud83d\\ude00"', "\U0001f600"),
        (b'"\\ud800\\ud800"', "\ufffd\ufffd"),
        (b'"\\ud800\\u0041"', "\ufffdA"),
        (b'"\\udc00\\ud800"', "\ufffd\ufffd"),
        # Bytes that are not UTF-8: one U+FFFD each, as utf8.DecodeRune answers width 1.
        (b'"Pe' + CESU8 + b'ter"', "Pe\ufffd\ufffd\ufffdter"),
        (b'"\xff"', "\ufffd"),
        (b'"\xe2\x82A"', "\ufffd\ufffdA"),
        (b'"\xc0\x80"', "\ufffd\ufffd"),
        # Valid UTF-8 and escapes are untouched.
        ('"Zoë 😀"'.encode(), "Zoë 😀"),
    ],
)
def test_strings_are_read_as_gos_decoder_reads_them(raw: bytes, expected: str) -> None:
    value, replaced = loads_replacing_invalid_unicode(raw)
    assert value == expected
    assert replaced == (("",) if "\ufffd" in expected else ())


def test_keys_are_replaced_too_and_every_replacement_is_named_by_its_pointer() -> None:
    raw = b'{"traits": {"first\\udc00name": "A", "bio": ["ok", "x\xff"]}, "userId": "u\\ud800"}'
    value, replaced = loads_replacing_invalid_unicode(raw)
    assert value == {
        "traits": {"first\ufffdname": "A", "bio": ["ok", "x\ufffd"]},
        "userId": "u\ufffd",
    }
    assert replaced == ("/traits/bio/1", "/traits/first\ufffdname", "/userId")


def test_two_keys_that_become_one_keep_the_later_value_as_a_go_map_does() -> None:
    value, replaced = loads_replacing_invalid_unicode(b'{"a\\ud800": 1, "a\\udc00": 2}')
    assert value == {"a\ufffd": 2}
    assert replaced == ("/a\ufffd",)


def test_invalid_bytes_outside_a_string_are_still_not_json() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        loads_replacing_invalid_unicode(b'{"a": \xff1}')


def test_utf16_bodies_are_read_as_json_reads_them() -> None:
    raw = '{"a": "\ud800b"}'.encode("utf-16", "surrogatepass")
    assert loads_replacing_invalid_unicode(raw) == ({"a": "\ufffdb"}, ("/a",))


# Any string, lone surrogates included and often (Hypothesis leaves them out unless asked).
surrogates = st.integers(min_value=0xD800, max_value=0xDFFF).map(chr)
any_text = st.lists(st.characters(categories=["L", "N", "P", "Zs"]) | surrogates, max_size=6).map(
    "".join
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=12,
)


def as_go_reads(text: str, *, cesu8: bool) -> str:
    """A string as Go decodes the JSON ``json.dumps`` wrote for it. Escaped: pairs joined,
    every other surrogate one U+FFFD (UTF-16 with replacement does exactly that). As CESU-8
    bytes: each surrogate is three bytes that are not UTF-8, so three U+FFFD."""
    if cesu8:
        return "".join("\ufffd" * 3 if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def go_reading(value: Any, *, cesu8: bool) -> Any:
    if isinstance(value, str):
        return as_go_reads(value, cesu8=cesu8)
    if isinstance(value, list):
        return [go_reading(item, cesu8=cesu8) for item in value]
    if isinstance(value, dict):
        read = [(as_go_reads(k, cesu8=cesu8), go_reading(v, cesu8=cesu8)) for k, v in value.items()]
        return dict(read)
    return value


@given(value=json_values, cesu8=st.booleans())
def test_any_document_reads_as_go_reads_it_and_holds_no_surrogate(value: Any, cesu8: bool) -> None:
    raw = json.dumps(value, ensure_ascii=not cesu8).encode("utf-8", "surrogatepass")
    read, replaced = loads_replacing_invalid_unicode(raw)
    assert read == go_reading(value, cesu8=cesu8)
    json.dumps(read, ensure_ascii=False).encode("utf-8")  # raises on any surrogate left
    assert bool(replaced) == ("\ufffd" in json.dumps(read, ensure_ascii=False))


def test_the_tracking_api_names_each_items_own_fields_and_the_batch_level_ones() -> None:
    body = {
        "writeKey": "wk",
        "context": {"ip": "1.2.3.4\udc00"},
        "batch": [
            {"type": "identify", "userId": "a", "traits": {"first_name": LONE}},
            {"type": "identify", "userId": "b"},
        ],
    }
    raw = json.dumps(body).encode()
    parsed = parse_tracking_request("batch", raw, replace_invalid_unicode=True)
    assert parsed.replaced_in(0) == ("/batch/0/traits/first_name", "/context/ip")
    assert parsed.replaced_in(1) == ("/context/ip",)
    assert parsed.items[0]["traits"]["first_name"] == "\ufffd"


# -- end to end over loopback HTTP ---------------------------------------------------------


def config(variant: str, **overrides: Any) -> EmulatorConfig:
    """As ``serve --assume invalid-unicode=VARIANT`` configures it."""
    choices = AssumptionChoices.of({"invalid-unicode": variant})
    return fast_config(assumptions=choices, **overrides)


def identify(first_name: str = "Peter") -> dict[str, Any]:
    return {"type": "identify", "userId": "u-1", "traits": {**TRAITS, "first_name": first_name}}


async def post(
    http: aiohttp.ClientSession,
    emu: Emulator,
    path: str,
    raw: bytes,
    content_type: str = "application/json",
) -> tuple[int, Any, list[str]]:
    """Status, answer and the trace ids of what the request entered."""
    headers = {"Content-Type": content_type}
    async with http.post(f"{emu.url}{path}", data=raw, headers=headers) as resp:
        answer = json.loads(await resp.text())
        ids = [i for i in resp.headers.get("X-Emulator-Trace-Ids", "").split(",") if i]
    if path.startswith("/_emulator/deliver") and resp.status < 300:
        ids = [event["id"] for event in answer["events"]]
    return resp.status, answer, ids


async def settled(http: aiohttp.ClientSession, emu: Emulator) -> None:
    async with http.post(f"{emu.url}/_emulator/flush", params={"timeout": "5"}) as resp:
        assert (await resp.json())["idle"] is True


async def trace_of(http: aiohttp.ClientSession, emu: Emulator, trace_id: str) -> Any:
    async with http.get(f"{emu.url}/_emulator/events/{trace_id}") as resp:
        assert resp.status == 200
        return await resp.json()


async def affiliates(http: aiohttp.ClientSession, emu: Emulator) -> list[dict[str, Any]]:
    async with http.get(f"{emu.url}/_emulator/affiliates") as resp:
        return list((await resp.json())["affiliates"])


def unicode_note(trace: Any) -> dict[str, Any]:
    [note] = [n for n in trace["assumptions"] if n["id"] == "invalid-unicode"]
    return dict(note)


# (path, body as the client library sends it, where first_name is in that body)
ENTRANCES: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("/v1/identify", lambda m: {**m, "writeKey": "wk"}, "/traits/first_name"),
    ("/v1/i", lambda m: {**m, "writeKey": "wk"}, "/traits/first_name"),
    ("/v1/batch", lambda m: {"writeKey": "wk", "batch": [m]}, "/batch/0/traits/first_name"),
    ("/v1/b", lambda m: {"writeKey": "wk", "batch": [m]}, "/batch/0/traits/first_name"),
    ("/_emulator/deliver", lambda m: m, "/traits/first_name"),
]
ENCODINGS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    # The \udc00 escape, as JSON.stringify or json.dumps writes a lone surrogate.
    "escape": (lambda raw: raw.replace(b"HOLE", b"\\udc00"), "Pe\ufffdter"),
    # CESU-8 bytes, as a careless encoder writes one: three bytes, three U+FFFD.
    "cesu8": (lambda raw: raw.replace(b"HOLE", CESU8), "Pe\ufffd\ufffd\ufffdter"),
}


def broken_first_name(wrap: Callable[[dict[str, Any]], Any], encoding: str) -> tuple[bytes, str]:
    """A body whose traits.first_name is not valid Unicode, and what Go reads it as."""
    encode, read_as = ENCODINGS[encoding]
    return encode(json.dumps(wrap(identify("PeHOLEter"))).encode()), read_as


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize(("path", "wrap", "pointer"), ENTRANCES, ids=[e[0] for e in ENTRANCES])
async def test_replace_creates_the_affiliate_with_u_fffd_and_the_trace_names_the_field(
    http: aiohttp.ClientSession, path: str, wrap: Any, pointer: str, encoding: str
) -> None:
    raw, stored = broken_first_name(wrap, encoding)
    # The browser library posts with text/plain; the others with JSON.
    content_type = "text/plain" if path in ("/v1/i", "/v1/b") else "application/json"
    async with Emulator(config("replace")) as emu:
        status, answer, [trace_id] = await post(http, emu, path, raw, content_type)
        assert status == 200, answer
        await settled(http, emu)
        trace = await trace_of(http, emu, trace_id)
        assert trace["outcome"] == "created", trace["hops"]
        assert trace["message"]["traits"]["first_name"] == stored
        [affiliate] = await affiliates(http, emu)
        assert affiliate["first_name"] == stored
        note = unicode_note(trace)
        assert note["variant"] == "replace"
        assert note["warning"] is True
        assert pointer in note["note"]
        entered = trace["hops"][0]
        assert entered["detail"]["unicodeReplaced"] == [pointer]
        assert emu.app_errors == []


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize(("path", "wrap", "pointer"), ENTRANCES, ids=[e[0] for e in ENTRANCES])
async def test_refuse_answers_400_naming_the_field_and_keeps_nothing(
    http: aiohttp.ClientSession, path: str, wrap: Any, pointer: str, encoding: str
) -> None:
    raw, _ = broken_first_name(wrap, encoding)
    async with Emulator(config("refuse")) as emu:
        status, answer, _ = await post(http, emu, path, raw)
        assert status == 400, answer
        assert answer["code"] == "invalid_unicode"
        assert pointer in answer["message"]
        await settled(http, emu)
        assert await affiliates(http, emu) == []
        assert len(emu.runtime.journal) == 0
        # The next ordinary identify is taken as usual.
        status, _, [trace_id] = await post(http, emu, path, json.dumps(wrap(identify())).encode())
        assert status == 200
        await settled(http, emu)
        assert (await trace_of(http, emu, trace_id))["outcome"] == "created"


async def test_a_clean_event_relies_on_no_unicode_assumption(http: aiohttp.ClientSession) -> None:
    async with Emulator(config("replace")) as emu:
        raw = json.dumps({**identify("Zoë"), "writeKey": "wk"}).encode()
        status, _, [trace_id] = await post(http, emu, "/v1/identify", raw)
        assert status == 200
        await settled(http, emu)
        trace = await trace_of(http, emu, trace_id)
        assert trace["outcome"] == "created"
        assert all(n["id"] != "invalid-unicode" for n in trace["assumptions"])


async def test_the_browser_librarys_metrics_follow_the_variant(http: aiohttp.ClientSession) -> None:
    raw = b'{"series": [{"metric": "x\\udc00", "value": 1}]}'
    async with Emulator(config("replace")) as emu:
        assert (await post(http, emu, "/v1/m", raw))[0] == 200
    async with Emulator(config("refuse")) as emu:
        status, answer, _ = await post(http, emu, "/v1/m", raw)
        assert (status, answer["code"]) == (400, "invalid_unicode")


async def test_a_restart_on_the_journal_file_keeps_the_replaced_event(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    journal = str(tmp_path / "journal.db")
    raw = json.dumps({**identify("Pe\udc00ter"), "writeKey": "wk"}).encode()
    async with Emulator(config("replace", journal_path=journal)) as emu:
        status, _, [trace_id] = await post(http, emu, "/v1/identify", raw)
        assert status == 200
        await settled(http, emu)
    # Started again on the same file, refusing from now on: what was kept stays as kept.
    async with Emulator(config("refuse", journal_path=journal)) as again:
        assert again.runtime.incidents.status == "ok"
        trace = await trace_of(http, again, trace_id)
        assert trace["outcome"] == "created"
        assert trace["message"]["traits"]["first_name"] == "Pe\ufffdter"
        assert unicode_note(trace)["variant"] == "replace"
        [affiliate] = await affiliates(http, again)
        assert affiliate["first_name"] == "Pe\ufffdter"
        status, answer, _ = await post(http, again, "/v1/identify", raw)
        assert (status, answer["code"]) == (400, "invalid_unicode")


def test_send_follows_assume_invalid_unicode(tmp_path: Path) -> None:
    path = write(tmp_path, "peter.json", identify("Pe\udc00ter"))
    code, out, err = cli("send", "--json", path)
    assert (code, err) == (0, "")
    [event] = json.loads(out)["cases"][0]["events"]
    assert event["outcome"] == "created"
    assert any(n["id"] == "invalid-unicode" and n["warning"] for n in event["assumptions"])
    code, out, _ = cli("send", path)
    assert code == 0
    assert "! invalid-unicode=replace: invalid Unicode" in out
    assert "fix: fix the client: it sent a lone surrogate" in out
    code, out, _ = cli("send", "--assume", "invalid-unicode=refuse", path)
    assert code == 1
    assert "400 invalid_unicode" in out
    assert "/batch/0/traits/first_name" in out
