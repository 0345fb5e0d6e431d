"""The journal's memory: a cap that drops the oldest finished traces, and packed old traces."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from emulator.contract_checks.contract_set import Violation
from emulator.journal.traces import Journal, Trace


def finish(journal: Journal, trace: Trace, outcome: str = "created") -> None:
    trace.outcome = outcome
    journal.changed(trace)


def ids(journal: Journal) -> list[str]:
    return [trace.id for trace in journal]


def test_unfinished_traces_are_kept_past_the_cap_until_they_finish() -> None:
    journal = Journal(cap=3)
    traces = [journal.new_trace("tracking-api", {"n": n}) for n in range(5)]
    assert (len(journal), journal.dropped) == (5, 0)
    finish(journal, traces[3])
    assert ids(journal) == ["t000001", "t000002", "t000003", "t000005"]
    finish(journal, traces[1])
    assert ids(journal) == ["t000001", "t000003", "t000005"]
    assert journal.dropped == 2
    assert journal.tallies()[("created", None)] == 2


def test_finished_traces_are_dropped_oldest_arrival_first_not_first_finished() -> None:
    journal = Journal(cap=4)
    traces = [journal.new_trace("tracking-api", {"n": n}) for n in range(4)]
    finish(journal, traces[3])
    finish(journal, traces[1], "rejected")
    finish(journal, traces[0], "filtered")
    journal.new_trace("tracking-api", {"n": 4})
    journal.new_trace("tracking-api", {"n": 5})
    assert ids(journal) == ["t000003", "t000004", "t000005", "t000006"]
    journal.new_trace("tracking-api", {"n": 6})
    assert ids(journal) == ["t000003", "t000005", "t000006", "t000007"]
    assert journal.dropped == 3


def test_a_trace_retried_after_finishing_is_not_dropped_while_unfinished() -> None:
    journal = Journal(cap=1)
    first = journal.new_trace("tracking-api", {"n": 0})
    finish(journal, first)
    first.outcome = "retrying"  # a restored delivery that resumes
    journal.changed(first)
    journal.new_trace("tracking-api", {"n": 1})
    assert ids(journal) == ["t000001", "t000002"]
    finish(journal, first)
    assert ids(journal) == ["t000002"]


def test_clear_forgets_what_was_finished() -> None:
    journal = Journal(cap=1)
    finish(journal, journal.new_trace("tracking-api", {}))
    journal.clear()
    journal.new_trace("tracking-api", {})
    journal.new_trace("tracking-api", {})
    assert (len(journal), journal.dropped) == (2, 0)


def test_finished_traces_past_the_live_ones_are_packed_and_read_back_whole() -> None:
    journal = Journal(cap=100, live_finished=2)
    originals = []
    for n in range(5):
        trace = journal.new_trace("tracking-api", message(n))
        trace.add_hop("ingest", "accepted", ok=True, detail={"raw": {"n": n, "f": 1.5}})
        trace.add_hop("answer", "400", ok=False, violations=[violation(n)])
        finish(journal, trace, "rejected" if n % 2 else "created")
        originals.append(json.loads(json.dumps(trace.to_dict())))
    assert journal.packed == 3
    assert [trace.to_dict() for trace in journal] == originals
    assert journal.get("t000001") is not None
    assert journal.get("t000001").to_dict() == originals[0]  # type: ignore[union-attr]
    assert [t.id for t in journal.query(outcome="rejected")] == ["t000004", "t000002"]
    assert [t.id for t in journal.query(email="u0@example.com")] == ["t000001"]
    assert [t.id for t in journal.query(user_id="u2", event_type="identify")] == ["t000003"]
    assert [t.id for t in journal.query(message_id="m-1")] == ["t000002"]
    assert journal.counts() == {"created": 3, "rejected": 2}
    assert journal.pending() == 0


def test_a_packed_trace_that_changes_again_is_live_with_every_hop() -> None:
    journal = Journal(cap=100, live_finished=1)
    late = journal.new_trace("tracking-api", message(0))
    finish(journal, late)
    finish(journal, journal.new_trace("tracking-api", message(1)))
    assert journal.packed == 1
    assert journal.get(late.id) is not late
    late.add_hop("answer", "a late answer from a slow Refersion")
    journal.changed(late)
    assert journal.get(late.id) is late
    assert journal.packed == 1  # the other one, now the least recently changed
    assert [hop.name for hop in journal.get(late.id).hops] == ["answer"]  # type: ignore[union-attr]


def test_a_trace_holding_more_than_plain_data_stays_live() -> None:
    journal = Journal(cap=100, live_finished=0)
    odd = journal.new_trace("tracking-api", {"type": "identify", "at": datetime.now(UTC)})
    finish(journal, odd)
    assert journal.get(odd.id) is odd


def message(n: int) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": f"u{n}",
        "messageId": f"m-{n}",
        "traits": {"email": f"u{n}@example.com", "name": "Ada Lovelace"},
    }


def violation(n: int) -> Violation:
    return Violation(f"contract-{n}", "/traits", [n], "type", f"'traits' is wrong ({n})")
