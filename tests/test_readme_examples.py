"""The README's examples for users' tests, run as written, so they cannot drift from the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_pytest_example_passes(pytester: pytest.Pytester) -> None:
    pytest_example = python_blocks(section("Use it from your tests"))[0]
    assert pytest_example.startswith("# test_signup.py")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_signup=pytest_example)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


@pytest.mark.client  # runs the published analytics-python client
def test_the_analytics_python_example_runs_and_prints_what_it_says(tmp_path: Path) -> None:
    script = python_blocks(section("Use it from your tests"))[1]
    assert script.startswith("# signup_check.py")
    (tmp_path / "signup_check.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "signup_check.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"affiliate 37569297 code \w+", lines[0])
    assert lines[1:] == ["identify → created ", "track → filtered UNSUPPORTED_EVENT_TYPE"]


def test_the_mapping_example_plugs_into_send(tmp_path: Path) -> None:
    module = python_blocks(section("Bring your own mapping"))[1]
    assert module.startswith("# myteam/refersion_mapping.py")
    (tmp_path / "myteam").mkdir()
    (tmp_path / "myteam" / "__init__.py").write_text("")
    (tmp_path / "myteam" / "refersion_mapping.py").write_text(module)
    message = {
        "type": "identify",
        "userId": "u1",
        "traits": {"name": "Peter Gibbons", "email": "peter@example.com"},
        "context": {"campaign": {"source": "initech"}},
    }
    (tmp_path / "payload.json").write_text(json.dumps(message))
    command = re.search(r"refersion-emulator (send --mapping \S+ payload\.json)", README)
    assert command is not None
    done = subprocess.run(
        [sys.executable, "-m", "emulator", *command[1].split(), "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    [case] = json.loads(done.stdout)["cases"]
    assert [a["offer_id"] for a in case["affiliates"]] == ["42"]
