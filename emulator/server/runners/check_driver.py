"""The property suite against a live pipeline over loopback HTTP, and ``run_check``.

The Segment side is always this process's emulator. The destination is its own (running the
given mapping) unless ``config.destination_url`` names a receiver under test; the Refersion
account is its own fake unless ``config.refersion_url`` names another one, which the check
reads back through ``affiliate/search`` and ``affiliate/get``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from emulator.check import (
    CheckOptions,
    CheckReport,
    Delivered,
    InvariantBroken,
    Progress,
    RefersionCall,
    run_properties,
)
from emulator.config import EmulatorConfig
from emulator.destination.mapping import ApiKey, parse_api_key
from emulator.destination.mapping import Mapping as MappingFn
from emulator.errors import InputError, InvalidApiKey
from emulator.fake_refersion.http.api import BASE_PATH
from emulator.journal.traces import Trace
from emulator.segment.http.tracking_api import TRACE_IDS_HEADER
from emulator.server.emulator import Emulator

__all__ = ["CHECK_AGENT", "HttpDriver", "RefersionLog", "run_check"]

CHECK_AGENT = "refersion-emulator-check"
"""The User-Agent of the check's own requests, which the Refersion log leaves out."""
_WRITE_KEY = "refersion-emulator-check"
_MAX_SEARCH_PAGES = 50
_NEVER_RETRY = 24 * 3600.0
_T = TypeVar("_T")


class RefersionLog:
    """Every request this emulator's fake Refersion answered, except the check's own reads."""

    def __init__(self) -> None:
        self.calls: list[RefersionCall] = []

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        prefix = BASE_PATH + "/"
        if request.path.startswith(prefix) and request.headers.get("User-Agent") != CHECK_AGENT:
            self.calls.append(RefersionCall(request.path[len(prefix) :], response.status))


class HttpDriver:
    """A :class:`~emulator.check.Driver` whose blocking methods run on ``loop``'s thread.

    Call them from another thread (Hypothesis runs in one); the emulator keeps serving on
    ``loop`` meanwhile.
    """

    def __init__(
        self,
        emulator: Emulator,
        http: aiohttp.ClientSession,
        loop: asyncio.AbstractEventLoop,
        log: RefersionLog,
        *,
        read_key: ApiKey,
    ) -> None:
        self._emulator = emulator
        self._http = http
        self._loop = loop
        self._log = log
        self._read_headers = {
            "Refersion-Public-Key": read_key.public_key,
            "Refersion-Secret-Key": read_key.secret_key,
            "User-Agent": CHECK_AGENT,
        }
        # One delivery attempt, with its call to Refersion, then a little slack.
        config = emulator.config
        self._settle_timeout = config.delivery_timeout + config.refersion_timeout + 2.0
        self._changed = asyncio.Event()
        emulator.runtime.journal.listeners.append(lambda _trace: self._changed.set())
        # Who the current example may have created in a Refersion account check cannot reset.
        self._identified: dict[str, str | None] = {}
        self._cleanups = 0

    @property
    def own_destination(self) -> bool:
        return self._emulator.config.destination_url is None

    @property
    def own_refersion(self) -> bool:
        return self._emulator.config.refersion_url is None

    @property
    def status(self) -> str:
        # The setting, or the affiliate-status assumption when one was chosen.
        return self._emulator.runtime.mapping_settings.status

    @property
    def offer(self) -> str | None:
        return self._emulator.config.destination.offer

    def begin_example(self) -> None:
        self._call(self._begin())

    def send(self, messages: Sequence[Mapping[str, Any]], *, entry: str) -> list[Delivered]:
        return self._call(self._send(list(messages), entry))

    def redeliver(self, message: Mapping[str, Any]) -> Delivered:
        return self._call(self._redeliver(message))

    def search(self, keyword: str) -> list[dict[str, Any]]:
        return self._call(self._search(keyword))

    def get(self, code: str) -> dict[str, Any] | None:
        status, body = self._call(self._refersion("affiliate/get", {"affiliate_code": code}))
        if status == 422:
            return None
        if status != 200 or not isinstance(body, dict):
            raise InvariantBroken(f"affiliate/get answered {status}: {body!r}")
        return body

    def refersion_calls(self) -> list[RefersionCall] | None:
        return list(self._log.calls) if self.own_refersion else None

    def store_dump(self) -> str | None:
        if not self.own_refersion:
            return None
        store = self._emulator.runtime.store
        return self._call(self._on_loop(lambda: "\n".join(store.iterdump())))

    def server_errors(self) -> list[str]:
        return list(self._emulator.app_errors)

    # -- on the loop ---------------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _on_loop(self, function: Callable[[], _T]) -> _T:
        return function()

    async def _begin(self) -> None:
        await self.clean_up()
        runtime = self._emulator.runtime
        runtime.reset()
        # A retry of the previous example may already be on the wire; reset cannot recall
        # it, so wait for it to land before this example starts counting.
        deadline = self._loop.time() + self._settle_timeout
        while True:
            self._changed.clear()
            remaining = deadline - self._loop.time()
            if not runtime.pipeline.in_flight or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        self._log.calls.clear()
        # Each example answers for its own server errors, or shrinking would blame them all.
        self._emulator.app_errors.clear()

    async def clean_up(self) -> None:
        """Delete, through the pipeline, everyone identified since the last clean-up, when the
        Refersion account is not this emulator's (its own is simply reset)."""
        identified, self._identified = self._identified, {}
        if self.own_refersion or not identified:
            return
        deletes = []
        for user_id, email in identified.items():
            self._cleanups += 1
            delete = {
                "type": "delete",
                "userId": user_id,
                "messageId": f"check-cleanup-{self._cleanups}",
            }
            if email is not None:
                delete["email"] = email
            deletes.append(delete)
        url = f"{self._emulator.url}/_emulator/deliver"
        async with self._http.post(url, json=deletes) as resp:
            await resp.read()

    async def _send(self, messages: list[Mapping[str, Any]], entry: str) -> list[Delivered]:
        url = self._emulator.url
        for message in messages:
            self._remember(message)
        if entry == "tracking-api":
            payload = {"writeKey": _WRITE_KEY, "batch": messages}
            async with self._http.post(f"{url}/v1/batch", json=payload) as resp:
                if resp.status != 200:
                    body = await resp.json(content_type=None)
                    code = body.get("code") if isinstance(body, dict) else None
                    return [_refused(message, entry, resp.status, code) for message in messages]
                ids = [tid for tid in resp.headers.get(TRACE_IDS_HEADER, "").split(",") if tid]
        else:
            async with self._http.post(
                f"{url}/_emulator/deliver?wait=false", json=messages
            ) as resp:
                body = await resp.json()
                ids = [event["id"] for event in body["events"]]
        journal = self._emulator.runtime.journal
        traces = [journal.get(trace_id) for trace_id in ids]
        settled = [trace for trace in traces if trace is not None]
        await self._settle(settled)
        return [
            self._delivered(message, entry, trace)
            for message, trace in zip(messages, traces, strict=True)
        ]

    def _remember(self, message: Mapping[str, Any]) -> None:
        if message.get("type") != "identify":
            return
        user_id = message.get("userId") or message.get("anonymousId")
        traits = message.get("traits")
        email = traits.get("email") if isinstance(traits, dict) else None
        if isinstance(user_id, str):
            self._identified[user_id] = email if isinstance(email, str) else None

    async def _redeliver(self, message: Mapping[str, Any]) -> Delivered:
        # Segment's delivery has no dedupe: the same messageId is simply delivered again.
        [delivered] = await self._send([message], "delivery")
        return delivered

    async def _settle(self, traces: list[Trace]) -> None:
        """Wait until every trace is final or awaiting a retry, woken by the journal.

        A retry means the destination answered 429, a 5xx or nothing: the example has
        already failed, and waiting out Segment's retries would only slow shrinking down.
        """
        deadline = self._loop.time() + self._settle_timeout
        while True:
            self._changed.clear()
            remaining = deadline - self._loop.time()
            settled = all(trace.final or trace.outcome == "retrying" for trace in traces)
            if settled or remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def _delivered(self, message: Mapping[str, Any], entry: str, trace: Trace | None) -> Delivered:
        if trace is None:
            return _refused(message, entry, None, "journal_lost_the_trace")
        data = trace.to_dict()
        hops: list[dict[str, Any]] = data["hops"]
        attempts = [hop for hop in hops if hop["name"] == "delivery"]
        response = attempts[-1]["detail"].get("response", {}) if attempts else {}
        answer = response.get("status")
        body = response.get("body")
        affiliate = body.get("affiliate") if isinstance(body, dict) else None
        code = affiliate.get("id") if isinstance(affiliate, dict) else None
        violations = tuple(
            f"{v['contract']} at {v['pointer'] or '/'}: {v['message']}" for v in data["violations"]
        )
        warnings: frozenset[str] | None = None
        calls: tuple[RefersionCall, ...] | None = None
        request_body: dict[str, Any] | None = None
        if self.own_destination:
            warnings, calls, request_body = _destination_view(hops)
        return Delivered(
            message=message,
            entry=entry,
            outcome=trace.outcome,
            reason=trace.reason,
            answer_status=answer,
            violations=violations,
            warnings=warnings,
            refersion_calls=calls,
            request_body=request_body,
            trace=data,
            affiliate_code=code if isinstance(code, str) else None,
        )

    async def _search(self, keyword: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(1, _MAX_SEARCH_PAGES + 1):
            status, body = await self._refersion(
                "affiliate/search", {"keyword": keyword, "page": page}
            )
            if status == 422:
                return found  # "Could not find affiliates with this keyword."
            if status != 200 or not isinstance(body, dict):
                raise InvariantBroken(f"affiliate/search answered {status}: {body!r}")
            results = body.get("results") or []
            found.extend(results)
            if not results or len(found) >= body.get("total", 0):
                break
        return found

    async def _refersion(self, endpoint: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        url = f"{self._emulator.refersion_url}/{endpoint}"
        async with self._http.post(url, json=body, headers=self._read_headers) as resp:
            return resp.status, await resp.json(content_type=None)


def _refused(
    message: Mapping[str, Any], entry: str, status: int | None, code: str | None
) -> Delivered:
    """An event the Tracking API refused as part of its whole request (a 400 to the client)."""
    outcome = "ingest_rejected" if status is not None and status < 500 else f"http_{status}"
    return Delivered(
        message=message,
        entry=entry,
        outcome=outcome,
        reason=code,
        answer_status=None,
        violations=(),
        warnings=None,
        refersion_calls=None,
        request_body=None,
        trace={"hops": [], "refused": {"status": status, "code": code}},
    )


def _destination_view(
    hops: list[dict[str, Any]],
) -> tuple[frozenset[str], tuple[RefersionCall, ...], dict[str, Any] | None]:
    """Warnings, Refersion calls and the last request body, from this destination's hops."""
    warnings: set[str] = set()
    calls: list[RefersionCall] = []
    body: dict[str, Any] | None = None
    endpoint = "unknown"
    for hop in hops:
        detail = hop.get("detail") or {}
        if hop["name"] == "mapping":
            warnings.update(warning["code"] for warning in detail.get("warnings", []))
            endpoint = detail.get("endpoint", endpoint)
        elif hop["name"] == "refersion":
            calls.append(RefersionCall(endpoint, detail.get("response", {}).get("status")))
            body = detail.get("request", {}).get("body")
    return frozenset(warnings), tuple(calls), body


async def run_check(
    config: EmulatorConfig,
    options: CheckOptions,
    *,
    mapping: MappingFn | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Start an emulator (its own destination runs ``mapping``) and check every property.

    Raises :class:`~emulator.errors.InputError` when a destination or Refersion URL under
    test cannot be reached, or the API key cannot read the Refersion account back.
    """
    try:
        read_key = parse_api_key(config.effective_api_key)
    except InvalidApiKey as exc:
        raise InputError(f"--api-key: {exc}") from None
    # Every event settles at its first attempt; a retry firing later would land in another
    # example (and, on CPython 3.11, race Hypothesis' own use of the ast module).
    config = dataclasses.replace(
        config, retry_initial_backoff=_NEVER_RETRY, retry_max_backoff=_NEVER_RETRY
    )
    emulator = Emulator(config, mapping=mapping)
    log = RefersionLog()
    emulator.app.on_response_prepare.append(log.on_response_prepare)
    try:
        await emulator.start()
    except OSError as exc:
        raise InputError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    try:
        async with aiohttp.ClientSession(headers={"User-Agent": CHECK_AGENT}) as http:
            await _reachable(http, emulator, read_key)
            loop = asyncio.get_running_loop()
            driver = HttpDriver(emulator, http, loop, log, read_key=read_key)
            target = {
                "destination": _shown(emulator.destination_url, own=driver.own_destination),
                "refersion": _shown(emulator.refersion_url, own=driver.own_refersion),
            }
            report = await asyncio.to_thread(
                run_properties, driver, options, progress=progress, target=target
            )
            await driver.clean_up()
            return report
    finally:
        await emulator.stop()


async def _reachable(http: aiohttp.ClientSession, emulator: Emulator, key: ApiKey) -> None:
    """Fail fast, before Hypothesis retries a dead URL hundreds of times."""
    config = emulator.config
    timeout = aiohttp.ClientTimeout(total=config.delivery_timeout)
    if config.destination_url is not None:
        try:
            async with http.get(config.destination_url, timeout=timeout):
                pass
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InputError(
                f"--destination-url {config.destination_url}: cannot connect ({exc})"
            ) from None
    if config.refersion_url is not None:
        url = f"{emulator.refersion_url}/affiliate/list"
        headers = {
            "Refersion-Public-Key": key.public_key,
            "Refersion-Secret-Key": key.secret_key,
        }
        try:
            async with http.post(url, json={"limit": 1}, headers=headers, timeout=timeout) as resp:
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InputError(
                f"--refersion-url {config.refersion_url}: cannot connect ({exc})"
            ) from None
        if status != 200:
            raise InputError(
                f"--refersion-url {config.refersion_url}: affiliate/list answered {status}; "
                "expected 200 with the API key's public and secret keys"
            )


def _shown(url: str, *, own: bool) -> str:
    return f"{url} (this emulator)" if own else url
