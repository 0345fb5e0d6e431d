"""The journal on disk: traces in SQLite (WAL mode), many traces per transaction.

Each trace is one row holding its JSON and the columns a restart needs: the sequence of its
id, its outcome and reason, whether it is final, when it was created, and its messageId (to
rebuild the dedupe memory). Rows are rewritten whole when a trace moves on. The file may be
shared with the fake Refersion account's :class:`~emulator.fake_refersion.AffiliateStore`; the
tables do not overlap.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from emulator.errors import EmulatorError
from emulator.journal.traces import Trace, trace_sequence

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
"""
_UPSERT = (
    "INSERT OR REPLACE INTO traces (seq, id, entry, message_id, outcome, reason, final, created,"
    " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The entries whose messageId went through Segment's dedupe (destination posts never do).
_DEDUPED_ENTRIES = ("tracking-api", "delivery")

TraceRecord = tuple[int, str, str, str | None, str, str | None, int, float, str]


class JournalStoreError(EmulatorError):
    """The journal file cannot be read or written; the message names the file."""


@dataclass(frozen=True, slots=True)
class StoredJournal:
    """What a restart takes back: traces to hold in memory, and tallies of the rest."""

    traces: list[Trace]
    unloaded: Counter[tuple[str, str | None]]
    message_ids: list[tuple[str, float]]


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
        json.dumps(data, separators=(",", ":")),
    )


class JournalStore:
    """Traces in one SQLite file; every method may be called from any one thread at a time."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        # Counts clear() calls, so a write prepared before one can be recognised.
        self.generation = 0
        try:
            self._conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk when it returns, which is what an acknowledged
            # Tracking-API request promises. One commit covers many traces.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA secure_delete = ON")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
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
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(_UPSERT, records)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise JournalStoreError(
                    f"journal file {self._path}: cannot write ({exc})"
                ) from None

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
        with self._lock:
            conn = self._conn
            row = conn.execute(
                "SELECT seq FROM traces ORDER BY seq DESC LIMIT 1 OFFSET ?", (cap - 1,)
            ).fetchone()
            threshold = row[0] if row is not None else 0
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
                "SELECT message_id, created FROM traces WHERE message_id IS NOT NULL"
                " AND entry IN (?, ?) AND outcome NOT IN ('duplicate', 'ingest_rejected')"
                " AND created >= ? ORDER BY seq",
                (*_DEDUPED_ENTRIES, dedupe_since),
            ).fetchall()
        return StoredJournal(
            [Trace.from_state(json.loads(data)) for (data,) in rows],
            unloaded,
            [(str(message_id), float(created)) for message_id, created in message_ids],
        )

    def count(self) -> int:
        with self._lock:
            (total,) = self._conn.execute("SELECT count(*) FROM traces").fetchone()
        return int(total)

    def clear(self) -> None:
        """Forget every trace, leaving no copy in the WAL (traces hold personal data)."""
        with self._lock:
            self.generation += 1
            self._conn.execute("DELETE FROM traces")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
