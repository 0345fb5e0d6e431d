"""The journal on disk: traces in SQLite (WAL mode), many traces per transaction.

Each trace is one row holding its JSON and the columns a restart needs: the sequence of its
id, its outcome and reason, whether it is final, when it was created, and its messageId (to
rebuild the dedupe memory). Rows are rewritten whole when a trace moves on. The file may be
shared with the fake Refersion account's :class:`~emulator.fake_refersion.AffiliateStore`; the
tables do not overlap.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.errors import StorageError
from emulator.journal.traces import Trace, trace_sequence
from emulator.json_limits import strict_dumps, strict_loads

__all__ = ["JournalStore", "JournalStoreError", "StoredJournal", "TraceRecord", "record_for"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    entry TEXT NOT NULL,
    message_id TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    final INTEGER NOT NULL,
    created REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_unfinished ON traces (final) WHERE final = 0;
CREATE TABLE IF NOT EXISTS traces_quarantine (
    seq INTEGER,
    id TEXT,
    data TEXT,
    problem TEXT NOT NULL,
    quarantined REAL NOT NULL
);
"""
# Errors that say a row cannot be stored (a bug upstream), not that the file cannot be.
_ROW_ERRORS = (
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    sqlite3.IntegrityError,
    ValueError,
    OverflowError,
    TypeError,
)
_UPSERT = (
    "INSERT OR REPLACE INTO traces (seq, id, entry, message_id, outcome, reason, final, created,"
    " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The entries whose messageId went through Segment's dedupe (destination posts never do).
_DEDUPED_ENTRIES = ("tracking-api", "delivery")

TraceRecord = tuple[int, str, str, str | None, str, str | None, int, float, str]


class JournalStoreError(StorageError):
    """The journal file cannot be read or written; the message names the file."""


@dataclass(frozen=True, slots=True)
class StoredJournal:
    """What a restart takes back: traces to hold in memory, and tallies of the rest."""

    traces: list[Trace]
    unloaded: Counter[tuple[str, str | None]]
    message_ids: list[tuple[str, float]]
    quarantined: list[str]
    """One line for each row that could not be read back and was moved aside."""


def record_for(trace: Trace) -> TraceRecord:
    """The row for ``trace``; built on the thread that owns the trace, stored on another."""
    data = trace.state()
    return (
        trace_sequence(trace.id),
        trace.id,
        trace.entry,
        trace.message_id,
        trace.outcome,
        trace.reason,
        int(trace.final),
        datetime.fromisoformat(trace.created_at).timestamp(),
        strict_dumps(data, compact=True),
    )


class JournalStore:
    """Traces in one SQLite file; every method may be called from any one thread at a time."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        # Counts clear() calls, so a write prepared before one can be recognised.
        self.generation = 0
        try:
            _create_private(path)
            self._conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk when it returns, which is what an acknowledged
            # Tracking-API request promises. One commit covers many traces.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA secure_delete = ON")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise JournalStoreError(f"journal file {path}: cannot open it ({exc})") from None

    @property
    def path(self) -> str:
        return self._path

    def save(self, records: Sequence[TraceRecord], *, generation: int | None = None) -> None:
        """Write ``records`` in one transaction (one fsync).

        With ``generation`` (read from :attr:`generation` when the records were taken), a
        batch taken before a :meth:`clear` is dropped instead of bringing cleared traces back.
        """
        if not records:
            return
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            self._transaction(records)

    def save_each(
        self, records: Sequence[TraceRecord], *, generation: int | None = None
    ) -> dict[str, str]:
        """Write ``records`` one transaction each; the ids that cannot be stored, and why.

        The slow path after :meth:`save` met a row it cannot store: the other rows are kept.
        """
        failed: dict[str, str] = {}
        with self._lock:
            if generation is not None and generation != self.generation:
                return failed
            for record in records:
                try:
                    self._transaction([record])
                except _ROW_ERRORS as exc:
                    failed[record[1]] = f"{type(exc).__name__}: {exc}"
        return failed

    def _transaction(self, records: Sequence[TraceRecord]) -> None:
        """Raises :class:`JournalStoreError` if the file cannot be written; a row's own
        problem (one of ``_ROW_ERRORS``) propagates as it is."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(_UPSERT, records)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except _ROW_ERRORS:
            raise
        except sqlite3.Error as exc:
            raise JournalStoreError(f"journal file {self._path}: cannot write ({exc})") from None

    def load(self, *, cap: int, dedupe_since: float) -> StoredJournal:
        """The newest ``cap`` traces and every unfinished one, oldest first.

        Older finished traces stay on disk and come back as tallies; ``message_ids`` are
        the deduped messageIds first seen since ``dedupe_since``, oldest first.
        """
        try:
            return self._load(cap=cap, dedupe_since=dedupe_since)
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise JournalStoreError(
                f"journal file {self._path}: cannot read it back ({type(exc).__name__}: {exc})"
            ) from None

    def _load(self, *, cap: int, dedupe_since: float) -> StoredJournal:
        quarantined = self._quarantine_unreadable(cap)
        with self._lock:
            conn = self._conn
            threshold = _loaded_from(conn, cap)
            rows = conn.execute(
                "SELECT data FROM traces WHERE seq >= ? OR final = 0 ORDER BY seq", (threshold,)
            ).fetchall()
            unloaded = Counter(
                {
                    (outcome, reason): count
                    for outcome, reason, count in conn.execute(
                        "SELECT outcome, reason, count(*) FROM traces"
                        " WHERE seq < ? AND final = 1 GROUP BY outcome, reason",
                        (threshold,),
                    )
                }
            )
            message_ids = conn.execute(
                "SELECT message_id, created FROM traces WHERE typeof(message_id) = 'text'"
                " AND entry IN (?, ?) AND outcome NOT IN ('duplicate', 'ingest_rejected')"
                " AND typeof(created) IN ('real', 'integer') AND created >= ? ORDER BY seq",
                (*_DEDUPED_ENTRIES, dedupe_since),
            ).fetchall()
        return StoredJournal(
            [_trace_from(data) for (data,) in rows],
            unloaded,
            [(str(message_id), float(created)) for message_id, created in message_ids],
            quarantined,
        )

    def _quarantine_unreadable(self, cap: int) -> list[str]:
        """Move the rows a restart would load but cannot read into ``traces_quarantine``.

        A row no trace can be made of (hand-edited, or written by a buggy version) must not
        stop every later start: it is set aside, with why, and the rest is loaded.
        """
        with self._lock:
            conn = self._conn
            threshold = _loaded_from(conn, cap)
            bad: list[tuple[Any, Any, Any, str]] = []
            for seq, trace_id, data in conn.execute(
                "SELECT seq, id, data FROM traces WHERE seq >= ? OR final = 0", (threshold,)
            ):
                try:
                    _trace_from(data)
                except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                    bad.append((seq, trace_id, data, f"{type(exc).__name__}: {exc}"))
            if not bad:
                return []
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO traces_quarantine (seq, id, data, problem, quarantined)"
                " VALUES (?, ?, ?, ?, ?)",
                [(*row, now) for row in bad],
            )
            conn.executemany("DELETE FROM traces WHERE seq = ?", [(row[0],) for row in bad])
            conn.execute("COMMIT")
        return [
            f"journal file {self._path}: row {seq} ({trace_id!r}) cannot be read back "
            f"({problem[:200]}); moved to the table traces_quarantine"
            for seq, trace_id, _data, problem in bad
        ]

    def fetch(self, trace_id: str) -> Trace | None:
        """The stored trace ``trace_id``, also one the in-memory journal no longer holds."""
        sequence = trace_sequence(trace_id)
        try:
            with self._lock:
                row = self._conn.execute(
                    "SELECT data FROM traces WHERE seq = ? AND id = ?", (sequence, trace_id)
                ).fetchone()
            return None if row is None else _trace_from(row[0])
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise JournalStoreError(
                f"journal file {self._path}: cannot read {trace_id} ({type(exc).__name__}: {exc})"
            ) from None

    def count(self) -> int:
        with self._lock:
            (total,) = self._conn.execute("SELECT count(*) FROM traces").fetchone()
        return int(total)

    def clear(self) -> None:
        """Forget every trace, leaving no copy in the WAL (traces hold personal data)."""
        with self._lock:
            self.generation += 1
            self._conn.execute("DELETE FROM traces")
            # Give the freed pages back: without it the file keeps its largest size forever.
            self._conn.execute("VACUUM")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _loaded_from(conn: sqlite3.Connection, cap: int) -> int:
    """The lowest sequence among the newest ``cap`` traces: what a restart holds in memory."""
    row = conn.execute(
        "SELECT seq FROM traces ORDER BY seq DESC LIMIT 1 OFFSET ?", (cap - 1,)
    ).fetchone()
    return int(row[0]) if row is not None else 0


def _trace_from(data: Any) -> Trace:
    """The trace a row's ``data`` holds; ``ValueError`` (or another) if it holds none."""
    if not isinstance(data, str):
        raise TypeError(f"data is {type(data).__name__}, not JSON text")
    trace = Trace.from_state(strict_loads(data))
    texts = (trace.id, trace.entry, trace.outcome, trace.created_at)
    if not all(isinstance(text, str) for text in texts) or trace_sequence(trace.id) <= 0:
        raise ValueError("id, entry, outcome or createdAt is not what a trace holds")
    datetime.fromisoformat(trace.created_at)
    return trace


def _create_private(path: str) -> None:
    """Make the journal file readable by its owner only: it holds people's personal data.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(descriptor).st_mode) & 0o077:
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
