"""The benchmark suite: one figure per line (``name value unit``), and the same as JSON.

Every throughput figure is paired with a baseline measured in the same run on the same
machine, so the ratio holds on a noisy machine::

    python benchmarks/bench.py                 # everything (a few minutes)
    python benchmarks/bench.py --quick         # smaller loads, for a smoke run
    python benchmarks/bench.py --only startup,contracts

See BENCHMARKS.md for what each figure means and the latest results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Load:
    """How much each benchmark does: ``full`` for figures, ``quick`` and ``smoke`` to try it."""

    startup_runs: int
    batches: int  # of 100 identifies, for throughput
    latency_seconds: int
    contract_instances: int
    memory_events: int
    check_examples: int


LOADS = {
    "full": Load(7, 60, 5, 20_000, 100_000, 200),
    "quick": Load(3, 20, 2, 2_000, 10_000, 50),
    # Only proves every figure still comes out (the CI test); the figures mean nothing.
    "smoke": Load(1, 2, 1, 200, 200, 2),
}


@dataclass
class Results:
    figures: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str) -> None:
        self.figures.append({"name": name, "value": round(value, 4), "unit": unit})
        print(f"{name} {value:.4g} {unit}", flush=True)


@contextmanager
def server(command: list[str]) -> Iterator[tuple[str, int]]:
    """Start a server process that prints its URL as the last word of its first line."""
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        wait_healthy(url)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def emulator_command(*extra: str) -> list[str]:
    return [PYTHON, "-m", "emulator", "serve", "--port", "0", *extra]


def bare_command() -> list[str]:
    return [PYTHON, str(HERE / "bare_server.py")]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def wait_healthy(url: str, timeout: float = 20.0) -> float:
    started = time.perf_counter()
    while True:
        try:
            get_json(f"{url}/_emulator/health")
            return time.perf_counter() - started
        except OSError:
            if time.perf_counter() - started > timeout:
                raise
            time.sleep(0.002)


def identify_batches(batches: int, per_batch: int = 100) -> list[bytes]:
    bodies = []
    for b in range(batches):
        items = [
            {
                "type": "identify",
                "userId": f"user-{b}-{i}",
                "traits": {
                    "name": "Peter Gibbons",
                    "email": f"peter.{b}.{i}@example.com",
                    "plan": "premium",
                    "address": {
                        "street": "6th St",
                        "city": "San Francisco",
                        "state": "CA",
                        "postalCode": "94103",
                        "country": "USA",
                    },
                },
            }
            for i in range(per_batch)
        ]
        bodies.append(json.dumps({"writeKey": "bench", "batch": items}).encode())
    return bodies


def run_load(url: str, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    """Post every body once to ``url`` from a load client in its own process."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        handle.write(b"\n".join(bodies) + b"\n")
        path = handle.name
    try:
        out = subprocess.run(
            [PYTHON, str(HERE / "load_client.py"), url, path, str(concurrency)],
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
    finally:
        os.unlink(path)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def wait_for(predicate: Callable[[], bool], timeout: float) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("benchmark load did not finish in time")
        # Not faster: each poll asks the server to count affiliates, which is work it is
        # not doing for the load being measured.
        time.sleep(0.05)
    return time.perf_counter() - started


def machine() -> dict[str, Any]:
    """The machine the figures were measured on, for the JSON report and BENCHMARKS.md."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "load_average": os.getloadavg(),
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


# ---- the benchmarks ------------------------------------------------------------------------


def bench_startup(results: Results, load: Load) -> None:
    runs = load.startup_runs
    # An installed package has its bytecode compiled (pip does it; so does a first run unless
    # PYTHONDONTWRITEBYTECODE is set), as aiohttp's has for the baseline: time that case.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "emulator")], check=True)

    def median_start(command: list[str]) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            with server(command):
                times.append(time.perf_counter() - started)
        return statistics.median(times)

    emulator = median_start(emulator_command())
    bare = median_start(bare_command())
    results.add("startup.emulator", emulator, "s")
    results.add("startup.bare_aiohttp", bare, "s")
    results.add("startup.ratio", emulator / bare, "x")


def relay_command() -> list[str]:
    return [PYTHON, str(HERE / "relay_server.py")]


def single_identifies(count: int) -> list[bytes]:
    """One identify per body, the same events as the batches carry."""
    return [
        json.dumps({"writeKey": "bench", **item}).encode()
        for body in identify_batches(count // 100 + 1)
        for item in json.loads(body)["batch"]
    ][:count]


def events_per_s(command: list[str], bodies: list[bytes], total: int) -> float:
    """Events through a server until its health counts ``total`` affiliates, per second."""
    with server(command) as (url, _):
        started = time.perf_counter()
        run_load(f"{url}/v1/batch", bodies, concurrency=8)
        wait_for(lambda: get_json(f"{url}/_emulator/health")["affiliates"] >= total, 600)
        rate = total / (time.perf_counter() - started)
        health = get_json(f"{url}/_emulator/health")
    # The relay reports its Refersion-side exchanges: a ceiling that skipped one is no ceiling.
    if health.get("refersionCalls", total) != total:
        raise SystemExit(f"the relay made {health['refersionCalls']} of {total} Refersion calls")
    return rate


def bench_throughput(results: Results, load: Load) -> None:
    bodies = identify_batches(load.batches)
    total = load.batches * 100
    # The relay before and after the emulator, so a change in the machine's load shows.
    before = events_per_s(relay_command(), bodies, total)
    emulator = events_per_s(emulator_command(), bodies, total)
    after = events_per_s(relay_command(), bodies, total)
    relay = (before + after) / 2
    with server(bare_command()) as (url, _):
        # It answers in well under a millisecond: the same events five times over keep the
        # window seconds long, not a blip a neighbour's burst can swallow.
        single = run_load(f"{url}/v1/identify", single_identifies(total) * 5, concurrency=8)
    single_rps = single["requests"] / single["seconds"]
    results.add("throughput.relay_ceiling", relay, "events/s")
    results.add("throughput.relay_ceiling.spread", abs(before - after) / relay, "x")
    results.add("throughput.affiliates", emulator, "affiliates/s")
    results.add("throughput.ratio_to_relay", emulator / relay, "x")
    results.add("throughput.single_request", single_rps, "requests/s")
    results.add("throughput.ratio_to_single_request", emulator / single_rps, "x")


def bench_latency(results: Results, load: Load) -> None:
    rate, seconds = 100, load.latency_seconds

    async def drive(url: str) -> None:
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            start = loop.time()
            for n in range(rate * seconds):
                # On a fixed schedule, so a slow answer does not lower the rate.
                await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
                body = {
                    "writeKey": "bench",
                    "userId": f"lat-{n}",
                    "traits": {"name": "Ada Lovelace", "email": f"ada.{n}@example.com"},
                }
                async with session.post(f"{url}/v1/identify", json=body) as resp:
                    await resp.read()
            async with session.post(f"{url}/_emulator/flush") as resp:
                await resp.read()

    with server(emulator_command()) as (url, _):
        asyncio.run(drive(url))
        events = get_json(f"{url}/_emulator/events?full=1&limit=10000")["events"]
    latencies = []
    for event in events:
        # Hop times are the server's own clock: acceptance (ingest) to Refersion's answer
        # having been relayed (the affiliate exists by then).
        at = {hop["name"]: datetime.fromisoformat(hop["at"]) for hop in event["hops"]}
        if "ingest" in at and "answer" in at:
            latencies.append((at["answer"] - at["ingest"]).total_seconds() * 1000)
    latencies.sort()
    results.add("latency.p50", latencies[len(latencies) // 2], "ms")
    results.add("latency.p99", latencies[int(len(latencies) * 0.99)], "ms")


def rate(check: Callable[[Any], object], items: list[Any]) -> float:
    """Calls per second of ``check`` over ``items``."""
    started = time.perf_counter()
    for item in items:
        check(item)
    return len(items) / (time.perf_counter() - started)


def hot_path_instances(count: int) -> dict[str, list[Any]]:
    """``count`` distinct valid instances of each contract an identify meets on its way."""
    bodies = identify_batches(count // 100 + 1)
    items = [item for body in bodies for item in json.loads(body)["batch"]][:count]
    enriched = {"receivedAt": "2026-01-01T00:00:00.000Z", "version": 2}
    messages = [item | enriched | {"messageId": f"m-{n}"} for n, item in enumerate(items)]
    requests = [
        {
            "first_name": "Peter",
            "last_name": "Gibbons",
            "email": message["traits"]["email"],
            "password": "Aa1!Bb2@Cc3#Dd4$",
            "status": "PENDING",
            "send_welcome": "FALSE",
            "unique_merchant_id": message["userId"],
            "country": "US",
        }
        for message in messages
    ]
    responses = [
        {
            "id": f"c{n}",
            "link": f"https://emulator.refersion.com/c/c{n}",
            "message": f"The affiliate {n} has been created with the status of PENDING.",
        }
        for n in range(count)
    ]
    answers = [
        {"message": "Affiliate created", "outcome": "created", "affiliate": response}
        for response in responses
    ]
    return {
        "segment/message": messages,
        "segment/identify": messages,
        "refersion/affiliate-new.request": requests,
        "refersion/affiliate-new.response": responses,
        "destination/response": answers,
    }


def bench_contracts(results: Results, load: Load) -> None:
    from emulator.contract_checks.contract_set import ContractSet

    contracts = ContractSet.load()
    reference = contracts.reference()
    count = load.contract_instances
    for name, instances in hot_path_instances(count).items():
        # The reference goes first, on a tenth: email verdicts are remembered, so the fast
        # path is timed on addresses nobody has checked yet, as an event's first check is.
        sample, unseen = instances[: count // 10], instances[count // 10 :]
        slow = rate(functools.partial(reference.validate, name), sample)
        ours = rate(functools.partial(contracts.validate, name), unseen)
        assert not any(contracts.validate(name, instance) for instance in instances)
        # Baseline: serialising the same instance, a cost every hop pays anyway.
        dumps = rate(json.dumps, instances)
        results.add(f"contracts.{name}", ours, "validations/s")
        results.add(f"contracts.{name}.jsonschema_reference", slow, "validations/s")
        results.add(f"contracts.{name}.json_dumps_baseline", dumps, "ops/s")
        results.add(f"contracts.{name}.ratio", ours / dumps, "x")


def bench_memory(results: Results, load: Load) -> None:
    events = load.memory_events
    bodies = identify_batches(events // 100)
    with tempfile.TemporaryDirectory() as tmp:
        modes = [("cap", []), ("journal", ["--journal", str(Path(tmp) / "bench.db")])]
        for mode, extra in modes:
            with server(emulator_command(*extra)) as (url, pid):
                started = time.perf_counter()
                run_load(f"{url}/v1/batch", bodies, concurrency=8)
                wait_for(lambda: get_json(f"{url}/_emulator/health")["pending"] == 0, 3600)
                elapsed = time.perf_counter() - started
                created = get_json(f"{url}/_emulator/health")["affiliates"]
                if created != events:
                    raise SystemExit(f"memory.{mode}: {created} of {events} affiliates created")
                results.add(f"memory.peak_rss.{mode}", peak_rss_mb(pid), "MB")
                results.add(f"memory.affiliates_per_s.{mode}", events / elapsed, "affiliates/s")
    with server(bare_command()) as (url, pid):
        run_load(f"{url}/v1/batch", bodies[:100], concurrency=8)
        results.add("memory.peak_rss.bare_aiohttp", peak_rss_mb(pid), "MB")


def bench_check(results: Results, load: Load) -> None:
    """``check`` examples/s vs generating the same strategies alone, via bench_check.py.

    For each stateless property, the cost of one example is timed both ways (same seed and
    settings); the figures are over one example of each property, so no property weighs more
    because it draws faster. Prints one line saying it was skipped when ``check`` or
    benchmarks/bench_check.py is not there.
    """
    try:
        # Looked up by name: both come with the property-based checking work.
        bench_check = importlib.import_module("bench_check")
        check = importlib.import_module("emulator.check")
    except ImportError as exc:
        print(f"# check skipped: the check command is not available here ({exc})", flush=True)
        results.skipped.append({"name": "check", "reason": str(exc)})
        return
    options = check.CheckOptions(examples=load.check_examples, seed=1)
    gen_wall = gen_cpu = e2e_wall = e2e_cpu = 0.0
    properties = [prop for prop in check.PROPERTIES if isinstance(prop, check.Property)]
    for prop in properties:
        gen = bench_check.generate_only(prop, options)
        e2e = bench_check.end_to_end(prop, options)
        gen_wall, gen_cpu = gen_wall + gen.wall_each, gen_cpu + gen.cpu_each
        e2e_wall, e2e_cpu = e2e_wall + e2e.wall_each, e2e_cpu + e2e.cpu_each
    results.add("check.generation_only", len(properties) / gen_wall, "examples/s")
    results.add("check.end_to_end", len(properties) / e2e_wall, "examples/s")
    results.add("check.ratio", gen_wall / e2e_wall, "x")
    results.add("check.ratio_cpu", gen_cpu / e2e_cpu, "x")


BENCHMARKS: dict[str, Callable[[Results, Load], None]] = {
    "startup": bench_startup,
    "contracts": bench_contracts,
    "throughput": bench_throughput,
    "latency": bench_latency,
    "memory": bench_memory,
    "check": bench_check,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads")
    parser.add_argument("--smoke", action="store_true", help="tiny loads: proves it runs")
    parser.add_argument("--only", help="comma-separated subset of " + ", ".join(BENCHMARKS))
    parser.add_argument("--json", default=str(ROOT / "reports" / "benchmarks.json"))
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(BENCHMARKS)
    load = LOADS["smoke" if args.smoke else "quick" if args.quick else "full"]
    results = Results()
    for name in chosen:
        BENCHMARKS[name](results, load)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "figures": results.figures, "skipped": results.skipped}
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
