"""A client sending faster than the pipeline delivers waits for room instead of growing memory."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator.config import EmulatorConfig
from emulator.errors import ConfigError
from emulator.faults.specs import parse_fault_spec
from emulator.server.emulator import Emulator
from tests.support import fast_config


def identify(user_id: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user_id,
        "traits": {"name": "Peter Gibbons", "email": f"{user_id}@example.com"},
    }


async def post_batch(http: aiohttp.ClientSession, emu: Emulator, users: list[str]) -> list[str]:
    body = {"writeKey": "wk", "batch": [identify(user) for user in users]}
    async with http.post(f"{emu.url}/v1/batch", json=body) as resp:
        assert resp.status == 200
        return resp.headers["X-Emulator-Trace-Ids"].split(",")


async def test_a_batch_waits_until_the_backlog_is_under_the_limit(
    http: aiohttp.ClientSession,
) -> None:
    # One worker and a slow destination: deliveries take 0.1 s each.
    slow = parse_fault_spec("destination=latency:0.1")
    config = fast_config(delivery_workers=1, delivery_backlog=2, faults=(slow,))
    async with Emulator(config) as emu:
        first = await post_batch(http, emu, [f"a{n}" for n in range(5)])
        await post_batch(http, emu, ["b0"])
        # Admitted with at most one of the first five still queued: the worker had taken at
        # least four, so at least three were delivered.
        journal = emu.runtime.journal
        finished = [tid for tid in first if (trace := journal.get(tid)) and trace.final]
        assert len(finished) >= 3
        async with http.post(f"{emu.url}/_emulator/flush") as resp:
            assert (await resp.json())["idle"] is True
        assert emu.runtime.store.count() == 6


async def test_retries_waiting_for_their_time_do_not_hold_the_tracking_api(
    http: aiohttp.ClientSession,
) -> None:
    down = parse_fault_spec("destination=503")
    config = fast_config(
        delivery_backlog=1, faults=(down,), retry_initial_backoff=60.0, retry_budget=600.0
    )
    async with Emulator(config) as emu:
        ids = await post_batch(http, emu, ["a", "b", "c"])
        traces = [trace for tid in ids if (trace := emu.runtime.journal.get(tid))]
        assert await emu.runtime.pipeline.wait_settled(traces, timeout=10.0)
        assert {trace.outcome for trace in traces} == {"retrying"}  # each waits a minute
        await post_batch(http, emu, ["d"])
        assert emu.runtime.pipeline.outstanding == 4


def test_the_backlog_limit_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="delivery_backlog must be at least 1, got 0"):
        EmulatorConfig(delivery_backlog=0)
