"""``GET /_emulator/stream``: the journal's changes as server-sent events, for the inspector.

Each browser gets a :class:`Subscriber` fed by a journal listener. It holds only the *ids*
of changed traces, coalesced and bounded, and a trace's summary is read when it is sent, so
a slow browser costs at most ``limit`` ids and still sees the latest state. Past the bound
the subscriber forgets what it holds and tells the browser to reload the list (``resync``).

Events: ``hello`` and ``ping`` carry ``{"events": <journal size>}``; ``trace`` carries one
trace summary (as ``GET /_emulator/events`` lists them); ``resync`` says "reload the list".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator.journal.traces import Journal, Trace
from emulator.json_limits import strict_dumps
from emulator.server.keys import RUNTIME
from emulator.web.errors import BodyError

__all__ = ["STREAM_HUB", "StreamHub", "Subscriber", "routes", "setup"]

routes = web.RouteTableDef()

# Far more than a browser renders at once; a burst past it costs one list reload.
_PENDING_LIMIT = 1000
_MAX_SUBSCRIBERS = 32
# Often enough that a closed tab is noticed (writes fail) and that a reset made elsewhere
# shows up (the browser compares the journal size with what it holds).
_PING_SECONDS = 10.0
_RECONNECT_MS = 2000


@dataclass(frozen=True, slots=True)
class Changes:
    """What to send next: changed trace ids, a reload (``overflowed``), or the end (``closed``)."""

    trace_ids: tuple[str, ...] = ()
    overflowed: bool = False
    closed: bool = False


class Subscriber:
    """One browser's pending changes: trace ids in first-changed order, at most ``limit``."""

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._pending: dict[str, None] = {}
        self._overflowed = False
        self._closed = False
        self._wake = asyncio.Event()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def notify(self, trace: Trace) -> None:
        """The journal listener. Runs inside the pipeline, so it only touches a dict."""
        if self._overflowed:
            return
        if trace.id not in self._pending and len(self._pending) >= self._limit:
            self._pending.clear()
            self._overflowed = True
        else:
            self._pending[trace.id] = None
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def changes(self, *, timeout: float) -> Changes:
        """What changed since the last call, waiting up to ``timeout`` seconds for something."""
        if not (self._pending or self._overflowed or self._closed):
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        changes = Changes(tuple(self._pending), self._overflowed, self._closed)
        self._pending.clear()
        self._overflowed = False
        return changes


class StreamHub:
    """The subscribers of one emulator's journal."""

    def __init__(
        self,
        journal: Journal,
        *,
        pending_limit: int = _PENDING_LIMIT,
        max_subscribers: int = _MAX_SUBSCRIBERS,
        ping_seconds: float = _PING_SECONDS,
    ) -> None:
        self.journal = journal
        self.ping_seconds = ping_seconds
        self._pending_limit = pending_limit
        self._max_subscribers = max_subscribers
        self._subscribers: list[Subscriber] = []

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscriber:
        if len(self._subscribers) >= self._max_subscribers:
            raise BodyError(
                503,
                "too_many_streams",
                f"{self._max_subscribers} live streams are open already; close an inspector tab",
            )
        subscriber = Subscriber(limit=self._pending_limit)
        self._subscribers.append(subscriber)
        self.journal.listeners.append(subscriber.notify)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
            self.journal.listeners.remove(subscriber.notify)

    def close_all(self) -> None:
        for subscriber in self._subscribers:
            subscriber.close()


STREAM_HUB = web.AppKey("stream_hub", StreamHub)


def setup(app: web.Application) -> None:
    """Add the stream to ``app``; open streams end when the app shuts down."""
    app[STREAM_HUB] = StreamHub(app[RUNTIME].journal)
    app.add_routes(routes)
    app.on_shutdown.append(_end_streams)


async def _end_streams(app: web.Application) -> None:
    # Without this, shutdown waits for its timeout on every open browser tab.
    app[STREAM_HUB].close_all()


@routes.get("/_emulator/stream")
async def stream(request: web.Request) -> web.StreamResponse:
    hub = request.app[STREAM_HUB]
    subscriber = hub.subscribe()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    try:
        await response.prepare(request)
        await response.write(
            f"retry: {_RECONNECT_MS}\n".encode() + _event("hello", _size(hub.journal))
        )
        async for chunk in _chunks(hub, subscriber):
            await response.write(chunk)
    except ConnectionResetError:
        pass  # the browser went away; its subscriber goes with it
    finally:
        hub.unsubscribe(subscriber)
    return response


async def _chunks(hub: StreamHub, subscriber: Subscriber) -> AsyncIterator[bytes]:
    journal = hub.journal
    while True:
        changes = await subscriber.changes(timeout=hub.ping_seconds)
        if changes.closed:
            return
        if changes.overflowed:
            yield _event("resync", _size(journal))
        elif changes.trace_ids:
            traces = (journal.get(trace_id) for trace_id in changes.trace_ids)
            # A trace gone from the journal (reset, cap) has nothing left to show.
            yield b"".join(_event("trace", t.summary_dict()) for t in traces if t is not None)
        else:
            yield _event("ping", _size(journal))


def _size(journal: Journal) -> dict[str, Any]:
    return {"events": len(journal)}


def _event(name: str, data: Any) -> bytes:
    # JSON escapes every newline, so one data: line always holds the whole payload.
    return f"event: {name}\ndata: {strict_dumps(data)}\n\n".encode()
