"""An emulator serving from a background thread, for synchronous clients (schemathesis)."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from emulator.config import EmulatorConfig
from emulator.server.emulator import Emulator

__all__ = ["LiveEmulator"]


class LiveEmulator:
    """``with LiveEmulator(config) as live:`` serves on ``live.url`` until the block ends."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="live-emulator", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._emulator: Emulator | None = None
        self._failure: BaseException | None = None

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("the live emulator is not running")
        return self._emulator

    @property
    def url(self) -> str:
        return self.emulator.url

    def __enter__(self) -> LiveEmulator:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the live emulator did not start within 30 s")
        if self._failure is not None:
            raise RuntimeError("the live emulator failed to start") from self._failure
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with Emulator(self._config) as emulator:
            self._emulator = emulator
            self._ready.set()
            await self._stop.wait()
