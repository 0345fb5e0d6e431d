"""The journal: one trace per event, with every hop it took and every contract verdict.

Plain data, no I/O. The HTTP adapters append hops; the control API and the CLI read them.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import marshal
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from emulator.contract_checks.contract_set import Violation

__all__ = ["FINAL_OUTCOMES", "OUTCOMES", "Hop", "Journal", "Trace", "trace_sequence"]

OUTCOMES: Mapping[str, str] = {
    "pending": "accepted; waiting for delivery",
    "retrying": "an attempt failed with a retryable answer; another is scheduled",
    "created": "Refersion created the affiliate",
    "already_exists": "an affiliate with this email exists; Segment gets 200",
    "deleted": "the affiliate was removed",
    "not_found": "a delete found no affiliate; deletes are idempotent, Segment gets 200",
    "rejected": "the destination rejected the message (see reason); Segment discards it",
    "refersion_rejected": "Refersion refused the mapped request; Segment discards it",
    "unauthorized": "the destination API key was refused; Segment discards it",
    "delivered": "the destination accepted it (an external destination; no mapping seen)",
    "discarded": "the destination answered 4xx; Segment does not retry",
    "expired": "retries used up the budget; Segment archives the event",
    "filtered": "not sent to Refersion (unsupported type or integrations object)",
    "duplicate": "messageId already seen; Segment drops it",
    "ingest_rejected": "the Tracking API dropped it (see the Segment reason code)",
    "skipped": "the destination acknowledged it and had nothing to send (e.g. an audience exit)",
    "suppressed": "a regulation suppresses this userId; Segment drops it at the API",
}
FINAL_OUTCOMES: frozenset[str] = frozenset(OUTCOMES) - {"pending", "retrying"}

log = logging.getLogger("emulator.journal")


class _HopClock:
    """Now as Segment writes timestamps (``2019-06-21T16:33:26.158Z``), for every hop.

    The text up to the second is formatted once per second: a trace takes eight hops.
    """

    __slots__ = ("_second",)

    def __init__(self) -> None:
        # One tuple, swapped whole, so a thread never reads one second's text with another.
        self._second: tuple[int, str] = (-1, "")

    def now_iso(self) -> str:
        nanoseconds = time.time_ns()
        second, text = self._second
        if nanoseconds // 1_000_000_000 != second:
            second = nanoseconds // 1_000_000_000
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{nanoseconds // 1_000_000 % 1000:03d}Z"


_now_iso = _HopClock().now_iso


@dataclass(slots=True)
class Hop:
    """One step of a trace: ingest, routing, delivery, mapping, refersion, answer."""

    name: str
    summary: str
    ok: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    at: str = field(default_factory=_now_iso)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "at": self.at,
            "ok": self.ok,
            "summary": self.summary,
            "detail": self.detail,
            "violations": [v.to_dict() for v in self.violations],
        }


@dataclass(slots=True)
class Trace:
    """Everything that happened to one event, from where it entered to its outcome."""

    id: str
    entry: str
    message: Any
    created_at: str = field(default_factory=_now_iso)
    outcome: str = "pending"
    reason: str | None = None
    attempts: int = 0
    hops: list[Hop] = field(default_factory=list)
    first_attempt_at: float | None = None
    next_attempt_at: float | None = None

    @property
    def message_id(self) -> str | None:
        return _str_field(self.message, "messageId")

    @property
    def type(self) -> str | None:
        return _str_field(self.message, "type")

    @property
    def user_id(self) -> str | None:
        return _str_field(self.message, "userId")

    @property
    def email(self) -> str | None:
        traits = self.message.get("traits") if isinstance(self.message, dict) else None
        from_traits = traits.get("email") if isinstance(traits, dict) else None
        if isinstance(from_traits, str):
            return from_traits
        return _str_field(self.message, "email")

    @property
    def final(self) -> bool:
        return self.outcome in FINAL_OUTCOMES

    @property
    def violations(self) -> list[Violation]:
        return [v for hop in self.hops for v in hop.violations]

    def add_hop(self, name: str, summary: str, **kwargs: Any) -> Hop:
        hop = Hop(name, summary, **kwargs)
        self.hops.append(hop)
        return hop

    def summary_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entry": self.entry,
            "createdAt": self.created_at,
            "messageId": self.message_id,
            "type": self.type,
            "userId": self.user_id,
            **self._unusable_user_id(),
            "email": self.email,
            "outcome": self.outcome,
            "reason": self.reason,
            "attempts": self.attempts,
            "nextAttemptAt": self.next_attempt_at,
            "violations": len(self.violations),
        }

    def _unusable_user_id(self) -> dict[str, Any]:
        """``userIdNotString``: a userId the message carried that is not a string (a number,
        say), so lists can show what was sent where ``userId`` is null."""
        if not isinstance(self.message, dict) or self.user_id is not None:
            return {}
        value = self.message.get("userId")
        return {} if value is None else {"userIdNotString": value}

    @property
    def assumptions(self) -> list[dict[str, Any]]:
        """The registry assumptions this event relied on, each once, in hop order.

        Hops record them in ``detail["assumptions"]`` (notes as dicts: id, variant, note,
        alternative, warning); a retried event repeats the same note on every attempt.
        """
        seen: dict[tuple[str, str, str], dict[str, Any]] = {}
        for hop in self.hops:
            notes = hop.detail.get("assumptions")
            if not isinstance(notes, list):
                continue
            for note in notes:
                if isinstance(note, dict):
                    key = (str(note.get("id")), str(note.get("variant")), str(note.get("note")))
                    seen.setdefault(key, note)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary_dict(),
            "message": self.message,
            "hops": [hop.to_dict() for hop in self.hops],
            "violations": [v.to_dict() for v in self.violations],
            "assumptions": self.assumptions,
        }

    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild the trace with :meth:`from_state`, as JSON-ready data."""
        return {
            "id": self.id,
            "entry": self.entry,
            "message": self.message,
            "createdAt": self.created_at,
            "outcome": self.outcome,
            "reason": self.reason,
            "attempts": self.attempts,
            "firstAttemptAt": self.first_attempt_at,
            "nextAttemptAt": self.next_attempt_at,
            "hops": [hop.to_dict() for hop in self.hops],
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Trace:
        trace = cls(
            id=data["id"],
            entry=data["entry"],
            message=data["message"],
            created_at=data["createdAt"],
            outcome=data["outcome"],
            reason=data["reason"],
            attempts=data["attempts"],
            first_attempt_at=data["firstAttemptAt"],
            next_attempt_at=data["nextAttemptAt"],
        )
        trace.hops = [
            Hop(
                hop["name"],
                hop["summary"],
                ok=hop["ok"],
                detail=hop["detail"],
                violations=[Violation(**v) for v in hop["violations"]],
                at=hop["at"],
            )
            for hop in data["hops"]
        ]
        return trace


@dataclass(frozen=True, slots=True)
class _Packed:
    """A finished trace held packed: the fields queries filter on, and its state compressed.

    The state is marshalled (plain data, several times faster than JSON; an object two hops
    share is written once) and compressed: about an eighth of the memory of the live objects.
    :meth:`unpack` rebuilds the trace.
    """

    id: str
    entry: str
    outcome: str
    reason: str | None
    type: str | None
    user_id: str | None
    message_id: str | None
    email: str | None
    data: bytes

    @property
    def final(self) -> bool:
        return True

    @classmethod
    def pack(cls, trace: Trace) -> _Packed | None:
        """The packed trace, or None when its data is not plain data (it stays live)."""
        try:
            data = marshal.dumps(trace.state())
        except ValueError:  # an object marshal cannot write, or nesting too deep
            return None
        return cls(
            trace.id,
            trace.entry,
            trace.outcome,
            trace.reason,
            trace.type,
            trace.user_id,
            trace.message_id,
            trace.email,
            zlib.compress(data, _PACK_LEVEL),
        )

    def unpack(self) -> Trace:
        # Only ever data this process packed itself.
        return Trace.from_state(marshal.loads(zlib.decompress(self.data)))  # noqa: S302


_Entry: TypeAlias = Trace | _Packed
# Finished traces beyond this many, least recently changed first, are packed: a full journal
# of live objects would hold ~150 MB. zlib's fastest level halves the marshalled bytes.
_LIVE_FINISHED = 1_000
_PACK_LEVEL = 1


def _live(entry: _Entry) -> Trace:
    return entry if isinstance(entry, Trace) else entry.unpack()


def _str_field(message: Any, key: str) -> str | None:
    value = message.get(key) if isinstance(message, dict) else None
    return value if isinstance(value, str) else None


class Journal:
    """Traces in arrival order, capped: the oldest final traces go first when full.

    A dropped trace still counts in :meth:`tallies` (its outcome is final), so the
    reconciliation stays whole however long the run. Past the ``live_finished`` most recently
    changed finished traces, finished traces are held packed (compressed) and rebuilt when
    read: :meth:`get`, :meth:`query` and iteration return equal, but new, objects for them.
    """

    def __init__(self, *, cap: int, live_finished: int = _LIVE_FINISHED) -> None:
        self._cap = cap
        self._live_limit = live_finished
        self._traces: OrderedDict[str, _Entry] = OrderedDict()
        # Ids of finished traces still held live, least recently changed first.
        self._live_finished: OrderedDict[str, None] = OrderedDict()
        # Finished traces by arrival, the order they are dropped in: with thousands of traces
        # still being delivered, finding the oldest finished one must not scan them all.
        self._finished: list[tuple[int, str]] = []
        self._finished_ids: set[str] = set()
        self._ids = itertools.count(1)
        self.dropped = 0
        self._dropped_tallies: Counter[tuple[str, str | None]] = Counter()
        self.listeners: list[Callable[[Trace], None]] = []

    @property
    def cap(self) -> int:
        return self._cap

    @property
    def packed(self) -> int:
        """How many finished traces are held packed rather than as live objects."""
        return sum(1 for entry in self._traces.values() if isinstance(entry, _Packed))

    def new_trace(self, entry: str, message: Any) -> Trace:
        trace = Trace(id=f"t{next(self._ids):06d}", entry=entry, message=message)
        self._traces[trace.id] = trace
        self._enforce_cap()
        self.changed(trace)
        return trace

    def changed(self, trace: Trace) -> None:
        """Tell listeners (the live UI) that ``trace`` moved on."""
        for listener in list(self.listeners):
            listener(trace)
        entry = self._traces.get(trace.id)
        if isinstance(entry, _Packed):
            # Changed after it was packed (a late hop, a resumed delivery): the live object,
            # which holds every earlier hop too, is the trace again.
            self._traces[trace.id] = entry = trace
        if trace.final:
            self._note_finished(trace)
            if entry is trace:
                self._live_finished[trace.id] = None
                self._live_finished.move_to_end(trace.id)
                self._pack_oldest()
            # A trace that just finished may be the one that can now make room.
            if len(self._traces) > self._cap:
                self._enforce_cap()

    def get(self, trace_id: str) -> Trace | None:
        entry = self._traces.get(trace_id)
        return None if entry is None else _live(entry)

    def query(
        self,
        *,
        event_type: str | None = None,
        outcome: str | None = None,
        user_id: str | None = None,
        message_id: str | None = None,
        email: str | None = None,
        limit: int | None = None,
    ) -> list[Trace]:
        """Newest first, filtered by exact field values."""
        found: list[Trace] = []
        for entry in reversed(self._traces.values()):
            if (
                (event_type is None or entry.type == event_type)
                and (outcome is None or entry.outcome == outcome)
                and (user_id is None or entry.user_id == user_id)
                and (message_id is None or entry.message_id == message_id)
                and (email is None or entry.email == email)
            ):
                found.append(_live(entry))
                if limit is not None and len(found) >= limit:
                    break
        return found

    def counts(self) -> Counter[str]:
        return Counter(trace.outcome for trace in self._traces.values())

    def tallies(self) -> Counter[tuple[str, str | None]]:
        """``(outcome, reason) → count`` over every trace ever journaled, dropped ones too."""
        tallies = Counter((trace.outcome, trace.reason) for trace in self._traces.values())
        tallies.update(self._dropped_tallies)
        return tallies

    def restore(
        self, traces: Iterable[Trace], *, unloaded: Mapping[tuple[str, str | None], int]
    ) -> None:
        """Take back traces saved by an earlier run; ``unloaded`` tallies those left on disk.

        New ids continue after the highest restored one, so ids stay unique across restarts.
        """
        highest = 0
        for trace in traces:
            self._traces[trace.id] = trace
            highest = max(highest, trace_sequence(trace.id))
            if trace.final:
                self._note_finished(trace)
                self._live_finished[trace.id] = None
        self._pack_oldest()
        self._ids = itertools.count(highest + 1)
        self._dropped_tallies.update(unloaded)
        self.dropped += sum(unloaded.values())

    def pending(self) -> int:
        return sum(1 for trace in self._traces.values() if not trace.final)

    def clear(self) -> None:
        self._traces.clear()
        self._live_finished.clear()
        self._finished.clear()
        self._finished_ids.clear()
        self.dropped = 0
        self._dropped_tallies.clear()

    def __len__(self) -> int:
        return len(self._traces)

    def __iter__(self) -> Iterator[Trace]:
        return iter([_live(entry) for entry in self._traces.values()])

    def _pack_oldest(self) -> None:
        while len(self._live_finished) > self._live_limit:
            trace_id, _ = self._live_finished.popitem(last=False)
            entry = self._traces.get(trace_id)
            if isinstance(entry, Trace) and entry.final:
                self._traces[trace_id] = _Packed.pack(entry) or entry

    def _note_finished(self, trace: Trace) -> None:
        if trace.id not in self._finished_ids:
            self._finished_ids.add(trace.id)
            heapq.heappush(self._finished, (trace_sequence(trace.id), trace.id))

    def _enforce_cap(self) -> None:
        excess = len(self._traces) - self._cap
        if excess <= 0:
            return
        # Unfinished traces are kept so no accepted event disappears mid-delivery.
        doomed: list[_Entry] = []
        while len(doomed) < excess and self._finished:
            _, trace_id = heapq.heappop(self._finished)
            self._finished_ids.discard(trace_id)
            entry = self._traces.get(trace_id)
            # Gone already, or (after a restart) being delivered again: not droppable now.
            if entry is not None and entry.final:
                doomed.append(entry)
        if doomed and not self.dropped:
            log.warning(
                "journal: the cap of %d traces is reached; the oldest finished traces are "
                "dropped from memory from now on (their outcomes still count in "
                "/_emulator/report; droppedFromJournal says how many)",
                self._cap,
            )
        for entry in doomed:
            del self._traces[entry.id]
            self._live_finished.pop(entry.id, None)
            self._dropped_tallies[(entry.outcome, entry.reason)] += 1
        self.dropped += len(doomed)


def trace_sequence(trace_id: str) -> int:
    """The number in a trace id (``t000042`` → 42); ids count up in arrival order."""
    digits = trace_id[1:]
    # ASCII and short: "t²" or a 5,000-digit id is no trace's id, not an error.
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 19 else 0
