"""The journal's memory cap: the oldest finished traces go first, unfinished ones always stay."""

from __future__ import annotations

from emulator.journal import Journal, Trace


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
