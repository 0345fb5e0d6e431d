"""Where one end-to-end run's time goes, by component: a cProfile of ``serve`` under load.

    .venv/bin/python benchmarks/profile_e2e.py [--events 6000] [--top 25]

Runs the emulator in this process (as ``serve`` does: default configuration, its event loop,
the serving garbage-collector settings) under cProfile while the benchmark's load client, in its own
process, posts batches of 100 identifies; stops when every affiliate exists. Each function's
own time (cProfile's ``tottime``) is charged to the component its code lives in; the time of
a builtin or standard-library function (``zlib.compress``, ``sqlite3``, ``isinstance``) is
charged to the components that called it, in proportion to the time each call site spent in
it (up to four calls up), so the shares add up to the profiled time. cProfile slows Python
calls more than C code, so the shares lean towards Python-heavy parts; they say where the
cost is, not what it would be without the profiler.
With ``--relay`` the same load goes through the relay ceiling (relay_server.py) instead: the
HTTP the design requires, profiled the same way. Not a test: it prints figures, asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import relay_server  # noqa: E402
from bench import identify_batches  # noqa: E402

from emulator.commands import event_loop  # noqa: E402

# First match wins: (component, substrings of the code's file or a C function's name).
COMPONENTS: list[tuple[str, tuple[str, ...]]] = [
    ("contracts", ("emulator/contract_checks", "jsonschema_rs", "jsonschema")),
    ("journal", ("emulator/journal",)),
    ("fake Refersion (store, rules)", ("emulator/fake_refersion",)),
    ("mapping", ("emulator/destination/mapping",)),
    ("email syntax (email_validator, idna)", ("email_validator", "idna/")),
    ("destination adapter", ("emulator/destination",)),
    ("Segment ingest + delivery bookkeeping", ("emulator/segment",)),
    ("JSON codec", ("emulator/json_limits", "/json/", "_json", "json.")),
    ("other emulator code", ("emulator/",)),
    ("HTTP (aiohttp, yarl, multidict)", ("aiohttp", "yarl", "multidict")),
    ("event loop + sockets", ("asyncio", "selectors", "socket", "select.epoll", "uvloop")),
]


OTHER = "other (stdlib, builtins)"
Func = tuple[str, int, str]


def component_of(file: str, name: str) -> str:
    where = f"{file}:{name}"
    for component, needles in COMPONENTS:
        if any(needle in where for needle in needles):
            return component
    return OTHER


def shares(stats: dict[Func, Any], func: Func, depth: int = 0) -> dict[str, float]:
    """Which components ``func``'s own time belongs to, as fractions that add up to 1."""
    own = component_of(func[0], func[2])
    callers = stats[func][4]
    if own != OTHER or depth == 4 or not callers:
        return {own: 1.0}
    # callers: {caller: (primitive calls, calls, own time, cumulative time)} under this caller
    weights = {caller: timing[3] for caller, timing in callers.items()}
    total = sum(weights.values())
    if total <= 0:
        return {own: 1.0}
    found: dict[str, float] = defaultdict(float)
    for caller, weight in weights.items():
        if caller in stats:
            for component, part in shares(stats, caller, depth + 1).items():
                found[component] += part * weight / total
    return found or {own: 1.0}


async def load(url: str, events: int, done: Callable[[], int]) -> float:
    """Post ``events`` identifies to ``url`` from the load client; seconds until ``done``."""
    bodies = identify_batches(events // 100)
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        handle.write(b"\n".join(bodies) + b"\n")
    started = time.perf_counter()
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "load_client.py"),
        f"{url}/v1/batch",
        handle.name,
        "8",
        stdout=subprocess.DEVNULL,
    )
    await client.wait()
    while done() < events:
        await asyncio.sleep(0.02)
    Path(handle.name).unlink()
    return time.perf_counter() - started


async def drive(events: int) -> float:
    from emulator.config import EmulatorConfig
    from emulator.server.emulator import Emulator
    from emulator.server.gc_tuning import tune_for_serving

    async with Emulator(EmulatorConfig(port=0)) as emulator:
        tune_for_serving()
        return await load(emulator.url, events, emulator.runtime.store.count)


async def drive_relay(events: int) -> float:
    async with relay_server.running() as (url, state):
        return await load(url, events, lambda: int(state["done"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--relay", action="store_true", help="profile the relay ceiling instead of the emulator"
    )
    args = parser.parse_args()
    profiler = cProfile.Profile()
    profiler.enable()
    elapsed = event_loop.run((drive_relay if args.relay else drive)(args.events))
    profiler.disable()
    stats: dict[Func, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by_component: dict[str, float] = defaultdict(float)
    rows = []
    for func, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        parts = shares(stats, func)
        for component, part in parts.items():
            by_component[component] += tottime * part
        main_part = max(parts, key=lambda component: parts[component])
        rows.append((tottime, f"{Path(func[0]).name}:{func[1]}:{func[2]}", main_part))
    total = sum(by_component.values())
    print(f"{args.events} events in {elapsed:.2f} s under the profiler; profiled {total:.2f} s")
    print(f"{'component':<40} {'s':>7} {'share':>6} {'µs/event':>9}")
    for component, seconds in sorted(by_component.items(), key=lambda kv: -kv[1]):
        per_event = seconds / args.events * 1e6
        print(f"{component:<40} {seconds:>7.2f} {seconds / total:>6.1%} {per_event:>9.0f}")
    print(f"\ntop {args.top} functions by own time:")
    for tottime, where, component in sorted(rows, reverse=True)[: args.top]:
        print(f"{tottime:>7.3f} s  {where:<60} {component}")


if __name__ == "__main__":
    main()
