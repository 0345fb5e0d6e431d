"""An :class:`Emulator` on its own event loop in a background thread, for synchronous code.

    with BackgroundEmulator() as emu:
        analytics.host = emu.segment_host
        ...
        emu.assert_affiliate(email="peter@example.com", first_name="Peter")

Every read and change of the emulator's state runs on the emulator's loop, so the object can
be used from any thread: plain scripts, unittest, sync pytest tests and async tests whose own
loop is another one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Coroutine, Mapping
from types import TracebackType
from typing import Any, TypeVar

from emulator.cases.expectations import (
    affiliate_differences,
    describe_account,
    describe_journal,
    is_rejection,
    mapping_warnings,
    unexpected_problems,
    unknown_reason_hint,
)
from emulator.clock import Clock
from emulator.config import DestinationSettings, EmulatorConfig
from emulator.destination.mapping import Mapping as MappingFn
from emulator.errors import ControlError
from emulator.journal.traces import Trace
from emulator.server.emulator import Emulator
from emulator.web.errors import SERVER_ERRORS

__all__ = ["BackgroundEmulator"]

T = TypeVar("T")

_RECHECK = 0.1
_CONTROL_TIMEOUT = 10.0


class BackgroundEmulator:
    """A running emulator served from a daemon thread: ``with BackgroundEmulator(config) as emu:``.

    ``config`` defaults to a loopback server on a free port. ``mapping`` replaces the built-in
    mapping (any :class:`~emulator.destination.mapping.Mapping`).
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        mapping: MappingFn | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.config = config or EmulatorConfig(port=0)
        self._clock = clock
        self._mapping = mapping
        self._start_timeout = start_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._emulator: Emulator | None = None
        self._stopping: asyncio.Event | None = None

    # -- lifetime ------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving; returns once the server accepts connections (or raises why not)."""
        if self._thread is not None:
            raise RuntimeError("this BackgroundEmulator is already started")
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(started),), name="refersion-emulator", daemon=True
        )
        self._thread.start()
        try:
            started.result(timeout=self._start_timeout)
        except BaseException:
            self._thread.join(self._start_timeout)
            self._thread = None
            raise

    def stop(self) -> None:
        """Stop serving and wait for the thread to end; safe to call twice."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = self._loop = self._emulator = self._stopping = None

    def __enter__(self) -> BackgroundEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self, started: concurrent.futures.Future[None]) -> None:
        try:
            emulator = Emulator(self.config, clock=self._clock, mapping=self._mapping)
            await emulator.start()
        except BaseException as exc:  # noqa: BLE001 - handed to start(), which raises it
            started.set_exception(exc)
            return
        self._loop = asyncio.get_running_loop()
        self._emulator = emulator
        self._stopping = asyncio.Event()
        started.set_result(None)
        try:
            await self._stopping.wait()
        finally:
            await emulator.stop()

    # -- where things are ----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:41234``."""
        return self._running().url

    @property
    def segment_host(self) -> str:
        """What to give a Segment client library as ``host``."""
        return self._running().segment_host

    @property
    def refersion_url(self) -> str:
        """The Refersion REST API v2 base URL the destination calls."""
        return self._running().refersion_url

    @property
    def destination_url(self) -> str:
        return self._running().destination_url

    @property
    def api_key(self) -> str:
        """The destination's API key setting, ``publickey.secretkey``."""
        return self._running().runtime.config.effective_api_key

    # -- state ---------------------------------------------------------------------------

    def affiliates(self) -> list[dict[str, Any]]:
        """The fake Refersion account's affiliates (no password hashes), oldest first."""
        return self._call(lambda emu: [a.to_public_dict() for a in emu.runtime.store.all()])

    def events(self) -> list[dict[str, Any]]:
        """The journal, oldest first: one trace per event with every hop and verdict."""
        return self._call(lambda emu: [trace.to_dict() for trace in emu.runtime.journal])

    def server_errors(self) -> list[str]:
        """Unhandled exceptions the server answered with 500 since the last reset."""
        return self._call(lambda emu: list(emu.app_errors))

    def reset(
        self,
        *,
        destination: DestinationSettings | None = None,
        api_key: str | None = None,
        mapping: MappingFn | None = None,
        assumptions: Mapping[str, str] | None = None,
    ) -> None:
        """Forget every event, affiliate, fault rule and server error; then use these settings.

        Each argument left out returns to what the emulator was started with. ``assumptions``
        (assumption id → variant, docs/assumptions.md) adds to the started configuration's.
        """
        config = dataclasses.replace(
            self.config,
            destination=destination or self.config.destination,
            api_key=api_key if api_key is not None else self.config.api_key,
            assumptions=self.config.assumptions.with_choices(assumptions or {}),
        )
        chosen = mapping or self._mapping

        def apply(emu: Emulator) -> None:
            emu.runtime.reset()
            emu.runtime.reconfigure(config, mapping=chosen)
            emu.app[SERVER_ERRORS].clear()

        self._call(apply)
        self.clear_faults()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until no event is queued or awaiting a retry; ``TimeoutError`` says which are."""
        __tracebackhide__ = True
        self._wait(lambda emu: self._flush(emu, timeout))

    async def flush_async(self, timeout: float = 10.0) -> None:
        """:meth:`flush` for async tests: waits without blocking the caller's event loop."""
        __tracebackhide__ = True
        await self._wait_async(lambda emu: self._flush(emu, timeout))

    # -- fault rules (through the control API) -------------------------------------------

    def faults(self) -> Any:
        """The fault rules in force, as ``GET /_emulator/faults`` lists them."""
        return self.control("GET", "/_emulator/faults")

    def add_fault(self, rule: dict[str, Any]) -> Any:
        """Add a fault rule (``POST /_emulator/faults``); the reset before each test clears it."""
        return self.control("POST", "/_emulator/faults", rule)

    def clear_faults(self) -> None:
        """Remove every fault rule; a build without fault injection has none to remove."""
        try:
            self.control("DELETE", "/_emulator/faults")
        except ControlError as exc:
            if exc.status not in (404, 405):
                raise

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control API (``/_emulator/...``) and return its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=_CONTROL_TIMEOUT) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            answer = exc.read().decode("utf-8", "replace")
            raise ControlError(method, path, exc.code, answer) from None
        return json.loads(raw) if raw else None

    # -- waiting and asserting -----------------------------------------------------------

    def wait_for_affiliate(self, email: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until the fake account has an affiliate with ``email``; return it."""
        __tracebackhide__ = True
        return self._wait(lambda emu: self._wait_affiliate(emu, email, timeout))

    async def wait_for_affiliate_async(self, email: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """:meth:`wait_for_affiliate` for async tests: does not block the caller's loop."""
        __tracebackhide__ = True
        return await self._wait_async(lambda emu: self._wait_affiliate(emu, email, timeout))

    def assert_affiliate(
        self, email: str, *, timeout: float = 5.0, **expected: Any
    ) -> dict[str, Any]:
        """Wait for the affiliate with ``email`` and check its stored fields; return it."""
        __tracebackhide__ = True
        affiliate = self.wait_for_affiliate(email, timeout=timeout)
        differences = affiliate_differences(affiliate, expected)
        if differences:
            lines = [f"affiliate {email!r} is not as expected:"]
            lines += [f"  {line}" for line in differences]
            warnings = mapping_warnings(self.events(), email)
            if warnings:
                lines.append("The mapping warned:")
                lines += [f"  {warning}" for warning in warnings]
            lines.append(f"Stored: {affiliate}")
            raise AssertionError("\n".join(lines))
        return affiliate

    def assert_rejected(
        self,
        reason: str,
        *,
        email: str | None = None,
        user_id: str | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Wait for an event refused with ``reason`` (optionally of ``email``/``user_id``).

        Refused means an outcome in :data:`~emulator.cases.expectations.REJECTED_OUTCOMES`; returns
        the event's trace.
        """
        __tracebackhide__ = True
        return self._wait(lambda emu: self._wait_rejection(emu, reason, email, user_id, timeout))

    def assert_no_unexpected_calls(
        self, *, allowed_violations: Collection[str] = (), timeout: float = 5.0
    ) -> None:
        """Fail on unhandled server errors, contract violations, or events never finished.

        Waits up to ``timeout`` for queued events first. ``allowed_violations`` names
        contracts (e.g. ``"refersion/affiliate-new.request"``) a test breaks on purpose.
        """
        __tracebackhide__ = True
        # Unfinished events are listed below with everything else.
        with contextlib.suppress(TimeoutError):
            self.flush(timeout)
        problems = unexpected_problems(
            self.events(), self.server_errors(), allowed_violations=allowed_violations
        )
        if problems:
            listed = "\n".join(f"  - {problem}" for problem in problems)
            raise AssertionError(f"the emulator saw {len(problems)} unexpected thing(s):\n{listed}")

    # -- running on the emulator's loop --------------------------------------------------

    async def _flush(self, emu: Emulator, timeout: float) -> None:
        if not await emu.runtime.pipeline.wait_idle(timeout):
            unfinished = [t.to_dict() for t in emu.runtime.journal if not t.final]
            raise TimeoutError(
                f"{len(unfinished)} event(s) still queued or awaiting a retry after {timeout:g}s.\n"
                f"{describe_journal(unfinished)}"
            )

    async def _wait_affiliate(self, emu: Emulator, email: str, timeout: float) -> dict[str, Any]:
        store = emu.runtime.store
        # A call straight to the fake Refersion changes the store without a journal change.
        found = await emu.runtime.pipeline.watch.until(
            lambda: store.find_by_email(email) is not None, timeout, recheck=_RECHECK
        )
        affiliate = store.find_by_email(email)
        if found and affiliate is not None:
            return affiliate.to_public_dict()
        affiliates = [a.to_public_dict() for a in store.all()]
        events = [t.to_dict() for t in emu.runtime.journal]
        raise AssertionError(
            f"no affiliate with email {email!r} within {timeout:g}s.\n"
            f"{describe_account(affiliates)}\n{describe_journal(events)}"
        )

    async def _wait_rejection(
        self, emu: Emulator, reason: str, email: str | None, user_id: str | None, timeout: float
    ) -> dict[str, Any]:
        def rejected() -> Trace | None:
            for trace in emu.runtime.journal:
                if is_rejection(trace.summary_dict(), reason=reason, email=email, user_id=user_id):
                    return trace
            return None

        await emu.runtime.pipeline.watch.until(lambda: rejected() is not None, timeout)
        trace = rejected()
        if trace is not None:
            return trace.to_dict()
        whose = "".join(
            f" {name}={value!r}"
            for name, value in (("email", email), ("userId", user_id))
            if value is not None
        )
        events = [t.to_dict() for t in emu.runtime.journal]
        raise AssertionError(
            f"no event{whose} was rejected with reason {reason!r} within {timeout:g}s."
            f"{unknown_reason_hint(reason)}\n{describe_journal(events)}"
        )

    def _running(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError(
                "the emulator is not running: use `with BackgroundEmulator() as emu`"
            )
        return self._emulator

    def _call(self, fn: Callable[[Emulator], T]) -> T:
        async def run(emu: Emulator) -> T:
            return fn(emu)

        return self._submit(run).result()

    def _wait(self, fn: Callable[[Emulator], Coroutine[Any, Any, T]]) -> T:
        __tracebackhide__ = True
        try:
            return self._submit(fn).result()
        except (AssertionError, TimeoutError) as exc:
            # Raised afresh so the failure points at the caller's line, not the emulator's thread.
            raise type(exc)(str(exc)) from None

    async def _wait_async(self, fn: Callable[[Emulator], Coroutine[Any, Any, T]]) -> T:
        __tracebackhide__ = True
        try:
            return await asyncio.wrap_future(self._submit(fn))
        except (AssertionError, TimeoutError) as exc:
            raise type(exc)(str(exc)) from None

    def _submit(
        self, fn: Callable[[Emulator], Coroutine[Any, Any, T]]
    ) -> concurrent.futures.Future[T]:
        emu = self._running()
        assert self._loop is not None  # set together with _emulator
        return asyncio.run_coroutine_threadsafe(fn(emu), self._loop)
