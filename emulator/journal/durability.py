"""The durable journal's writer: journal changes go to SQLite in batches, off the event loop.

Every change to a trace marks it dirty. A background task takes all dirty traces at once,
serialises them on the loop (where they are mutated) and commits them in one transaction on a
worker thread. A Tracking-API request awaits :meth:`DurableJournal.sync` for its events before
it answers 200, so an acknowledged event is on disk; concurrent requests share a commit.
Later changes (attempts, outcomes) ride along with the next commit, coalesced over a few
milliseconds when nobody is waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from emulator.errors import EmulatorError
from emulator.journal.store import JournalStore, JournalStoreError, record_for
from emulator.journal.traces import Journal, Trace

__all__ = ["DurableJournal", "JournalWriteError"]

log = logging.getLogger("emulator.server")

# Nobody waits for these changes: gather more of them into one commit.
_COALESCE = 0.02
# After a failed write, wait before trying again rather than spinning on a full disk.
_RETRY_PAUSE = 0.5


class JournalWriteError(EmulatorError):
    """The journal file could not be written; the events are not durable."""


class DurableJournal:
    """Writes the changes of one :class:`~emulator.journal.traces.Journal` to a
    :class:`JournalStore`."""

    def __init__(self, store: JournalStore, journal: Journal) -> None:
        self.store = store
        self._dirty: dict[str, Trace] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._wake: asyncio.Event | None = None
        self._urgent: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        # The commit on the writer thread, with the callers waiting for it. Cancelling the
        # writer task does not stop a thread, so stop() waits for this before it writes the
        # rest and closes the file; otherwise the last batch could be lost or raced.
        self._saving: asyncio.Future[None] | None = None
        self._saving_waiters: list[asyncio.Future[None]] = []
        self._saving_batch: dict[str, Trace] = {}
        journal.listeners.append(self.mark)

    def mark(self, trace: Trace) -> None:
        """Note that ``trace`` changed; it is written with the next commit."""
        self._dirty[trace.id] = trace
        if self._wake is not None:
            self._wake.set()

    async def sync(self, traces: Iterable[Trace]) -> None:
        """Return once ``traces`` are committed; raises :class:`JournalWriteError` if not."""
        for trace in traces:
            self.mark(trace)
        if self._task is None or self._wake is None or self._urgent is None:
            raise JournalWriteError("the journal writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(done)
        self._urgent.set()
        self._wake.set()
        await done

    def clear(self) -> None:
        """Forget pending changes and every stored trace (used by reset)."""
        self._dirty.clear()
        self.store.clear()

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self._task = asyncio.create_task(self._run())
        if self._dirty:
            self._wake.set()

    async def stop(self) -> None:
        """Stop the writer, write what is still dirty, close the file."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._saving is not None:
            failed = (await asyncio.gather(self._saving, return_exceptions=True))[0]
            error = failed if isinstance(failed, BaseException) else None
            if error is not None:
                for trace_id, trace in self._saving_batch.items():
                    self._dirty.setdefault(trace_id, trace)
            _settle(self._saving_waiters, error)
            self._saving, self._saving_waiters = None, []
        try:
            self._commit_now()
        except JournalStoreError as exc:
            log.error("journal: the last changes were not written: %s", exc)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(JournalWriteError("the journal writer stopped"))
        self._waiters.clear()
        self.store.close()

    async def _run(self) -> None:
        # Both are set by start(), which creates this task.
        assert self._wake is not None
        assert self._urgent is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._waiters:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), _COALESCE)
            self._urgent.clear()
            batch, self._dirty = self._dirty, {}
            waiters, self._waiters = self._waiters, []
            records = [record_for(trace) for trace in batch.values()]
            generation = self.store.generation
            saving = asyncio.ensure_future(
                asyncio.to_thread(self.store.save, records, generation=generation)
            )
            self._saving, self._saving_waiters, self._saving_batch = saving, waiters, batch
            try:
                await asyncio.shield(saving)
            except JournalStoreError as exc:
                self._saving, self._saving_waiters = None, []
                log.error("journal: %s", exc)
                for trace_id, trace in batch.items():
                    self._dirty.setdefault(trace_id, trace)
                _settle(waiters, exc)
                await asyncio.sleep(_RETRY_PAUSE)
                self._wake.set()
                continue
            self._saving, self._saving_waiters = None, []
            _settle(waiters, None)

    def _commit_now(self) -> None:
        batch, self._dirty = self._dirty, {}
        self.store.save([record_for(trace) for trace in batch.values()])


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(JournalWriteError(str(error)))
