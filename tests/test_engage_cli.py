"""``refersion-emulator engage``: what a user sees and the exit codes."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from emulator.cli import run
from tests.support import FIXTURES

ADA = {
    "userId": "u-ada",
    "email": "ada@example.com",
    "traits": {"first_name": "Ada", "last_name": "Lovelace"},
}


def plan(*syncs: Any, **audience: Any) -> dict[str, Any]:
    return {
        "description": "test plan",
        "audience": {"name": "Order Completed Last 30 Days", **audience},
        "syncs": list(syncs),
    }


def engage(tmp_path: Path, payload: Any, *options: str) -> tuple[int, str, str]:
    path = tmp_path / "plan.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    out, err = io.StringIO(), io.StringIO()
    code = run(["engage", *options, str(path)], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_healthy_audience_prints_each_sync_and_passes(tmp_path: Path) -> None:
    healthy = plan(
        {"members": [ADA], "at": "2026-03-01T12:00:00Z"},
        [],
        includeTraits=["first_name", "last_name"],
    )
    code, out, err = engage(tmp_path, healthy)
    assert (code, err) == (0, "")
    assert "audience order_completed_last_30days ('Order Completed Last 30 Days'" in out
    assert "sync 1 (initial) at 2026-03-01T12:00:00.000Z: 1 identify call(s) — entered u-ada" in out
    # Engage syncs every two to three hours after the initial sync.
    later = re.search(r"sync 2 \(incremental\) at 2026-03-01T(\d\d):(\d\d)", out)
    assert later is not None, out
    assert "14:00" <= f"{later[1]}:{later[2]}" <= "15:00"
    assert "1 identify call(s) — exited u-ada" in out
    assert "outcome: created" in out
    assert "outcome: skipped (audience_exited)" in out
    assert "affiliates in the fake Refersion account: 1" in out
    assert "PASS" in out


def test_members_the_mapping_rejects_fail_the_run_with_the_engage_fix(tmp_path: Path) -> None:
    code, out, _ = engage(tmp_path, plan([ADA]))
    assert code == 1
    assert "outcome: rejected (missing_name)" in out
    assert "fix: this identify comes from Engage audience" in out
    assert "FAIL" in out
    assert "u-ada: rejected (missing_name)" in out


def test_json_output_carries_every_sync_and_the_account(tmp_path: Path) -> None:
    code, out, _ = engage(
        tmp_path, plan([ADA], includeTraits=["first_name", "last_name"]), "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["audience"]["key"] == "order_completed_last_30days"
    [sync] = report["syncs"]
    assert sync["sync"]["kind"] == "initial"
    assert sync["events"][0]["message"]["context"]["personas"]["computation_class"] == "audience"
    assert report["affiliates"][0]["email"] == "ada@example.com"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("{", "not valid JSON"),
        ([], "expected a JSON object"),
        ({"audience": {"name": "A"}}, "syncs must be a non-empty array"),
        ({"audience": "A", "syncs": [[]]}, "audience must be an object"),
        ({"audience": {"name": "A"}, "syncs": [[]], "expect": {}}, "unknown field expect"),
        ({"audience": {"name": "A"}, "syncs": [{"members": [], "at": "soon"}]}, "ISO 8601"),
        ({"audience": {"name": "A"}, "syncs": [{"users": []}]}, "syncs[0] must be"),
        ({"audience": {"name": ""}, "syncs": [[]]}, "name is required"),
        ({"audience": {"name": "A"}, "syncs": [[{"email": "a@b.c"}]]}, "members[0] needs"),
    ],
)
def test_bad_plans_are_usage_errors_naming_the_file(
    tmp_path: Path, payload: Any, words: str
) -> None:
    code, out, err = engage(tmp_path, payload)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {tmp_path / 'plan.json'}")
    assert words in err
    assert err.count("\n") == 1


def test_a_missing_file_is_a_usage_error() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(["engage", "/nonexistent/plan.json"], stdout=out, stderr=err) == 2
    assert "cannot read" in err.getvalue()


def test_send_passes_a_bare_audience_exit_it_skips(tmp_path: Path) -> None:
    fixture = json.loads((FIXTURES / "engage" / "audience-exited.json").read_text())
    path = tmp_path / "exit.json"
    path.write_text(json.dumps(fixture["events"][1]))
    out, err = io.StringIO(), io.StringIO()
    assert run(["send", str(path)], stdout=out, stderr=err) == 0
    assert "outcome: skipped (audience_exited)" in out.getvalue()
