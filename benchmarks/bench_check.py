"""How much the pipeline adds to ``check``: examples/s end to end vs generating the same events.

    .venv/bin/python benchmarks/bench_check.py [--examples 200] [--seed 1]

For each stateless property, in one run: Hypothesis draws the property's strategy with the
same settings and seed and does nothing with the values (generation alone), then ``check``
runs that property against an in-process emulator over loopback HTTP (end to end). Overhead is
(end to end - generation) / generation, measured in CPU seconds of this process (every part
runs in it, so it is the work done, and it does not depend on what else the machine runs) and
in wall seconds, per example. The stateful property is left out: its rules only make sense
with a pipeline.
Not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import given, seed

from emulator.check import PROPERTIES, CheckOptions, Property
from emulator.check.runner import hypothesis_settings
from emulator.commands import event_loop
from emulator.config import EmulatorConfig
from emulator.server.runners.check_driver import run_check


@dataclass(frozen=True)
class Timing:
    examples: int
    cpu: float
    wall: float

    @property
    def cpu_each(self) -> float:
        return self.cpu / self.examples

    @property
    def wall_each(self) -> float:
        return self.wall / self.examples


def generate_only(prop: Property, options: CheckOptions) -> Timing:
    drawn = 0

    @hypothesis_settings(prop.name, options)
    @given(prop.strategy)
    def draw(_value: Any) -> None:
        nonlocal drawn
        drawn += 1

    if options.seed is not None:
        draw = seed(options.seed)(draw)
    cpu, wall = time.process_time(), time.perf_counter()
    draw()
    return Timing(drawn, time.process_time() - cpu, time.perf_counter() - wall)


def end_to_end(prop: Property, options: CheckOptions) -> Timing:
    config = EmulatorConfig(port=0, retry_budget=5.0, retry_initial_backoff=0.05, seed=1)
    chosen = CheckOptions(examples=options.examples, seed=options.seed, properties=(prop.name,))
    cpu, wall = time.process_time(), time.perf_counter()
    report = event_loop.run(run_check(config, chosen))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    [result] = report.results
    if result.failure is not None:
        raise SystemExit(
            f"{prop.name} failed, figures would mean nothing: {result.failure.message}"
        )
    return Timing(result.examples, cpu, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    options = CheckOptions(examples=args.examples, seed=args.seed)
    header = (
        f"{'property':<26} {'gen ex/s':>9} {'e2e ex/s':>9} {'overhead cpu':>13} "
        f"{'overhead wall':>14}"
    )
    print(f"{args.examples} examples per property, seed {args.seed}")
    print(header)
    totals = {"gen_cpu": 0.0, "gen_wall": 0.0, "e2e_cpu": 0.0, "e2e_wall": 0.0}
    for prop in PROPERTIES:
        if not isinstance(prop, Property):
            continue
        gen = generate_only(prop, options)
        e2e = end_to_end(prop, options)
        totals["gen_cpu"] += gen.cpu_each
        totals["gen_wall"] += gen.wall_each
        totals["e2e_cpu"] += e2e.cpu_each
        totals["e2e_wall"] += e2e.wall_each
        print(
            f"{prop.name:<26} {1 / gen.cpu_each:>9.0f} {1 / e2e.cpu_each:>9.0f} "
            f"{_overhead(gen.cpu_each, e2e.cpu_each):>13} "
            f"{_overhead(gen.wall_each, e2e.wall_each):>14}"
        )
    print(
        f"{'all':<26} {'':>9} {'':>9} "
        f"{_overhead(totals['gen_cpu'], totals['e2e_cpu']):>13} "
        f"{_overhead(totals['gen_wall'], totals['e2e_wall']):>14}"
    )
    print(
        "ex/s per CPU second; overhead = (end to end - generation) / generation, per example "
        "(end to end also runs invalid_turned_away's simplest event of each rule)"
    )


def _overhead(generation: float, end_to_end: float) -> str:
    return f"{(end_to_end - generation) / generation:+.0%}"


if __name__ == "__main__":
    main()
