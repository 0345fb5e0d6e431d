"""The durable journal's writer: journal changes go to SQLite in batches, off the event loop.

Every change to a trace marks it dirty. A background task takes all dirty traces at once,
serialises them on the loop (where they are mutated) and commits them in one transaction on a
worker thread. A Tracking-API request awaits :meth:`DurableJournal.sync` for its events before
it answers 200, so an acknowledged event is on disk; concurrent requests share a commit.
Later changes (attempts, outcomes) ride along with the next commit, coalesced over a few
milliseconds when nobody is waiting.

The writer never dies. A file that cannot be written (disk full, I/O error) fails the
waiting requests with :class:`JournalWriteError` (so the Tracking API answers 503, "not
stored") and is tried again. A trace that cannot be stored at all (a bug: a value SQLite or
strict JSON cannot hold) is found by writing the batch row by row, noted on the trace and in
the health incidents, and left out of later commits; the other traces are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from emulator.errors import StorageError
from emulator.journal.incidents import Incidents
from emulator.journal.store import JournalStore, JournalStoreError, TraceRecord, record_for
from emulator.journal.traces import Journal, Trace

__all__ = ["DurableJournal", "JournalWriteError"]

log = logging.getLogger("emulator.server")

# Nobody waits for these changes: gather more of them into one commit.
_COALESCE = 0.02
# After a failed write, wait before trying again rather than spinning on a full disk.
_RETRY_PAUSE = 0.5


class JournalWriteError(StorageError):
    """The journal file could not be written; the events are not durable."""


# A caller of sync(), and the ids of the traces it waits for.
_Waiter = tuple[asyncio.Future[None], frozenset[str]]


class DurableJournal:
    """Writes the changes of one :class:`~emulator.journal.traces.Journal` to a
    :class:`JournalStore`."""

    def __init__(self, store: JournalStore, journal: Journal, incidents: Incidents) -> None:
        self.store = store
        self._incidents = incidents
        self._dirty: dict[str, Trace] = {}
        self._waiters: list[_Waiter] = []
        self._wake: asyncio.Event | None = None
        self._urgent: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        # The commit on the writer thread, with the callers waiting for it. Cancelling the
        # writer task does not stop a thread, so stop() waits for this before it writes the
        # rest and closes the file; otherwise the last batch could be lost or raced.
        self._saving: asyncio.Future[dict[str, str]] | None = None
        self._saving_waiters: list[_Waiter] = []
        self._saving_batch: dict[str, Trace] = {}
        # Traces that cannot be stored, with why; they stay in memory only.
        self._unwritable: dict[str, str] = {}
        # The last store error logged, so a full disk logs one line, not one per retry.
        self._last_error: str | None = None
        journal.listeners.append(self.mark)

    def mark(self, trace: Trace) -> None:
        """Note that ``trace`` changed; it is written with the next commit."""
        self._dirty[trace.id] = trace
        if self._wake is not None:
            self._wake.set()

    async def sync(self, traces: Iterable[Trace]) -> None:
        """Return once ``traces`` are committed; raises :class:`JournalWriteError` if not."""
        ids = []
        for trace in traces:
            self.mark(trace)
            ids.append(trace.id)
        if self._task is None or self._wake is None or self._urgent is None:
            raise JournalWriteError("the journal writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((done, frozenset(ids)))
        self._urgent.set()
        self._wake.set()
        await done

    async def fetch(self, trace_id: str) -> Trace | None:
        """The stored trace ``trace_id`` (read on a worker thread); ``None`` if there is none."""
        try:
            return await asyncio.to_thread(self.store.fetch, trace_id)
        except JournalStoreError as exc:
            log.warning("journal: %s", exc)
            return None

    def clear(self) -> None:
        """Forget pending changes and every stored trace (used by reset)."""
        self._dirty.clear()
        self._unwritable.clear()
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
            outcome = (await asyncio.gather(self._saving, return_exceptions=True))[0]
            if isinstance(outcome, BaseException):
                self._requeue(self._saving_batch)
                _settle(self._saving_waiters, {}, outcome)
            else:
                self._quarantine(self._saving_batch, outcome)
                _settle(self._saving_waiters, outcome, None)
            self._saving, self._saving_waiters = None, []
        try:
            batch, self._dirty = self._dirty, {}
            records, failed = self._records(batch)
            failed |= self._save(records, self.store.generation)
            self._quarantine(batch, failed)
        except JournalStoreError as exc:
            log.error("journal: the last changes were not written: %s", exc)
        _settle(self._waiters, {}, JournalWriteError("the journal writer stopped"))
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
            try:
                failed = await self._write(batch, waiters)
            except JournalStoreError as exc:
                # The file cannot be written now: nothing of this batch is stored.
                self._requeue(batch)
                _settle(waiters, {}, exc)
                if str(exc) != self._last_error:
                    log.error("journal: %s (retrying every %gs)", exc, _RETRY_PAUSE)
                    self._incidents.record("journal writer", str(exc))
                    self._last_error = str(exc)
                await asyncio.sleep(_RETRY_PAUSE)
                self._wake.set()
                continue
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any bug
                log.error("journal writer: unexpected %r; it carries on", exc)
                self._incidents.record("journal writer", f"unexpected {exc!r}")
                self._requeue(batch)
                _settle(waiters, {}, exc)
                await asyncio.sleep(_RETRY_PAUSE)
                self._wake.set()
                continue
            if self._last_error is not None:
                log.warning("journal: writing again")
                self._last_error = None
            self._quarantine(batch, failed)
            _settle(waiters, failed, None)

    async def _write(self, batch: dict[str, Trace], waiters: list[_Waiter]) -> dict[str, str]:
        """Commit ``batch``; the ids of the traces that cannot be stored, and why."""
        records, failed = self._records(batch)
        generation = self.store.generation
        saving = asyncio.ensure_future(asyncio.to_thread(self._save, records, generation))
        self._saving, self._saving_waiters, self._saving_batch = saving, waiters, batch
        try:
            stored = await asyncio.shield(saving)
        except asyncio.CancelledError:
            raise  # stop() waits for the commit in flight and settles its waiters
        except BaseException:
            self._saving, self._saving_waiters = None, []
            raise
        self._saving, self._saving_waiters = None, []
        return failed | stored

    def _save(self, records: list[TraceRecord], generation: int) -> dict[str, str]:
        """On the writer thread: one transaction, or row by row if a row cannot be stored."""
        try:
            self.store.save(records, generation=generation)
        except JournalStoreError:
            raise
        except Exception:  # noqa: BLE001 - a row SQLite cannot take; find which
            return self.store.save_each(records, generation=generation)
        return {}

    def _records(self, batch: dict[str, Trace]) -> tuple[list[TraceRecord], dict[str, str]]:
        records: list[TraceRecord] = []
        failed: dict[str, str] = {}
        for trace_id, trace in batch.items():
            if trace_id in self._unwritable:
                continue
            try:
                records.append(record_for(trace))
            except Exception as exc:  # noqa: BLE001 - one bad trace must not stop the rest
                failed[trace_id] = f"{type(exc).__name__}: {exc}"
        return records, failed

    def _quarantine(self, batch: dict[str, Trace], failed: dict[str, str]) -> None:
        for trace_id, why in failed.items():
            if trace_id in self._unwritable:
                continue
            self._unwritable[trace_id] = why
            trace = batch[trace_id]
            trace.add_hop(
                "journal",
                f"could not be written to the journal file ({why}); kept in memory only",
                ok=False,
            )
            log.error("journal: trace %s cannot be stored: %s", trace_id, why)
            self._incidents.record("journal writer", f"cannot store: {why}", trace_id=trace_id)

    def _requeue(self, batch: dict[str, Trace]) -> None:
        for trace_id, trace in batch.items():
            self._dirty.setdefault(trace_id, trace)


def _settle(waiters: list[_Waiter], failed: dict[str, str], error: BaseException | None) -> None:
    """Answer each waiter: an error if the commit failed or one of its traces was not stored."""
    for waiter, ids in waiters:
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(JournalWriteError(str(error)))
            continue
        unstored = [trace_id for trace_id in ids if trace_id in failed]
        if unstored:
            first = unstored[0]
            waiter.set_exception(JournalWriteError(f"{first} not stored: {failed[first]}"))
        else:
            waiter.set_result(None)
