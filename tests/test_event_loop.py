"""serve and check run on uvloop where it is installed, and on asyncio's own loop where not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from emulator.commands import event_loop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_runs_on_uvloop_when_installed() -> None:
    pytest.importorskip("uvloop")
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_runs_on_asyncios_own_loop_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes ``import uvloop`` raise ImportError, as on Windows.
    monkeypatch.setitem(sys.modules, "uvloop", None)
    assert event_loop.run(_loop_module()).startswith("asyncio")
