"""A team's own mapping, plugged in with ``--mapping package.module:callable``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from emulator import load_mapping, map_message
from emulator.errors import InputError
from tests.support import FIXTURES, cli

DOC = FIXTURES / "segment-docs" / "refersion-destination-identify.json"

TEAM_MAPPINGS = '''
import dataclasses

from emulator import Operation, map_message

NOT_A_FUNCTION = 42


def usa(message, *, settings):
    """Sends the country as the customer typed it: Refersion wants a two-letter code."""
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and result.endpoint == "affiliate/new":
        return dataclasses.replace(result, body={**result.body, "country": "USA"})
    return result


def shouting(message, *, settings):
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and "last_name" in result.body:
        return dataclasses.replace(result, body={**result.body, "last_name": "GIBBONS"})
    return result


def no_settings(message):
    return map_message(message)


class Mappings:
    @staticmethod
    def usa(message, *, settings):
        return usa(message, settings=settings)
'''


@pytest.fixture
def team_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the team's mapping module, as a user's project would."""
    (tmp_path / "team_mappings.py").write_text(TEAM_MAPPINGS)
    (tmp_path / "broken_mappings.py").write_text("raise RuntimeError('no config file')\n")
    monkeypatch.chdir(tmp_path)
    # The loader puts the working directory on sys.path; undo that and the imports afterwards.
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("team_mappings", "broken_mappings"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_the_built_in_mapping_loads_like_any_other() -> None:
    assert load_mapping("emulator.destination.mapping:map_message") is map_message


@pytest.mark.usefixtures("team_dir")
def test_a_nested_attribute_loads() -> None:
    assert callable(load_mapping("team_mappings:Mappings.usa", search_path=str(Path.cwd())))


@pytest.mark.usefixtures("team_dir")
@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("team_mappings", "expected package.module:callable"),
        ("team_mappings:", "expected package.module:callable"),
        (":usa", "expected package.module:callable"),
        ("team-mappings:usa", "expected package.module:callable"),
        ("no_such_module:usa", "cannot import 'no_such_module' (No module named 'no_such_module')"),
        ("broken_mappings:usa", "importing 'broken_mappings' raised RuntimeError: no config file"),
        ("team_mappings:nope", "'team_mappings' has no attribute 'nope'"),
        ("team_mappings:Mappings.nope", "'team_mappings.Mappings' has no attribute 'nope'"),
        ("team_mappings:NOT_A_FUNCTION", "'NOT_A_FUNCTION' is a int, not a callable"),
        ("team_mappings:no_settings", "cannot be called as fn(message, *, settings)"),
    ],
)
def test_a_bad_spec_says_which_and_why(spec: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        load_mapping(spec, search_path=str(Path.cwd()))
    assert str(caught.value).startswith(f"mapping {spec!r}: ")
    assert problem in str(caught.value)


@pytest.mark.usefixtures("team_dir")
@pytest.mark.parametrize("command", ["send", "replay", "serve"])
def test_the_commands_exit_2_with_one_line_for_a_bad_spec(command: str) -> None:
    args = ["--port", "0"] if command == "serve" else [str(DOC)]
    code, out, err = cli(command, "--mapping", "team_mappings:nope", *args)
    assert (code, out) == (2, "")
    assert err == "error: mapping 'team_mappings:nope': 'team_mappings' has no attribute 'nope'\n"


def test_send_runs_the_teams_mapping(team_dir: Path) -> None:
    message = json.loads(DOC.read_text())["events"][0]
    (team_dir / "message.json").write_text(json.dumps(message))
    code, out, err = cli("send", "--json", "--mapping", "team_mappings:shouting", "message.json")
    assert (code, err) == (0, "")
    [case] = json.loads(out)["cases"]
    assert [a["last_name"] for a in case["affiliates"]] == ["GIBBONS"]

    # The fixture's expectations hold the team's mapping to the documented result.
    code, out, _ = cli("send", "--json", "--mapping", "team_mappings:shouting", str(DOC))
    assert code == 1
    [case] = json.loads(out)["cases"]
    assert any("last_name" in failure for failure in case["failures"]), case["failures"]


@pytest.mark.usefixtures("team_dir")
def test_send_fails_a_mapping_that_breaks_the_refersion_contract() -> None:
    code, out, err = cli("send", "--json", "--mapping", "team_mappings:usa", str(DOC))
    assert (code, err) == (1, "")
    [case] = json.loads(out)["cases"]
    [event] = case["events"]
    assert event["outcome"] == "refersion_rejected"
    [violation] = event["violations"]
    assert violation["contract"] == "refersion/affiliate-new.request"
    assert (violation["pointer"], violation["value"]) == ("/country", "USA")
    # The fake Refersion refuses it too, in Refersion's words.
    assert case["affiliates"] == []

    code, out, _ = cli("send", "--mapping", "team_mappings:usa", str(DOC))
    assert code == 1
    assert "refersion/affiliate-new.request" in out
    assert f"FAIL {DOC}" in out
