"""``refersion-emulator check``: property-based contract verification with generated events."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import IO

from emulator.assumptions import ASSUMPTIONS, AssumptionChoices
from emulator.check import PROPERTY_NAMES, CheckOptions, CheckReport
from emulator.check.counterexample import write_fixture
from emulator.check.variants import AcrossReport, not_checked, plan_variant_runs
from emulator.commands import event_loop
from emulator.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    add_emulator_options,
    config_from_args,
    hypothesis_storage,
    mapping_from_args,
)
from emulator.destination.mapping import Mapping as MappingFn
from emulator.errors import InputError
from emulator.journal.rendering import Style

__all__ = ["HELP", "NAME", "add_arguments", "print_report", "run", "run_report"]

NAME = "check"
HELP = "verify the destination's contracts with generated events (property-based)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Send generated identify and delete events through the Segment side, the destination "
        "and Refersion, and check every invariant. --seed also fixes the generated events: the "
        "same seed sends the same events. Without --destination-url/--refersion-url the "
        "emulator's own destination and fake Refersion are checked."
    )
    add_emulator_options(parser)
    parser.add_argument(
        "--examples",
        type=int,
        default=100,
        help="generated examples per property (default 100); invalid_turned_away also "
        "checks the simplest event breaking each rule first",
    )
    parser.add_argument(
        "--property",
        action="append",
        choices=PROPERTY_NAMES,
        dest="properties",
        help="check only this property (repeatable; default all)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="port of the emulator's own fake Refersion, for a receiver under test to call "
        "(default: any free port)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    parser.add_argument(
        "--save-failures",
        metavar="DIR",
        help="write each shrunk counterexample as a fixture file that send replays",
    )
    parser.add_argument(
        "--across-assumptions",
        action="store_true",
        help="run the check once per variant of every assumption (refersion-emulator "
        "assumptions) and report which variants the destination survives",
    )
    parser.add_argument(
        "--assume-all",
        action="append",
        metavar="ID",
        help="like --across-assumptions, for this assumption only (repeatable)",
    )


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    if args.across_assumptions or args.assume_all:
        across = run_across(args, stderr=stderr, mapping=mapping_from_args(args))
        if args.json:
            print(across.to_json(), file=stdout)
        else:
            for line in across.lines(Style(color=stdout.isatty())):
                print(line, file=stdout)
        return EXIT_OK if across.passed else EXIT_FAILED
    report = run_report(args, stderr=stderr, mapping=mapping_from_args(args))
    return print_report(report, json_output=args.json, stdout=stdout)


def run_across(
    args: argparse.Namespace, *, stderr: IO[str], mapping: MappingFn | None
) -> AcrossReport:
    """The check once per variant run (the baseline, then each variant switched)."""
    ids = None if args.across_assumptions else args.assume_all
    for assumption_id in ids or ():
        if assumption_id not in ASSUMPTIONS:
            raise InputError(
                f"--assume-all: unknown assumption {assumption_id!r}; known: "
                f"{', '.join(ASSUMPTIONS)}"
            )
    if args.save_failures or args.junit_xml:
        raise InputError(
            "--save-failures and --junit-xml report one run; use --json across assumptions"
        )
    base = config_from_args(args, port=args.port).assumptions_in_force
    runs = []
    for variant_run in plan_variant_runs(base, ids):
        if stderr.isatty():
            print(f"checking {variant_run.label}", file=stderr)
        report = run_report(args, stderr=stderr, mapping=mapping, choices=variant_run.choices)
        runs.append((variant_run, report))
    return AcrossReport(tuple(runs), not_checked(ids))


def run_report(
    args: argparse.Namespace,
    *,
    stderr: IO[str],
    mapping: MappingFn | None,
    choices: AssumptionChoices | None = None,
) -> CheckReport:
    """Run the check ``args`` describe, ``mapping`` (default: the built-in one) in the
    emulator's own destination, under ``choices`` (default: ``--assume``'s); save the
    counterexamples and the JUnit report they ask for."""
    from emulator.server.runners.check_driver import run_check

    if args.examples < 1:
        raise InputError(f"--examples must be at least 1, got {args.examples}")
    config = config_from_args(args, port=args.port)
    if choices is not None:
        config = dataclasses.replace(config, assumptions=choices)
    progress = _Progress(stderr) if stderr.isatty() else None
    # Failing examples are kept (and replayed first next time) in the user's cache directory.
    with hypothesis_storage() as home:
        options = CheckOptions(
            examples=args.examples,
            seed=args.seed,
            properties=tuple(args.properties) if args.properties else PROPERTY_NAMES,
            database=home,
        )
        try:
            report = event_loop.run(run_check(config, options, mapping=mapping, progress=progress))
        finally:
            if progress is not None:
                progress.close()
    if args.save_failures:
        for result in report.results:
            failure = result.failure
            if failure is not None and failure.fixture is not None:
                path = write_fixture(Path(args.save_failures), result.name, failure.fixture)
                failure.saved_to = str(path)
    if args.junit_xml:
        junit = Path(args.junit_xml)
        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
            junit.write_text(report.junit_xml(), encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"{args.junit_xml}: cannot write the JUnit report ({exc.strerror})"
            ) from None
    return report


def print_report(report: CheckReport, *, json_output: bool, stdout: IO[str]) -> int:
    """Print the report as text (or JSON); the exit code: 0 all passed, 1 a failure."""
    if json_output:
        print(report.to_json(), file=stdout)
    else:
        for line in report.lines(Style(color=stdout.isatty())):
            print(line, file=stdout)
    return EXIT_OK if report.passed else EXIT_FAILED


class _Progress:
    """One line per property on a terminal, rewritten as examples run."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._current: str | None = None

    def __call__(self, name: str, done: int, total: int) -> None:
        if self._current is not None and name != self._current:
            self._stream.write("\n")
        self._current = name
        phase = f"{done}/{total}" if done <= total else f"{done} ({done - total} more)"
        self._stream.write(f"\r  {name:<26} example {phase}\x1b[K")
        self._stream.flush()

    def close(self) -> None:
        if self._current is not None:
            self._stream.write("\n")
            self._stream.flush()
