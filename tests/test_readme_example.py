"""The README's customer-payload walkthrough is real output: rerun it and compare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT, cli

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```[a-z]*\n(.*?)^```", README, re.DOTALL | re.MULTILINE)
COMMAND = "$ refersion-emulator send ticket-4711.json\n"


def without_ports(text: str) -> str:
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


def test_the_failing_customer_payload_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [ticket] = [block for block in BLOCKS if block.startswith('{\n  "Request to Destination"')]
    [shown] = [block.removeprefix(COMMAND) for block in BLOCKS if block.startswith(COMMAND)]
    (tmp_path / "ticket-4711.json").write_text(ticket)
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("send", "ticket-4711.json")
    assert code == 1
    assert without_ports(out).rstrip("\n") == without_ports(shown).rstrip("\n")
