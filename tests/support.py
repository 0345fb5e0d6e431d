"""Helpers the tests share: paths, a fast configuration, the CLI in-process, waiting.

Test modules import helpers from here (fixtures come from conftest.py), never from each other.
The one other helper module, ``tests/browser.py``, stays apart because it imports Playwright,
which only the browser tests need.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from emulator.cli import run
from emulator.config import EmulatorConfig, RefersionCredentials

__all__ = [
    "ABSENT",
    "AUTH",
    "CREDENTIALS",
    "DOC",
    "FIXTURES",
    "FUZZ_NOTES",
    "PASSWORD",
    "ROOT",
    "cli",
    "doc_event",
    "examples",
    "fast_config",
    "new_body",
    "until",
    "write",
]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# Segment's documented identify example for the Refersion destination, as a fixture.
DOC = FIXTURES / "segment-docs" / "refersion-destination-identify.json"
FUZZ_NOTES = pytest.StashKey[list[str]]()
"""Lines the fuzz tests add (cases tried); printed in the terminal summary."""

# The fake Refersion account the core tests talk to, and a valid affiliate/new body for it.
CREDENTIALS = RefersionCredentials(public_key="pub_test0000000000", secret_key="sec_test0000000000")
AUTH = {
    "Refersion-Public-Key": CREDENTIALS.public_key,
    "Refersion-Secret-Key": CREDENTIALS.secret_key,
}
PASSWORD = "Secure!Pass1"
ABSENT: Any = object()
"""Passed to :func:`new_body` for a field to leave out."""


def new_body(**changes: Any) -> dict[str, Any]:
    """An affiliate/new body that passes every rule, with ``changes`` (``ABSENT`` drops one)."""
    body: dict[str, Any] = {
        "first_name": "Bill",
        "last_name": "Smith",
        "email": "bill@example.com",
        "password": PASSWORD,
        "status": "ACTIVE",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ABSENT}


_FAST = EmulatorConfig(
    port=0, retry_initial_backoff=0.01, retry_max_backoff=0.05, retry_budget=1.0, seed=7
)


def examples(full: int) -> int:
    """A test's own Hypothesis example count; under `make quick`, the quick profile's."""
    if os.environ.get("HYPOTHESIS_PROFILE") == "quick":
        return min(full, settings().max_examples)
    return full


def fast_config(**overrides: Any) -> EmulatorConfig:
    """Real HTTP on port 0, with a retry schedule short enough for tests."""
    return dataclasses.replace(_FAST, **overrides)


def doc_event(fixture: str, index: int = 0) -> dict[str, Any]:
    """Event ``index`` of a fixture under ``fixtures/``, as a fresh dict.

    The documentation examples (``segment-docs/…``, ``refersion-docs/…``) live there once,
    with their sources; tests read them instead of keeping copies.
    """
    event: dict[str, Any] = json.loads((FIXTURES / fixture).read_text())["events"][index]
    return event


def cli(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        # `send -` reads bytes from sys.stdin.buffer.
        original = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        try:
            code = run(list(argv), stdout=out, stderr=err)
        finally:
            sys.stdin = original
    else:
        code = run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, payload: Any) -> str:
    """``payload`` (text, or JSON-encoded) as ``tmp_path/name``; returns the path."""
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return str(path)


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait for ``condition()`` to hold, checking between turns of the event loop."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)
