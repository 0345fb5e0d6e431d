"""Every fixture in fixtures/ runs through the whole pipeline and ends as it expects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator.cases.payloads import parse_cases
from emulator.server.runners.case_runner import run_case
from tests.support import FIXTURES, fast_config

FIXTURE_FILES = sorted(FIXTURES.rglob("*.json"))


def test_the_corpus_is_not_empty() -> None:
    assert len(FIXTURE_FILES) >= 5


@pytest.mark.parametrize(
    "path", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES]
)
async def test_fixture(path: Path) -> None:
    [case] = parse_cases(str(path), path.read_bytes())
    assert case.expect is not None, f"{path} has no expectations"
    assert case.description, f"{path} must say what it is"
    assert case.source, f"{path} must say where it comes from"
    result = await run_case(case, base=fast_config())
    assert result.failures == []


def test_every_fixture_is_in_the_documented_index() -> None:
    index = (FIXTURES / "README.md").read_text()
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES}
    assert set(re.findall(r"^\| `([^`]+\.json)` \|", index, re.MULTILINE)) == files
    assert set(re.findall(r"`([\w./-]+\.json)`", index)) <= files
