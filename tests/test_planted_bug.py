"""``check`` finds a planted mapping bug, shrinks it, and saves a fixture that ``send`` fails on.

The bug is swapped in for the built-in mapping everywhere (check and send alike), as a
regression in the mapping layer would be.
"""

from __future__ import annotations

import dataclasses
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from emulator.commands.options import hypothesis_home
from emulator.destination.mapping import MappingResult, MappingSettings, Operation, map_message
from tests.support import cli


def drops_zip(message: Any, *, settings: MappingSettings) -> MappingResult:
    """The planted bug: the postal code never reaches Refersion."""
    result = map_message(message, settings=settings)
    if not isinstance(result, Operation) or "zip" not in result.body:
        return result
    body = {key: value for key, value in result.body.items() if key != "zip"}
    lineage = tuple(entry for entry in result.lineage if entry.target != "zip")
    return dataclasses.replace(result, body=body, lineage=lineage)


def test_check_catches_a_dropped_zip_and_send_replays_the_shrunk_counterexample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("emulator.server.runtime.map_message", drops_zip)

    code, out, err = cli(
        "check",
        "--property",
        "round_trip",
        "--examples",
        "60",
        "--save-failures",
        "failures",
        "--junit-xml",
        "report.xml",
        "--json",
    )

    assert (code, err) == (1, "")
    [result] = json.loads(out)["properties"]
    failure = result["failure"]
    assert "zip is None, expected" in failure["message"]
    # Shrunk: one identify, nothing in it but what the bug needs.
    [event] = failure["fixture"]["events"]
    assert set(event) <= {"type", "userId", "anonymousId", "messageId", "traits"}
    traits = event["traits"]
    assert set(traits) <= {
        "name",
        "firstName",
        "lastName",
        "first_name",
        "last_name",
        "email",
        "address",
    }
    [postal_key] = traits["address"]
    assert postal_key in ("postalCode", "postal_code")

    [saved] = (tmp_path / "failures").glob("check-round_trip-*.json")
    assert failure["saved_to"] == str(Path("failures") / saved.name)
    assert json.loads(saved.read_text(encoding="utf-8")) == failure["fixture"]

    [case] = ET.parse(tmp_path / "report.xml").getroot().iter("testcase")  # noqa: S314 - our own file
    assert case.get("name") == "round_trip"
    [junit_failure] = case.iter("failure")
    assert "zip" in (junit_failure.get("message") or "")
    assert str(saved.name) in (junit_failure.text or "")

    # The example database lives in the user's cache, one per project directory; nothing is
    # left in the working directory.
    assert not (tmp_path / ".hypothesis").exists()
    assert any((hypothesis_home(os.getcwd()) / "check" / "round_trip").iterdir())

    code, out, _ = cli("send", str(saved))
    assert code == 1
    assert "zip is None, expected" in out

    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("send", str(saved))
    assert code == 0, out
    assert "PASS" in out


def forgets_whom_to_delete(message: Any, *, settings: MappingSettings) -> MappingResult:
    """The planted bug: deletes look for nobody, so affiliates survive them."""
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and result.endpoint == "affiliate/delete":
        return dataclasses.replace(result, body={"unique_merchant_id": "nobody"})
    return result


def test_a_counterexample_of_several_events_replays_as_one_delivery_fixture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulator.server.runtime.map_message", forgets_whom_to_delete)
    code, out, _ = cli(
        "check",
        "--property",
        "delete_leaves_nothing",
        "--examples",
        "20",
        "--seed",
        "3",
        "--save-failures",
        str(tmp_path),
    )
    assert code == 1
    assert "expected deleted, got not_found" in out
    [saved] = tmp_path.glob("check-delete_leaves_nothing-*.json")
    fixture = json.loads(saved.read_text(encoding="utf-8"))
    # The identify entered through the Tracking API and the delete as a delivery: one entry.
    assert fixture["entry"] == "delivery"
    assert [event["type"] for event in fixture["events"]] == ["identify", "delete"]
    assert fixture["expect"]["outcomes"] == ["created", "deleted"]
    assert fixture["expect"]["affiliates"] == []

    assert cli("send", str(saved))[0] == 1
    monkeypatch.undo()
    assert cli("send", str(saved))[0] == 0
