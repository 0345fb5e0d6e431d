"""The published @segment/analytics-node client, run with the machine's Node.js.

``clients/node/send.mjs`` drives the client unmodified but for its host; ``make`` installs it
from ``clients/node/package-lock.json`` with ``npm ci``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from emulator.server.background import BackgroundEmulator
from tests.support import ROOT

pytestmark = pytest.mark.client

CLIENT = ROOT / "clients" / "node"
INSTALLED = CLIENT / "node_modules" / "@segment" / "analytics-node" / "package.json"


def node_client() -> str:
    """The node executable, once the client is installed; a clear failure otherwise."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; the analytics-node test needs Node.js 20 or newer")
    if not INSTALLED.exists():
        pytest.fail("analytics-node is not installed: run `make node-client`")
    return node


def send_with_node(emu: BackgroundEmulator, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Run the calls through analytics-node; return what the client saw."""
    done = subprocess.run(
        [node_client(), "send.mjs", emu.segment_host, "node-write-key"],
        cwd=CLIENT,
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


def test_this_is_the_pinned_release() -> None:
    node_client()
    assert json.loads(INSTALLED.read_text())["version"] == "3.1.0"


def test_identify_becomes_an_affiliate_and_track_is_filtered(
    refersion_emulator: BackgroundEmulator,
) -> None:
    traits = {"name": "Nora Node", "email": "nora@example.com", "company": {"name": "Initech"}}
    seen = send_with_node(
        refersion_emulator,
        [
            {"method": "identify", "args": {"userId": "node-1", "traits": traits}},
            {"method": "track", "args": {"userId": "node-1", "event": "Order Completed"}},
        ],
    )
    assert seen == {"requests": 1, "statuses": [200], "errors": [], "callbacks": [None, None]}
    refersion_emulator.assert_affiliate(
        "nora@example.com", first_name="Nora", last_name="Node", company="Initech"
    )
    refersion_emulator.flush()
    events = refersion_emulator.events()
    outcomes = {e["type"]: (e["outcome"], e["reason"]) for e in events}
    assert outcomes == {
        "identify": ("created", None),
        "track": ("filtered", "UNSUPPORTED_EVENT_TYPE"),
    }
    assert events[0]["message"]["context"]["library"]["name"] == "@segment/analytics-node"
    refersion_emulator.assert_no_unexpected_calls()


def test_an_oversize_event_is_refused_and_not_retried(
    refersion_emulator: BackgroundEmulator,
) -> None:
    """analytics-node's own 32 KB check counts escapes, not bytes, so it lets 40 KB through.

    The Tracking API refuses the request with 400; the client reads only the status, reports
    the failure to the caller, and does not retry a 4xx.
    """
    traits = {"email": "big@example.com", "notes": "x" * 40_000}
    seen = send_with_node(
        refersion_emulator, [{"method": "identify", "args": {"userId": "n", "traits": traits}}]
    )
    assert seen["requests"] == 1
    assert seen["statuses"] == [400]
    assert seen["callbacks"] == ["Error: [400] Bad Request"]
    assert [e["code"] for e in seen["errors"]] == ["delivery_failure"]
    assert refersion_emulator.events() == []
