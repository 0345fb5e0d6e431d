"""``refersion-emulator generate``: the strategies as JSON lines that ``send`` accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import cli


def lines(*argv: str) -> list[Any]:
    code, out, err = cli("generate", *argv)
    assert (code, err) == (0, "")
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("kind", ["identify", "delete", "engage"])
def test_each_kind_prints_count_events_of_that_kind(kind: str) -> None:
    events = lines("--kind", kind, "--count", "7", "--seed", "1")
    assert len(events) == 7
    assert {event["type"] for event in events} == {"delete" if kind == "delete" else "identify"}
    if kind == "engage":
        assert all("personas" in event["context"] for event in events)


def test_the_same_seed_prints_the_same_events() -> None:
    assert lines("--count", "5", "--seed", "3") == lines("--count", "5", "--seed", "3")
    assert lines("--count", "5", "--seed", "3") != lines("--count", "5", "--seed", "4")


def test_invalid_events_come_with_the_code_they_must_be_turned_away_with() -> None:
    annotated = lines("--invalid", "--with-expectations", "--count", "40", "--seed", "5")
    assert all(set(item) >= {"event", "variant", "stage", "reason"} for item in annotated)
    rejected = [item for item in annotated if item["stage"] != "refersion"]
    assert all(item["reason"] for item in rejected)
    assert len({item["variant"] for item in annotated}) > 5
    [delete] = lines("--kind", "delete", "--invalid", "--with-expectations", "--count", "1")
    assert (delete["stage"], delete["reason"]) == ("destination", "missing_user_id")


def test_generated_identifies_go_through_send(tmp_path: Any) -> None:
    code, out, _ = cli("generate", "--count", "5", "--seed", "6")
    assert code == 0
    path = tmp_path / "generated.jsonl"
    path.write_text(out, encoding="utf-8")
    code, trace, _ = cli("send", str(path))
    assert code == 0, trace
    assert trace.count("outcome: created") == 5


def test_a_count_out_of_range_is_a_usage_error() -> None:
    code, out, err = cli("generate", "--count", "0")
    assert (code, out) == (2, "")
    assert "--count must be 1..100000" in err
