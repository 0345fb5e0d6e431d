"""``replay``: the corpus passes and covers every rule; failures, JUnit, JSON and ``--update``."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from emulator.destination.mapping import REJECTION_REASONS, WARNING_CODES
from emulator.segment.routing import FILTER_REASONS
from tests.support import FIXTURES, cli, write

ONE_WORD = FIXTURES / "rules" / "names-one-word.json"
# The pipeline never hands the mapping a non-object (ingest and /_emulator/deliver refuse it),
# nor a type the destination does not take (routing filters it as UNSUPPORTED_EVENT_TYPE);
# only a POST straight to /destination reaches those rejections (tests/test_mapping_outcomes).
UNREACHABLE_REASONS = {"not_an_object", "unsupported_type"}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of two fixtures, one of them made to fail: what a deliberate change leaves."""
    root = tmp_path / "corpus"
    (root / "rules").mkdir(parents=True)
    shutil.copy(FIXTURES / "segment-docs" / "partner-identify.json", root / "partner.json")
    fixture = json.loads(ONE_WORD.read_text())
    fixture["expect"] = {"outcomes": ["created"], "reasons": [None], "affiliates": []}
    (root / "rules" / "cher.json").write_text(json.dumps(fixture, indent=2) + "\n")
    return root


def test_the_corpus_replays_and_covers_every_rule_of_the_mapping() -> None:
    code, out, err = cli("replay", "--json", str(FIXTURES))
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["passed"] is True
    assert report["summary"]["total"] == len(list(FIXTURES.rglob("*.json")))
    warnings: set[str] = set()
    reasons: set[str | None] = set()
    outcomes: set[str] = set()
    for fixture in report["fixtures"]:
        for event in fixture["case"]["events"]:
            outcomes.add(event["outcome"])
            reasons.add(event["reason"])
            for problem in event["explanation"]["problems"]:
                (warnings if problem["kind"] == "warning" else reasons).add(problem["code"])
    assert set(WARNING_CODES) <= warnings
    assert set(REJECTION_REASONS) - UNREACHABLE_REASONS <= reasons
    assert set(FILTER_REASONS) <= reasons
    expected_outcomes = {"created", "already_exists", "deleted", "not_found", "rejected"}
    expected_outcomes |= {"refersion_rejected", "unauthorized", "filtered", "duplicate"}
    assert expected_outcomes | {"ingest_rejected"} <= outcomes


def test_a_failing_fixture_shows_in_the_table_with_its_first_difference(corpus: Path) -> None:
    code, out, err = cli("replay", str(corpus))
    assert (code, err) == (1, "")
    rows = {line.split()[1]: line for line in out.splitlines() if line[:4] in ("PASS", "FAIL")}
    assert rows["partner.json"].startswith("PASS")
    assert rows["rules/cher.json"].startswith("FAIL")
    assert "event 1: outcome rejected (reason name_incomplete), expected created" in out
    assert out.splitlines()[-1].startswith("2 fixtures: 1 passed, 1 failed")


def test_junit_xml_and_json_report_the_same_failure(corpus: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "replay.xml"
    code, out, _ = cli("replay", "--json", "--junit-xml", str(report), str(corpus))
    assert code == 1
    data = json.loads(out)
    assert data["summary"] == {"total": 2, "passed": 1, "failed": 1, "updated": 0}
    [failed] = [f for f in data["fixtures"] if f["status"] == "FAIL"]
    assert failed["fixture"] == "rules/cher.json"
    suite = ET.fromstring(report.read_text()).find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    [failure] = suite.iter("failure")
    assert "expected created" in (failure.get("message") or "")


def test_update_rewrites_only_the_expectation_and_shows_the_diff(corpus: Path) -> None:
    path = corpus / "rules" / "cher.json"
    before = path.read_text()
    code, out, _ = cli("replay", "--update", str(corpus))
    assert code == 0
    assert f"--- {path} (before)" in out
    assert '-    "outcomes": [' in out
    assert '+  "expect": {"outcomes": ["rejected"], "reasons": ["name_incomplete"]' in out
    assert "UPDATED rules/cher.json" in out
    after = path.read_text()
    assert json.loads(after)["expect"]["reasons"] == ["name_incomplete"]
    # Everything but the expect member is byte for byte what it was.
    prefix = before[: before.index('"expect"')]
    assert after.startswith(prefix)
    code, out, _ = cli("replay", str(corpus))
    assert code == 0
    assert "2 passed, 0 failed" in out


def test_update_leaves_passing_fixtures_alone(corpus: Path) -> None:
    path = corpus / "partner.json"
    before = path.read_bytes()
    cli("replay", "--update", str(corpus))
    assert path.read_bytes() == before


def test_update_adds_expectations_to_a_fixture_without_them(tmp_path: Path) -> None:
    fixture = json.loads(ONE_WORD.read_text())
    del fixture["expect"]
    path = Path(write(tmp_path, "new.json", fixture))
    code, _, _ = cli("replay", "--update", str(tmp_path))
    assert code == 0
    assert json.loads(path.read_text())["expect"]["outcomes"] == ["rejected"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such file or directory"),
        ("empty", "no fixtures (*.json)"),
        ("payload", "not a fixture"),
        ("broken", "not valid JSON"),
    ],
)
def test_input_errors_exit_2_naming_the_file(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / "corpus"
    if setup != "missing":
        target.mkdir()
    if setup == "payload":
        write(target, "payload.json", {"type": "identify", "userId": "u"})
    if setup == "broken":
        write(target, "broken.json", "{")
    code, out, err = cli("replay", str(target))
    assert (code, out) == (2, "")
    assert message in err
    assert err.count("\n") == 1
