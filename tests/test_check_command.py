"""``refersion-emulator check`` on the command line: reports, seeds, progress, exit codes."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from emulator.check import PROPERTY_NAMES
from emulator.cli import run


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def check(*argv: str, stderr: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    code = run(["check", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def json_report(*argv: str) -> dict[str, Any]:
    code, out, err = check("--json", *argv)
    assert (code, err) == (0, "")
    report: dict[str, Any] = json.loads(out)
    return report


def test_a_passing_check_reports_every_property_in_json_and_junit(tmp_path: Path) -> None:
    junit = tmp_path / "reports" / "check.xml"  # the directory is created, as CI needs
    report = json_report("--examples", "5", "--seed", "21", "--junit-xml", str(junit))

    assert report["passed"] is True
    assert (report["examples"], report["seed"]) == (5, 21)
    assert [p["name"] for p in report["properties"]] == list(PROPERTY_NAMES)
    assert all(p["passed"] and p["examples"] >= 5 and p["events"] > 0 for p in report["properties"])
    exercised = report["exercised"]
    assert {"created", "deleted", "not_found", "duplicate"} <= set(exercised["outcomes"])
    assert "affiliate/new 200" in exercised["refersion_statuses"]
    assert "traits.email" in exercised["segment_fields"]
    assert {"first_name", "unique_merchant_id"} <= set(exercised["refersion_fields"])
    assert exercised["reasons"]

    suite = ET.parse(junit).getroot()  # noqa: S314 - the file the command just wrote
    assert (suite.get("tests"), suite.get("failures")) == (str(len(PROPERTY_NAMES)), "0")
    cases = list(suite.iter("testcase"))
    assert [case.get("name") for case in cases] == list(PROPERTY_NAMES)
    assert not list(suite.iter("failure"))
    seed = [p.get("value") for p in suite.iter("property") if p.get("name") == "seed"]
    assert seed == ["21"]


def test_the_same_seed_sends_the_same_events_and_another_seed_others() -> None:
    argv = ("--examples", "5", "--property", "round_trip", "--property", "invalid_turned_away")
    first = json_report(*argv, "--seed", "8")
    again = json_report(*argv, "--seed", "8")
    other = json_report(*argv, "--seed", "9")

    def digests(report: dict[str, Any]) -> list[str]:
        return [p["events_digest"] for p in report["properties"]]

    assert digests(first) == digests(again)
    assert all(a != b for a, b in zip(digests(first), digests(other), strict=True))


def test_progress_goes_to_a_terminal_and_the_summary_to_stdout() -> None:
    terminal = Terminal()
    code, out, err = check(
        "--examples", "3", "--seed", "2", "--property", "round_trip", stderr=terminal
    )
    assert code == 0
    assert "\r  round_trip" in err
    assert "example 3/3" in err
    assert "PASS round_trip" in out
    assert "exercised" in out
    assert "Refersion answers" in out
    assert "1 passed, 0 failed" in out


def test_no_progress_when_stderr_is_not_a_terminal() -> None:
    code, _, err = check("--examples", "2", "--seed", "2", "--property", "invalid_turned_away")
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--examples", "0"), "--examples must be at least 1"),
        (("--property", "everything"), "invalid choice: 'everything'"),
        (("--examples", "many"), "invalid int value"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: tuple[str, ...], message: str) -> None:
    code, out, err = check(*argv)
    assert (code, out) == (2, "")
    assert message in err
    assert err.count("\n") == 1
