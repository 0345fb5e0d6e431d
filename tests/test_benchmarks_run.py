"""The benchmark still runs and prints every figure with its same-run baseline.

Not a timed test: the loads are tiny (``--smoke``) and no figure's value is judged, only that
each one comes out, as a number, on stdout and in the JSON report, so `make bench` cannot rot
unnoticed between the runs that publish figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each figure BENCHMARKS.md describes; a baseline beside every ratio it is computed from.
FIGURES = [
    "startup.emulator",
    "startup.bare_aiohttp",
    "startup.ratio",
    "throughput.relay_ceiling",
    "throughput.relay_ceiling.spread",
    "throughput.affiliates",
    "throughput.ratio_to_relay",
    "throughput.single_request",
    "throughput.ratio_to_single_request",
    "latency.p50",
    "latency.p99",
    "contracts.segment/identify",
    "contracts.segment/identify.json_dumps_baseline",
    "contracts.segment/identify.ratio",
    "memory.peak_rss.cap",
    "memory.peak_rss.journal",
    "memory.peak_rss.bare_aiohttp",
    "check.generation_only",
    "check.end_to_end",
    "check.ratio",
]


@pytest.mark.slow
def test_bench_smoke_prints_every_figure(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--smoke", "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    printed = {}
    for line in done.stdout.splitlines():
        if not line.startswith("#"):
            name, value, _unit = line.split(" ", 2)
            printed[name] = float(value)
    missing = [name for name in FIGURES if name not in printed]
    assert not missing, f"bench.py --smoke printed no {missing}:\n{done.stdout}"
    written = {
        figure["name"]: figure["value"] for figure in json.loads(report.read_text())["figures"]
    }
    assert set(printed) == set(written)
    # The old ratio of affiliates to batch requests counted different things: it stays gone.
    assert "throughput.ratio" not in printed
