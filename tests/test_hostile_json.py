"""Hostile JSON on every HTTP surface, with and without a journal file.

Hypothesis' text strategies never draw lone surrogates, and ``json.dumps`` never writes
``NaN`` tokens unless asked, so the other fuzzers cannot find what broke the emulator before:
a lone UTF-16 surrogate (as a ``\\udc00`` escape or as CESU-8 bytes) in any string or key,
``NaN`` / ``Infinity`` / ``1e400`` / a 5,000-digit number in any value, and odd digits
(``²``, ``①``, ``٣``) in query strings and path parameters. Each example starts from a valid
body for the surface and plants one to three of these in it.

Each example also draws the variant of the ``invalid-unicode`` assumption (docs/assumptions.md)
and switches to it: Segment's entrances (``/v1/*`` and ``/_emulator/deliver``) replace invalid
Unicode by U+FFFD under ``replace`` and refuse it under ``refuse``; the other surfaces refuse it
under both.

After every example: no 5xx, the answer is strict JSON, the next ordinary event is
acknowledged and delivered within a second, and flush goes idle. At the end health is still
``ok`` and, with a journal file, the emulator starts again on it and delivers.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.config import RefersionCredentials
from emulator.contract_checks.openapi import bundled_document, operations
from emulator.server.background import BackgroundEmulator
from tests.support import FUZZ_NOTES, fast_config

# Hostile JSON at every HTTP surface, a fuzz run (make quick leaves it out).
pytestmark = pytest.mark.fuzz

DOCUMENT = bundled_document()
# Answers that are not JSON (pages, assets, the event stream) and the reset, which is not
# input at all.
_LEFT_OUT = {
    "/",
    "/_emulator/ui",
    "/_emulator/ui/",
    "/_emulator/ui/{asset}",
    "/_emulator/stream",
    "/_emulator/reset",
}
# Every operation that answers JSON (a CORS preflight answers 204 with no body).
SURFACES = sorted(
    (m, p) for m, p in operations(DOCUMENT) if p not in _LEFT_OUT and m in ("GET", "POST", "DELETE")
)
DOCUMENTED_5XX = {"/destination": {501}}
CREDENTIALS = RefersionCredentials()

FUZZ = settings(
    max_examples=max(200, settings().max_examples),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

tried: Counter[str] = Counter()


# -- hostile values ------------------------------------------------------------------------


class RawNumber:
    """A number token written as it is: ``1e400``, ``-Infinity``, 5,000 digits."""

    def __init__(self, token: str) -> None:
        self.token = token


_LONE = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
hostile_strings = st.builds(
    lambda before, lone, after: before + lone + after,
    st.text(max_size=6),
    _LONE,
    st.text(max_size=6),
)
hostile_numbers = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        RawNumber("1e400"),
        RawNumber("-1e400"),
        RawNumber("9" * 5000),
        RawNumber("1" + "0" * 400 + ".5"),
    ]
)
ODD_DIGITS = ["²", "①", "٣", "9" * 5000, "-1", "1e3", "NaN", "Infinity", " 5", "\ud800"]
odd_query_values = st.sampled_from(ODD_DIGITS) | hostile_strings


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in ``value``: each member, each item, each key (as ("key", name))."""
    yield here
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*here, ("key", key))
            yield from _paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*here, index))


def _plant(value: Any, path: tuple[Any, ...], hostile: Any) -> Any:
    """``value`` with ``hostile`` at ``path`` (a key path renames that key)."""
    if not path:
        if isinstance(value, dict):
            return {**value, "hostile": hostile}
        return hostile
    step, rest = path[0], path[1:]
    if isinstance(step, tuple):
        name = step[1]
        new_key = hostile if isinstance(hostile, str) else f"{name}\udc00"
        return {(new_key if key == name else key): item for key, item in value.items()}
    if isinstance(value, dict):
        return {**value, step: _plant(value[step], rest, hostile)}
    copy = list(value)
    copy[step] = _plant(copy[step], rest, hostile)
    return copy


@st.composite
def hostile_bodies(draw: st.DrawFn, template: Any) -> bytes:
    """``template`` with one to three hostile strings, keys or numbers planted in it."""
    body = template
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        places = list(_paths(body))
        place = draw(st.sampled_from(places))
        is_key = bool(place) and isinstance(place[-1], tuple)
        hostile = draw(hostile_strings if is_key else hostile_strings | hostile_numbers)
        body = _plant(body, place, hostile)
    return encode(body, cesu8=draw(st.booleans()))


def encode(value: Any, *, cesu8: bool) -> bytes:
    """JSON as a careless client writes it: NaN tokens, raw number tokens, surrogates either
    escaped (``\\udc00``) or as CESU-8 bytes."""
    tokens: dict[str, str] = {}

    def default(item: Any) -> Any:
        if isinstance(item, RawNumber):
            marker = f"@@{len(tokens)}@@"
            tokens[f'"{marker}"'] = item.token
            return marker
        raise TypeError(item)

    text = json.dumps(value, default=default, ensure_ascii=not cesu8, allow_nan=True)
    for marker, token in tokens.items():
        text = text.replace(marker, token)
    return text.encode("utf-8", "surrogatepass")


# -- a valid body for each surface ---------------------------------------------------------

PETER = {"name": "Peter Gibbons", "email": "peter@example.com"}
_MESSAGE = {
    "type": "identify",
    "userId": "u-hostile",
    "anonymousId": "a-hostile",
    "messageId": "m-hostile",
    "traits": {**PETER, "address": {"city": "Austin", "country": "US"}, "age": 33},
    "context": {"ip": "127.0.0.1", "library": {"name": "analytics-python", "version": "2"}},
    "integrations": {"All": True},
    "timestamp": "2026-01-01T00:00:00Z",
}
TEMPLATES: dict[str, Any] = {
    "/v1/identify": {**_MESSAGE, "writeKey": "wk"},
    "/v1/track": {**_MESSAGE, "type": "track", "event": "Order", "properties": {"total": 1.5}},
    "/v1/page": {**_MESSAGE, "type": "page", "name": "Home", "properties": {"url": "/"}},
    "/v1/screen": {**_MESSAGE, "type": "screen", "name": "Home", "properties": {"x": 1}},
    "/v1/group": {**_MESSAGE, "type": "group", "groupId": "g1", "traits": {"name": "G"}},
    "/v1/alias": {**_MESSAGE, "type": "alias", "previousId": "old"},
    "/v1/batch": {"writeKey": "wk", "batch": [_MESSAGE], "context": {"ip": "127.0.0.1"}},
    "/v1/import": {"writeKey": "wk", "batch": [_MESSAGE]},
    "/destination": _MESSAGE,
    "/_emulator/deliver": {"messages": [_MESSAGE]},
    "/_emulator/flush": {},
    "/refersion/v2/affiliate/new": {
        "first_name": "Peter",
        "last_name": "Gibbons",
        "email": "peter@example.com",
        "password": "Tps-reports-1!",
        "status": "ACTIVE",
        "country": "US",
    },
    "/refersion/v2/affiliate/edit": {"id": 1, "first_name": "P", "company": "Initech"},
    "/refersion/v2/affiliate/get": {"id": 1},
    "/refersion/v2/affiliate/delete": {"id": 1},
    "/refersion/v2/affiliate/list": {"page": 1, "limit": 10},
    "/refersion/v2/affiliate/search": {"keyword": "peter", "page": 1},
    "/refersion/v2/affiliate/status_change": {"ids": [1], "status": "ACTIVE"},
    "/regulations": {
        "regulationType": "DELETE_ONLY",
        "subjectType": "USER_ID",
        "subjectIds": ["reg-subject"],
    },
    "/_emulator/faults": {
        "surface": "refersion",
        "endpoint": "affiliate/get",
        "effect": {"status": 503, "body": {"m": "x"}},
        "times": 1,
    },
    "/_emulator/engage/audiences": {
        "key": "vip",
        "name": "VIP",
        "members": [{"userId": "e1", "traits": PETER}],
    },
    "/_emulator/engage/audiences/{key}/sync": {
        "members": [{"userId": "e1", "traits": PETER}],
        "at": "2026-01-01T00:00:00Z",
    },
}


def headers_for(path: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if path.startswith("/refersion/"):
        headers["Refersion-Public-Key"] = CREDENTIALS.public_key
        headers["Refersion-Secret-Key"] = CREDENTIALS.secret_key
    if path == "/destination":
        key = base64.b64encode(f"{CREDENTIALS.api_key}:".encode()).decode()
        headers["Authorization"] = f"Basic {key}"
    return headers


def query_names(method: str, path: str) -> list[str]:
    parameters = DOCUMENT["paths"][path][method.lower()].get("parameters", [])
    return [p["name"] for p in parameters if p.get("in") == "query"]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes | None]:
    """(method, URL path with query, body) aimed at one surface."""
    method, template_path = draw(st.sampled_from(SURFACES))
    path = template_path
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        value = draw(st.sampled_from(["vip", "t000001", "reg-1"]) | odd_query_values)
        path = (
            path[:start] + quote(value.encode("utf-8", "surrogatepass"), safe="") + path[end + 1 :]
        )
    names = query_names(method, template_path)
    if method == "POST" and template_path == "/_emulator/deliver":
        names = ["wait"]
    query = {}
    if names:
        for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            query[name] = draw(odd_query_values)
    if template_path == "/_emulator/deliver":
        query["wait"] = "0"  # bounded: never wait for a delivery here
    if query:
        pairs = [(k, v.encode("utf-8", "surrogatepass")) for k, v in query.items()]
        # One 5,000-digit value at most: a request line over 8 KB is refused by aiohttp's
        # parser (400, text/plain) before the emulator sees it.
        while len(urlencode(pairs)) > 7000:
            pairs.pop()
        path += "?" + urlencode(pairs)
    body = None
    if method == "POST":
        body = draw(hostile_bodies(TEMPLATES.get(template_path, {"value": "x"})))
    return method, path, body


# -- the client and the checks -------------------------------------------------------------


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def strict(payload: bytes) -> Any:
    """``payload`` as strict JSON: no NaN or Infinity tokens, no lone surrogates."""

    def refuse(token: str) -> Any:
        raise AssertionError(f"not JSON: the token {token}")

    value = json.loads(payload.decode("utf-8"), parse_constant=refuse)
    assert not any(_LONE_SURROGATE.search(text) for text in strings_in(value)), "a lone surrogate"
    return value


def strings_in(value: Any) -> Iterator[str]:
    """Every string of a parsed JSON ``value``, object keys included."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def call(
    live: BackgroundEmulator,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, http.client.HTTPResponse]:
    address = urlsplit(live.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    content_type = response.getheader("Content-Type", "")
    assert content_type.startswith("application/json"), (method, path, response.status)
    try:
        return response.status, strict(payload), response
    except AssertionError as exc:
        raise AssertionError(f"{method} {path} {body!r:.300}: {exc}: {payload!r:.500}") from None


def ordinary_event_is_delivered(live: BackgroundEmulator) -> None:
    """The next ordinary event is acknowledged and delivered within a second; flush idles."""
    user_id = f"ordinary-{uuid.uuid4().hex[:12]}"
    body = {"writeKey": "wk", "userId": user_id, "traits": {**PETER, "email": f"{user_id}@x.io"}}
    started = time.monotonic()
    status, answer, response = call(
        live, "POST", "/v1/identify", json.dumps(body).encode(), headers_for("/v1/identify")
    )
    assert status == 200, answer
    trace_id = response.getheader("X-Emulator-Trace-Ids")
    status, flushed, _ = call(live, "POST", "/_emulator/flush?timeout=1")
    assert flushed["idle"] is True, flushed
    status, trace, _ = call(live, "GET", f"/_emulator/events/{trace_id}")
    assert trace["outcome"] == "created", [
        (hop["name"], hop["summary"], hop["detail"].get("response")) for hop in trace["hops"]
    ]
    assert time.monotonic() - started < 1.5


def clean_up(live: BackgroundEmulator) -> None:
    """Rules a hostile body happened to leave valid must not fail the next ordinary event."""
    call(live, "DELETE", "/_emulator/faults")


VARIANTS = ["replace", "refuse"]


def holds_invalid_unicode(body: bytes) -> bool:
    """Whether a string or key of ``body`` holds a lone surrogate (escaped or CESU-8)."""
    text = body.decode("utf-8", "surrogateescape")
    value = json.loads(text, parse_constant=str, parse_int=str, parse_float=str)
    return any(_LONE_SURROGATE.search(item) for item in strings_in(value))


def is_segment_entrance(method: str, path: str) -> bool:
    return method == "POST" and (path.startswith("/v1/") or path == "/_emulator/deliver")


def assume(live: BackgroundEmulator, variant: str) -> None:
    body = json.dumps({"assumptions": {"invalid-unicode": variant}}).encode()
    status, answer, _ = call(live, "PUT", "/_emulator/assumptions", body)
    assert status == 200, answer


def check_invalid_unicode(
    live: BackgroundEmulator,
    variant: str,
    answer: Any,
    response: http.client.HTTPResponse,
    status: int,
) -> bool:
    """A Segment entrance given invalid Unicode: refused under ``refuse``; under ``replace``
    never refused for it, and every event the request entered says what was replaced.
    ``True`` when the request was accepted with its strings replaced."""
    if variant == "refuse":
        assert 400 <= status < 500, (status, answer)
        return False
    assert not (isinstance(answer, dict) and answer.get("code") == "invalid_unicode"), answer
    if status >= 300:
        return False
    if isinstance(answer, dict) and isinstance(answer.get("events"), list):
        trace_ids = [event["id"] for event in answer["events"]]  # /_emulator/deliver
    else:
        trace_ids = [i for i in (response.getheader("X-Emulator-Trace-Ids") or "").split(",") if i]
    for trace_id in trace_ids:
        _, trace, _ = call(live, "GET", f"/_emulator/events/{trace_id}")
        notes = [note for note in trace["assumptions"] if note["id"] == "invalid-unicode"]
        assert notes, trace["assumptions"]
        assert "U+FFFD" in notes[0]["note"]
    return True


def check_one(
    live: BackgroundEmulator, method: str, path: str, body: bytes | None, variant: str
) -> bool:
    """The checks after one hostile request; ``True`` if it was accepted with U+FFFD."""
    template_path = urlsplit(path).path
    assume(live, variant)
    status, answer, response = call(live, method, path, body, headers_for(template_path))
    allowed = DOCUMENTED_5XX.get(template_path, set())
    assert status < 500 or status in allowed, (method, path, status, answer)
    if (
        body is not None
        and is_segment_entrance(method, template_path)
        and holds_invalid_unicode(body)
    ):
        replaced = check_invalid_unicode(live, variant, answer, response, status)
    else:
        replaced = False
    clean_up(live)
    ordinary_event_is_delivered(live)
    return replaced


# -- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_memory(request: pytest.FixtureRequest) -> Iterator[BackgroundEmulator]:
    with BackgroundEmulator(fast_config()) as live:
        yield live
        assert live.server_errors() == []
        assert _health(live) == "ok"
    _note(request, "in memory")


@pytest.fixture(scope="module")
def with_journal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundEmulator]:
    journal_file = str(tmp_path_factory.mktemp("hostile") / "journal.db")
    with BackgroundEmulator(fast_config(journal_path=journal_file)) as live:
        yield live
        assert live.server_errors() == []
        assert _health(live) == "ok"
    # A restart on the file the hostile run filled starts, loads it and delivers.
    with BackgroundEmulator(fast_config(journal_path=journal_file)) as again:
        assert len(again.events()) > 0
        ordinary_event_is_delivered(again)
        assert _health(again) == "ok"
    _note(request, "with --journal")


def _health(live: BackgroundEmulator) -> str:
    """What health says: ``ok``, or ``degraded`` after an incident the emulator survived."""
    status: str = live.control("GET", "/_emulator/health")["status"]
    return status


def _note(request: pytest.FixtureRequest, mode: str) -> None:
    count = tried.pop(mode, 0)
    replaced = tried.pop(f"{mode}, replaced", 0)
    line = (
        f"hostile JSON ({mode}): {count} requests on {len(SURFACES)} surfaces, "
        f"{replaced} accepted with U+FFFD"
    )
    request.config.stash.setdefault(FUZZ_NOTES, []).append(line)


@FUZZ
@given(request=requests(), variant=st.sampled_from(VARIANTS))
def test_hostile_json_in_memory(
    in_memory: BackgroundEmulator, request: tuple[str, str, bytes | None], variant: str
) -> None:
    tried["in memory"] += 1
    tried["in memory, replaced"] += check_one(in_memory, *request, variant)


@FUZZ
@given(request=requests(), variant=st.sampled_from(VARIANTS))
def test_hostile_json_with_a_journal_file(
    with_journal: BackgroundEmulator, request: tuple[str, str, bytes | None], variant: str
) -> None:
    tried["with --journal"] += 1
    tried["with --journal, replaced"] += check_one(with_journal, *request, variant)
