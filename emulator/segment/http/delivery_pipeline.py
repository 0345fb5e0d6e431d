"""Segment's delivery to the destination: one event per POST, classified, retried, journaled."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
import zlib
from typing import Any, Protocol

import aiohttp

from emulator.assumptions import AssumptionNote
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.contract_checks.contract_set import ContractSet
from emulator.journal.incidents import Incidents
from emulator.journal.traces import Hop, Journal, Trace
from emulator.journal.watch import JournalWatch
from emulator.json_limits import strict_dumps, strict_loads
from emulator.secrets_mask import mask_secret
from emulator.segment.delivery_outcome import Exchange, Settlement, settle
from emulator.segment.delivery_policy import (
    RetryPolicy,
    api_key_missing,
    parse_retry_after,
)
from emulator.web.reading import read_limited

__all__ = ["DeliveryHost", "DeliveryPipeline"]

log = logging.getLogger("emulator.server")

USER_AGENT = "Segment.io/1.0"
_MAX_RESPONSE_BYTES = 64 * 1024


class DeliveryHost(Protocol):
    """What delivery needs from the emulator it runs in (the server's runtime provides it)."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def rng(self) -> random.Random: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def contracts(self) -> ContractSet: ...

    @property
    def retry_policy(self) -> RetryPolicy: ...

    @property
    def delivery_timeout(self) -> float: ...

    @property
    def destination_url(self) -> str: ...

    @property
    def incidents(self) -> Incidents: ...


class DeliveryPipeline:
    """Workers that deliver queued traces; one queue per worker, keyed by user.

    Keying by user keeps one user's identify and delete in order while different users
    are delivered concurrently (Segment promises no ordering; tests and people expect it).
    """

    def __init__(self, runtime: DeliveryHost) -> None:
        self._runtime = runtime
        count = runtime.config.delivery_workers
        self._queues: list[asyncio.Queue[Trace]] = [asyncio.Queue() for _ in range(count)]
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()
        self._outstanding: set[str] = set()
        # Traces waiting in a queue for a worker (not those waiting for a retry timer).
        self._queued = 0
        self._room = asyncio.Event()
        self._room.set()
        # Traces whose POST is on the wire, by messageId, so the destination (when it is this
        # emulator's own) appends its hops to the trace Segment is delivering.
        self.in_flight: dict[str, Trace] = {}
        self._session: aiohttp.ClientSession | None = None
        # Built once per API key and timeout (both can change with reconfigure()).
        self._headers: tuple[str, dict[str, str], dict[str, str]] | None = None
        self._timeout: aiohttp.ClientTimeout | None = None
        # Wakes the waits below: every outcome change and every delivery finished (or
        # expired) is followed by journal.changed; clear() pokes it itself.
        self.watch = JournalWatch(runtime.journal)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the delivery pipeline is not started")
        return self._session

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=100)
        self._session = aiohttp.ClientSession(connector=connector)
        self._workers = [asyncio.create_task(self._work(q)) for q in self._queues]

    async def stop(self) -> None:
        tasks = [*self._workers, *self._timers]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._timers.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    def enqueue(self, trace: Trace) -> None:
        self._outstanding.add(trace.id)
        self._put(trace)

    async def admit(self) -> None:
        """Wait until fewer than ``delivery_backlog`` traces are queued for delivery.

        Retries waiting for their time do not count: a failing destination does not stop
        the Tracking API, only a backlog the workers have not reached yet does.
        """
        while self._queued >= self._runtime.config.delivery_backlog:
            self._room.clear()
            await self._room.wait()

    def clear(self) -> None:
        """Forget every queued and scheduled delivery (used by reset)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for queue in self._queues:
            while not queue.empty():
                queue.get_nowait()
                queue.task_done()
        self._outstanding.clear()
        self._queued = 0
        self._room.set()
        self.watch.poke()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or awaiting retry; ``False`` on timeout."""
        return await self.watch.until(lambda: not self._outstanding, timeout)

    async def wait_settled(self, traces: list[Trace], timeout: float) -> bool:
        """Wait until each trace is final or waiting for a retry; ``False`` on timeout."""
        return await self.watch.until(lambda: all(t.outcome != "pending" for t in traces), timeout)

    def resume(self) -> None:
        """Pick up the unfinished traces an earlier run left in a durable journal.

        Called once the emulator has an address, which deliveries to itself need.
        """
        runtime = self._runtime
        now = runtime.clock.now()
        for trace in runtime.journal:
            # Direct posts to /destination have no Segment side that would deliver them.
            if trace.final or trace.entry == "destination" or trace.id in self._outstanding:
                continue
            self._outstanding.add(trace.id)
            due = trace.next_attempt_at if trace.outcome == "retrying" else None
            if due is not None and due > now:
                trace.add_hop("resume", f"emulator restarted; next attempt in {due - now:.1f}s")
                self._start_timer(trace, due - now)
            else:
                trace.add_hop("resume", "emulator restarted; delivery resumes")
                self._put(trace)
            runtime.journal.changed(trace)

    def _put(self, trace: Trace) -> None:
        self._queued += 1
        self._queue_for(trace).put_nowait(trace)

    def _queue_for(self, trace: Trace) -> asyncio.Queue[Trace]:
        key = trace.user_id or _str(trace.message, "anonymousId") or trace.id
        return self._queues[zlib.crc32(key.encode("utf-8", "surrogatepass")) % len(self._queues)]

    async def _work(self, queue: asyncio.Queue[Trace]) -> None:
        while True:
            trace = await queue.get()
            self._queued -= 1
            if self._queued < self._runtime.config.delivery_backlog:
                self._room.set()
            try:
                await self._attempt(trace)
            except Exception as exc:  # noqa: BLE001 - a bug must neither stop a worker nor lose the event
                self._failed_inside(trace, exc)
            finally:
                queue.task_done()

    def _failed_inside(self, trace: Trace, exc: Exception) -> None:
        """Journal a bug on the trace it hit and retry it; the worker carries on regardless."""
        log.exception("delivery of %s failed inside the emulator", trace.id)
        self._runtime.incidents.record("delivery worker", repr(exc), trace_id=trace.id)
        try:
            hop = trace.add_hop(
                "delivery",
                f"attempt {trace.attempts} failed inside the emulator: {exc!r}",
                ok=False,
                detail={"classification": "awaiting-retry.INTERNAL"},
            )
            self._schedule_retry(trace, hop, None, "awaiting-retry.INTERNAL")
            self._runtime.journal.changed(trace)
        except Exception as again:  # noqa: BLE001 - not even a retry: give the trace up
            log.error("delivery of %s abandoned: %r", trace.id, again)
            trace.outcome = "discarded"
            trace.reason = "emulator_bug"
            self._outstanding.discard(trace.id)

    async def _attempt(self, trace: Trace) -> None:
        runtime = self._runtime
        api_key = runtime.config.effective_api_key
        choices = runtime.config.assumptions_in_force
        if api_key_missing(api_key, choices):
            self._refuse_settings(trace, blank=api_key != "")
            return
        now = runtime.clock.now()
        if trace.first_attempt_at is None:
            trace.first_attempt_at = now
        trace.attempts += 1
        trace.next_attempt_at = None
        url = runtime.destination_url
        headers, shown_headers = self._headers_for(runtime.config.effective_api_key)
        hop = trace.add_hop(
            "delivery",
            f"attempt {trace.attempts}: POST {url}",
            detail={
                "attempt": trace.attempts,
                "request": {"url": url, "headers": dict(shown_headers)},
            },
        )
        if api_key and not api_key.strip():
            note = AssumptionNote(
                "empty-api-key",
                choices.variant("empty-api-key"),
                "a whitespace-only API key is sent as given",
                "blank: INVALID_SETTINGS, never sent",
            )
            hop.detail.setdefault("assumptions", []).append(note.to_dict())
        runtime.journal.changed(trace)
        started = time.perf_counter()
        exchange = await self._exchange(trace, url, headers)
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        elapsed = round(now - trace.first_attempt_at, 3)
        self._record(trace, hop, exchange, settle(exchange), latency_ms=latency_ms, elapsed=elapsed)
        runtime.journal.changed(trace)

    async def _exchange(self, trace: Trace, url: str, headers: dict[str, str]) -> Exchange:
        """POST the trace's message to ``url``: what came back, or which way it failed."""
        runtime = self._runtime
        if trace.message_id is not None:
            self.in_flight[trace.message_id] = trace
        status: int | None = None
        try:
            timeout = self._timeout_for(runtime.delivery_timeout)
            data = strict_dumps(trace.message).encode()
            async with self.session.post(url, data=data, headers=headers, timeout=timeout) as resp:
                status = resp.status
                raw = await read_limited(resp, limit=_MAX_RESPONSE_BYTES)
                retry_after = resp.headers.get("Retry-After")
                return Exchange(
                    status,
                    body=_parse_json(raw),
                    retry_after=parse_retry_after(retry_after, now=runtime.clock.now()),
                )
        except TimeoutError:
            error = "ETIMEDOUT"
        except aiohttp.ClientConnectorError:
            error = "ECONNREFUSED"
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientOSError,
            aiohttp.ClientPayloadError,
        ):
            # A body cut short of its Content-Length is the connection closing mid-answer.
            error = "ECONNRESET"
        except aiohttp.ClientError as exc:
            error = f"INTERNAL ({type(exc).__name__})"
        finally:
            if trace.message_id is not None:
                self.in_flight.pop(trace.message_id, None)
        return Exchange(status, error)

    def _record(
        self,
        trace: Trace,
        hop: Hop,
        exchange: Exchange,
        settled: Settlement,
        *,
        latency_ms: float,
        elapsed: float,
    ) -> None:
        """Journal the attempt's answer and its settlement; schedule the retry it calls for."""
        runtime = self._runtime
        status, error, body = exchange.status, exchange.error, exchange.body
        if error == "ETIMEDOUT":
            note = AssumptionNote(
                "delivery-timeout",
                runtime.config.assumptions_in_force.variant("delivery-timeout"),
                f"no answer within {_duration(runtime.delivery_timeout)}: a timeout, retried",
            )
            hop.detail.setdefault("assumptions", []).append(note.to_dict())
        label = settled.classification.label
        hop.ok = settled.delivered
        hop.summary = f"attempt {trace.attempts}: {status or error} → {label}"
        hop.detail["response"] = {"status": status, "error": error, "body": body}
        hop.detail["latencyMs"] = latency_ms
        hop.detail["classification"] = label
        hop.detail["elapsedSeconds"] = elapsed
        if isinstance(body, dict) and body and status is not None:
            hop.violations.extend(self._runtime.contracts.validate("destination/response", body))
        if settled.outcome is None:
            self._schedule_retry(trace, hop, exchange.retry_after, label)
            return
        trace.outcome = settled.outcome
        trace.reason = settled.reason
        self._outstanding.discard(trace.id)

    def _refuse_settings(self, trace: Trace, *, blank: bool) -> None:
        """The destination's one required setting, the API key, is empty: Segment discards
        the event as ``INVALID_SETTINGS`` without sending it (docs/reason-codes.md).

        ``blank``: the key is whitespace, missing only under ``empty-api-key=blank``."""
        detail: dict[str, object] = {"classification": "discarded.INVALID_SETTINGS"}
        if blank:
            note = AssumptionNote(
                "empty-api-key",
                self._runtime.config.assumptions_in_force.variant("empty-api-key"),
                "a whitespace-only API key counts as missing",
                "empty-only: it would be sent, and Refersion would answer 401",
            )
            detail["assumptions"] = [note.to_dict()]
        trace.add_hop(
            "delivery",
            "not sent: the destination's API key setting is empty → discarded.INVALID_SETTINGS",
            ok=False,
            detail=detail,
        )
        trace.outcome = "discarded"
        trace.reason = "INVALID_SETTINGS"
        trace.next_attempt_at = None
        self._outstanding.discard(trace.id)
        self._runtime.journal.changed(trace)

    def _headers_for(self, api_key: str) -> tuple[dict[str, str], dict[str, str]]:
        """Segment's request headers for ``api_key``, and the same with the key masked."""
        if self._headers is None or self._headers[0] != api_key:
            auth = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
            headers = {
                "Authorization": auth,
                "User-Agent": USER_AGENT,
                "Content-Type": "application/json",
                "Accept": "*/*",
                "Cache-Control": "no-cache",
            }
            shown = {**headers, "Authorization": f"Basic <{mask_secret(api_key)}:>"}
            self._headers = (api_key, headers, shown)
        return self._headers[1], self._headers[2]

    def _timeout_for(self, seconds: float) -> aiohttp.ClientTimeout:
        if self._timeout is None or self._timeout.total != seconds:
            self._timeout = aiohttp.ClientTimeout(total=seconds)
        return self._timeout

    def _schedule_retry(
        self, trace: Trace, hop: Hop, retry_after: float | None, label: str
    ) -> None:
        runtime = self._runtime
        policy = runtime.retry_policy
        delay = policy.backoff(trace.attempts, runtime.rng, retry_after=retry_after)
        now = runtime.clock.now()
        first = trace.first_attempt_at if trace.first_attempt_at is not None else now
        trace.reason = label
        choices = runtime.config.assumptions_in_force
        notes = hop.detail.setdefault("assumptions", [])
        if retry_after is not None:
            hop.detail["retryAfterSeconds"] = retry_after
            honoured = policy.honour_retry_after
            notes.append(
                AssumptionNote(
                    "retry-after",
                    choices.variant("retry-after"),
                    f"Retry-After {retry_after:g} s {'honoured' if honoured else 'ignored'}",
                    "ignored: the backoff alone decides"
                    if honoured
                    else "honoured: the next attempt would wait at least that long",
                ).to_dict()
            )
        expires = policy.expired(first, now + delay) or policy.exhausted(trace.attempts)
        notes.append(
            AssumptionNote(
                "retry-backoff",
                choices.variant("retry-backoff"),
                f"after attempt {trace.attempts}: "
                + ("no more attempts" if expires else f"next in {_duration(delay)}"),
            ).to_dict()
        )
        if expires:
            trace.outcome = "expired"
            trace.next_attempt_at = None
            elapsed = now - first
            why = (
                f"the schedule (retry-backoff={choices.variant('retry-backoff')}) allows "
                f"{policy.max_retries} retries"
                if policy.exhausted(trace.attempts)
                else f"the next attempt (in {_duration(delay)}) would pass the retry budget of "
                f"{_duration(policy.budget)}"
            )
            trace.add_hop(
                "expired",
                f"expired after {_attempts(trace.attempts)} over {_duration(elapsed)}: {why}; "
                f"last answer {label}",
                ok=False,
                detail={
                    "classification": "expired",
                    "attempts": trace.attempts,
                    "elapsedSeconds": round(elapsed, 3),
                    "budgetSeconds": policy.budget,
                    "lastClassification": label,
                },
            )
            self._outstanding.discard(trace.id)
            return
        trace.outcome = "retrying"
        trace.next_attempt_at = now + delay
        hop.detail["retryInSeconds"] = round(delay, 3)
        hop.summary += f"; retry in {_duration(delay)}"
        self._start_timer(trace, delay)

    def _start_timer(self, trace: Trace, delay: float) -> None:
        timer = asyncio.create_task(self._retry_later(trace, delay))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def _retry_later(self, trace: Trace, delay: float) -> None:
        await self._runtime.clock.sleep(delay)
        if trace.id in self._outstanding:
            self._put(trace)


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return strict_loads(raw)
    except (ValueError, RecursionError):
        return raw[:500].decode("utf-8", "replace")


def _attempts(count: int) -> str:
    return f"{count} attempt" + ("" if count == 1 else "s")


def _duration(seconds: float) -> str:
    """``0.25`` → ``"0.25s"``, ``90`` → ``"1m30s"``, ``14400`` → ``"4h"``."""
    if seconds < 60:
        return f"{seconds:.3g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


def _str(message: Any, key: str) -> str | None:
    value = message.get(key) if isinstance(message, dict) else None
    return value if isinstance(value, str) else None
