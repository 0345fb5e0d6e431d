"""Shared fixtures: a running emulator on a free loopback port, and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import HealthCheck, settings

from emulator.server.emulator import Emulator
from tests.support import FUZZ_NOTES, fast_config

# pytester runs users' pytest sessions in-process (the plugin's own tests).
pytest_plugins = ["pytester"]

# "ci" keeps the suite within minutes on two cores; "thorough" is for hunting on demand.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=100, deadline=None)
# `make quick`: every property still runs, on fewer examples; the full suite draws the rest.
settings.register_profile("quick", max_examples=30, deadline=None, derandomize=True)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(fast_config()) as emu:
        yield emu
        assert emu.app_errors == [], "the server hit unhandled exceptions"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    notes = terminalreporter.config.stash.get(FUZZ_NOTES, [])
    if notes:
        terminalreporter.section("fuzzing")
        for line in notes:
            terminalreporter.write_line(line)
